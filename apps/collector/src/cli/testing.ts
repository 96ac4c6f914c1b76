import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDataSource, type DataSourceConfig } from '../storage/data-source.js';

/** The real `rounds-collector` binary; specs run from dist/apps/collector/src/…, the bin is at the repository root. */
export const COLLECTOR_BIN = fileURLToPath(new URL('../../../../../bin/rounds-collector.js', import.meta.url));

export interface CliRun {
  code: number;
  /** stdout then stderr. */
  output: string;
}

/** A data dir (SQLite), or a test database's environment (storage/testing.ts: SQLite or PostgreSQL). */
export type CliDatabase = string | { env: Record<string, string> };

/**
 * Runs the real CLI against `database` with a minimal environment (plus `env`), `stdin` as its
 * input; resolves with its exit code and everything it printed.
 */
export function runCollectorCli(
  database: CliDatabase,
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliRun> {
  const databaseEnv = typeof database === 'string' ? { ROUNDS_DATA_DIR: database } : database.env;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [COLLECTOR_BIN, ...args],
      { env: { PATH: process.env['PATH'], NO_COLOR: '1', ...databaseEnv, ROUNDS_LOG_LEVEL: 'error', ...options.env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

/** Reads the database as someone with the file (or the PostgreSQL URL) would, after the CLI has closed it. */
export async function queryDatabase<T>(database: DataSourceConfig, sql: string): Promise<T[]> {
  const dataSource = await createDataSource(database).initialize();
  try {
    return await dataSource.query<T[]>(sql);
  } finally {
    await dataSource.destroy();
  }
}
