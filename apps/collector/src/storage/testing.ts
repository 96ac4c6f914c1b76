import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';

/** A migrated SQLite database in a fresh temp dir, for specs. */
export async function openTestDatabase(): Promise<{ dataSource: DataSource; dataDir: string; close(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'rounds-storage-'));
  // A missing nested directory, so every spec also exercises "created with its dir".
  const dataDir = join(root, 'data', 'collector');
  const dataSource = createDataSource({ dataDir });
  await dataSource.initialize();
  return {
    dataSource,
    dataDir,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await rm(root, { recursive: true, force: true });
    },
  };
}
