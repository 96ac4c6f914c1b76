import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';
import { attachSecretBox, SecretBox } from './secret-box.js';
import { loadSecretKeys, SECRET_KEY_FILE_NAME, type SecretKeySource } from './secret-key.store.js';

/** Nest injection token under which the app module provides the initialised DataSource. */
export const DATA_SOURCE = Symbol('DATA_SOURCE');

/**
 * `secretKey`: the key that seals agent tokens and channel secrets (see secret-box.ts). SQLite
 * defaults to `secret.key` beside the database; PostgreSQL has no folder of its own, so the
 * caller names the key.
 */
export type DataSourceConfig = { dataDir: string; secretKey?: SecretKeySource } | { postgresUrl: string; secretKey: SecretKeySource };

export const SQLITE_FILE_NAME = 'rounds.sqlite';

const POSTGRES_CONNECT_TIMEOUT_MS = 10_000;

/** `host:port, database D, user U` of a PostgreSQL URL — for messages: never the password. */
export function postgresTarget(url: string): string {
  const u = new URL(url);
  const user = u.username ? `, user ${decodeURIComponent(u.username)}` : '';
  return `${u.hostname}:${u.port || '5432'}, database ${decodeURIComponent(u.pathname.slice(1))}${user}`;
}

/** How long a statement waits for another process's lock (e.g. a backup) before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite's page cache, KiB: better-sqlite3's built-in default, made explicit because it shapes the
 * collector's memory. The cache fills as the database grows, so RSS rises by up to this much in
 * the first half hour of steady load and then holds (bench: soak; with 2 MiB it is flat after
 * three minutes, at the price of more reads for the dashboard and the writer at scale).
 */
const SQLITE_CACHE_KIB = 16_000;

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
    const keys = loadSecretKeys(options.secretKey);
    // TypeORM loads `pg` itself, only for this branch, so SQLite installs never need it. pg waits
    // for a connection forever by default: a firewall that drops packets would hang the start.
    const dataSource = new DataSource({
      ...common,
      migrationsRun: false,
      type: 'postgres',
      url: options.postgresUrl,
      connectTimeoutMS: POSTGRES_CONNECT_TIMEOUT_MS,
    });
    const initialize = dataSource.initialize.bind(dataSource);
    dataSource.initialize = async () => {
      await initialize();
      await migrateAlone(dataSource);
      return dataSource;
    };
    return withSecretBox(dataSource, keys);
  }

  const database = join(options.dataDir, SQLITE_FILE_NAME);
  makePrivate(options.dataDir, database);
  const keys = loadSecretKeys(options.secretKey ?? { file: join(options.dataDir, SECRET_KEY_FILE_NAME) });
  const dataSource = new DataSource({
    ...common,
    type: 'better-sqlite3',
    database,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
    prepareDatabase: (db: PragmaConnection) => {
      // WAL lets the dashboard read while the result writer commits. With WAL,
      // synchronous=NORMAL survives a crash of the process (what we ack on); only an
      // OS crash or power cut can lose the last commits, in exchange for not
      // fsyncing every batch.
      // Before any table exists (a new file) this makes pruned pages returnable to the file system
      // (history/history-upkeep.service.ts); on an older file it takes effect after a VACUUM.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
    },
  });
  return withSecretBox(dataSource, keys);
}

/** Any number that is this project's own among the advisory locks of the database it shares. */
const MIGRATION_LOCK = 0x524e4453; // "RNDS"

/**
 * Applies pending migrations holding a PostgreSQL advisory lock: several collectors started at
 * once on one database (high availability) would otherwise run the same migration side by side,
 * and all but one fail on the tables the first one created. The others wait, then find nothing
 * pending.
 */
async function migrateAlone(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await dataSource.runMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

function withSecretBox(dataSource: DataSource, keys: ReturnType<typeof loadSecretKeys>): DataSource {
  attachSecretBox(dataSource, new SecretBox(keys.current, keys.fallbacks));
  return dataSource;
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
