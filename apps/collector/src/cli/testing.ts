import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDataSource } from '../storage/data-source.js';

/** The real `rounds-collector` binary; specs run from dist/apps/collector/src/…, the bin is at the repository root. */
export const COLLECTOR_BIN = fileURLToPath(new URL('../../../../../bin/rounds-collector.js', import.meta.url));

export interface CliRun {
  code: number;
  /** stdout then stderr. */
  output: string;
}

/**
 * Runs the real CLI against `dataDir` with a minimal environment (plus `env`), `stdin` as its
 * input; resolves with its exit code and everything it printed.
 */
export function runCollectorCli(dataDir: string, args: readonly string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [COLLECTOR_BIN, ...args],
      { env: { PATH: process.env['PATH'], NO_COLOR: '1', ROUNDS_DATA_DIR: dataDir, ROUNDS_LOG_LEVEL: 'error', ...options.env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

/** Reads the database in `dataDir` as someone with the file would, after the CLI has closed it. */
export async function queryDataDir<T>(dataDir: string, sql: string): Promise<T[]> {
  const dataSource = await createDataSource({ dataDir }).initialize();
  try {
    return await dataSource.query<T[]>(sql);
  } finally {
    await dataSource.destroy();
  }
}
