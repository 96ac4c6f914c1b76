import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSource, type DataSourceConfig } from './data-source.js';
import { SECRET_KEY_FILE_NAME } from './secret-key.store.js';
import { portableQuery } from './transaction.js';

/**
 * Which database the specs run on: SQLite unless ROUNDS_TEST_DATABASE=postgres, then a fresh
 * database per spec on the server in ROUNDS_TEST_POSTGRES_URL (test/run.sh starts one for the
 * PostgreSQL pass: test/peers/postgres.ts). Test helpers are the one place besides config/env.ts
 * that read the environment, because it is the test run's, not the collector's.
 */
export const TEST_ON_POSTGRES = process.env['ROUNDS_TEST_DATABASE'] === 'postgres';

/** For `test(name, { skip: sqliteOnly('why') }, …)`: the reason is printed beside the skipped test on PostgreSQL. */
export function sqliteOnly(reason: string): string | false {
  return TEST_ON_POSTGRES && `SQLite only: ${reason}`;
}

/** For `test(name, { skip: postgresOnly('why') }, …)`: what only PostgreSQL has (several collectors sharing it); skipped on SQLite, saying why. */
export function postgresOnly(reason: string): string | false {
  return !TEST_ON_POSTGRES && `PostgreSQL only: ${reason}`;
}

function postgresServerUrl(): string {
  const url = process.env['ROUNDS_TEST_POSTGRES_URL'];
  if (!url) {
    throw new Error(
      'ROUNDS_TEST_DATABASE=postgres needs a server: set ROUNDS_TEST_POSTGRES_URL to a superuser URL ' +
        '(start one with `node dist/test/peers/postgres.js start`; test/run.sh does this for its PostgreSQL pass)',
    );
  }
  return url;
}

async function onServer<T>(server: string, work: (admin: DataSource) => Promise<T>): Promise<T> {
  const admin = await new DataSource({ type: 'postgres', url: server }).initialize();
  try {
    return await work(admin);
  } finally {
    await admin.destroy();
  }
}

export interface TestDatabaseHandle {
  /** What opens this database again in this process (createDataSource); `env` does it for a CLI or collector process. */
  config: DataSourceConfig;
  /** ROUNDS_DATA_DIR and, on PostgreSQL, ROUNDS_DATABASE_URL and the key file for a collector process on this database. */
  env: Record<string, string>;
  dataDir: string;
  /** Drops the database (PostgreSQL) and removes the temp dir. */
  dispose(): Promise<void>;
}

/**
 * An empty database for one spec (not opened, not migrated) with a temp dir: SQLite's file lives in
 * the dir; PostgreSQL's database gets a random name on the test server, its key file in the dir.
 * `postgresServer`: on that PostgreSQL server whatever the pass, for what only PostgreSQL has
 * (several collectors sharing one database: test/e2e/ha.e2e.spec.ts).
 */
export async function makeTestDatabase(prefix = 'rounds-storage-', postgresServer?: string): Promise<TestDatabaseHandle> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  // A missing nested directory, so every spec also exercises "created with its dir".
  const dataDir = join(root, 'data', 'collector');
  if (!TEST_ON_POSTGRES && !postgresServer) {
    return { config: { dataDir }, env: { ROUNDS_DATA_DIR: dataDir }, dataDir, dispose: () => rm(root, { recursive: true, force: true }) };
  }
  const server = postgresServer ?? postgresServerUrl();
  const name = `rounds_test_${randomBytes(6).toString('hex')}`;
  await onServer(server, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  // The key where SQLite's would be, so specs that rotate or read it find it in one place.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const keyFile = join(dataDir, SECRET_KEY_FILE_NAME);
  return {
    config: { postgresUrl: url.href, secretKey: { file: keyFile } },
    env: { ROUNDS_DATA_DIR: dataDir, ROUNDS_DATABASE_URL: url.href, ROUNDS_SECRET_KEY_FILE: keyFile },
    dataDir,
    async dispose() {
      await onServer(server, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A migrated database (SQLite, or PostgreSQL under ROUNDS_TEST_DATABASE=postgres) in a fresh temp dir, for specs. */
export async function openTestDatabase(): Promise<{
  dataSource: DataSource;
  dataDir: string;
  config: DataSourceConfig;
  env: Record<string, string>;
  /** A spec's own SQL, `?` bound in order on either dialect (storage/transaction.ts portableQuery). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}> {
  const handle = await makeTestDatabase();
  const dataSource = createDataSource(handle.config);
  try {
    await dataSource.initialize();
  } catch (e) {
    await handle.dispose();
    throw e;
  }
  return {
    dataSource,
    dataDir: handle.dataDir,
    config: handle.config,
    env: handle.env,
    query: (sql, params = []) => portableQuery(dataSource, dataSource.manager, sql, params),
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await handle.dispose();
    },
  };
}

/**
 * Makes `table` refuse every `operation` with `message` (a trigger, in either dialect), so a spec
 * can fail a transaction part-way; the returned function lifts the refusal.
 */
export async function refuseWrites(
  dataSource: DataSource,
  table: string,
  operation: 'INSERT' | 'UPDATE' | 'DELETE',
  message: string,
): Promise<() => Promise<void>> {
  const name = `refuse_${table}_${operation.toLowerCase()}`;
  if (dataSource.options.type === 'postgres') {
    await dataSource.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$`);
    await dataSource.query(`CREATE TRIGGER ${name} BEFORE ${operation} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
    return async () => {
      await dataSource.query(`DROP FUNCTION ${name}() CASCADE`);
    };
  }
  await dataSource.query(`CREATE TRIGGER ${name} BEFORE ${operation} ON ${table} BEGIN SELECT RAISE(ABORT, '${message}'); END`);
  return async () => {
    await dataSource.query(`DROP TRIGGER ${name}`);
  };
}

/** The collector's tables (the migrations' bookkeeping included), by name. */
export async function tableNames(dataSource: DataSource): Promise<string[]> {
  const rows: { name: string }[] = await dataSource.query(
    dataSource.options.type === 'postgres'
      ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY name'
      : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  return rows.map((r) => r.name);
}

/** Rows in `table`, as a number on either dialect (PostgreSQL's count is a bigint, a string through pg). */
export async function rowCount(dataSource: DataSource, table: string): Promise<number> {
  return Number((await dataSource.query<{ n: number | string }[]>(`SELECT count(*) AS n FROM "${table}"`))[0]!.n);
}
