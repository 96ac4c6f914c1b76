import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';

/** Nest injection token under which the app module provides the initialised DataSource. */
export const DATA_SOURCE = Symbol('DATA_SOURCE');

export type DataSourceConfig = { dataDir: string } | { postgresUrl: string };

export const SQLITE_FILE_NAME = 'rounds.sqlite';

/** How long a statement waits for another process's lock (e.g. a backup) before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

interface PragmaConnection {
  pragma(source: string): unknown;
}

/**
 * Builds (does not initialise) the DataSource. `initialize()` applies pending migrations;
 * the schema is never synchronised from the entities.
 */
export function createDataSource(options: DataSourceConfig): DataSource {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: true,
    logging: false,
  } as const;

  if ('postgresUrl' in options) {
    // TypeORM loads `pg` itself, only for this branch, so SQLite installs never need it.
    return new DataSource({ ...common, type: 'postgres', url: options.postgresUrl });
  }

  const database = join(options.dataDir, SQLITE_FILE_NAME);
  makePrivate(options.dataDir, database);
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
    prepareDatabase: (db: PragmaConnection) => {
      // WAL lets the dashboard read while the result writer commits. With WAL,
      // synchronous=NORMAL survives a crash of the process (what we ack on); only an
      // OS crash or power cut can lose the last commits, in exchange for not
      // fsyncing every batch.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    },
  });
}

/**
 * The database holds agent tokens, channel credentials and every result: readable by the
 * collector's user only. SQLite gives its -wal and -shm files the database file's mode, so
 * the file is created 0600 before SQLite opens it; an older install's looser modes are
 * tightened on the next start.
 */
function makePrivate(dataDir: string, database: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  closeSync(openSync(database, 'a', 0o600));
  for (const file of [database, `${database}-wal`, `${database}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}
