import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MIGRATIONS } from './migrations/index.js';
import { createDataSource, SQLITE_FILE_NAME } from './data-source.js';
import { makeTestDatabase, openTestDatabase, postgresOnly, sqliteOnly, tableNames, TEST_ON_POSTGRES } from './testing.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const userTables = (db: Db) => tableNames(db.dataSource);

/** The indices the migrations name (`idx_…`); primary keys and unique constraints are the tables' own. */
async function namedIndices(db: Db): Promise<string[]> {
  const rows: { name: string }[] = await db.dataSource.query(
    TEST_ON_POSTGRES
      ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'idx_%' ORDER BY name"
      : "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name",
  );
  return rows.map((r) => r.name);
}

async function pragma(db: Db, name: string): Promise<unknown> {
  const rows: Record<string, unknown>[] = await db.dataSource.query(`PRAGMA ${name}`);
  return Object.values(rows[0]!)[0];
}

describe('createDataSource', () => {
  let db: Db;
  beforeEach(async () => {
    db = await openTestDatabase();
  });
  afterEach(() => db.close());

  it('creates rounds.sqlite and its missing directories on initialise', { skip: sqliteOnly('the database file') }, () => {
    assert.ok(existsSync(join(db.dataDir, SQLITE_FILE_NAME)));
  });

  it(
    'keeps the data directory (0700) and the database with its WAL and shared-memory files (0600) to the collector user',
    { skip: sqliteOnly('the database file') },
    async () => {
      await db.dataSource.query('CREATE TABLE mode_probe (x)'); // a write, so the -wal file exists
      const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
      assert.equal(mode(db.dataDir), '700');
      for (const suffix of ['', '-wal', '-shm']) assert.equal(mode(join(db.dataDir, `${SQLITE_FILE_NAME}${suffix}`)), '600', `${SQLITE_FILE_NAME}${suffix}`);
    },
  );

  const ALL_TABLES = [
    'agents',
    'alert_engine_state',
    'alert_history',
    'api_tokens',
    'audit_log',
    'check_results',
    'check_rollups_1h',
    'check_rollups_1m',
    'check_state',
    'checks',
    'collectors',
    'engine_inbox',
    'enrolments',
    'leases',
    'metric_rollups_1h',
    'metric_rollups_1m',
    'metric_series',
    'migrations',
    'notification_channels',
    'notification_outbox',
    'notification_policies',
    'notification_routing',
    'notification_steps',
    'on_call_overrides',
    'on_call_schedules',
    'rollup_progress',
    'secret_key_check',
    'sessions',
    'sign_in_lockouts',
    'site_keys',
    'state_changes',
    'users',
  ];

  it('applies every migration to an empty database', async () => {
    assert.deepEqual(await userTables(db), ALL_TABLES);
    const applied: { name: string }[] = await db.dataSource.query('SELECT name FROM migrations');
    assert.deepEqual(
      applied.map((m) => m.name),
      MIGRATIONS.map((m) => m.name),
    );
    assert.deepEqual(await namedIndices(db), [
      'idx_alert_history_at',
      'idx_alert_history_fingerprint',
      'idx_api_tokens_hash',
      'idx_api_tokens_user_id',
      'idx_audit_log_action',
      'idx_audit_log_at',
      'idx_audit_log_target_id',
      'idx_check_results_check_started',
      'idx_check_rollups_1h_bucket',
      'idx_check_rollups_1m_bucket',
      'idx_checks_agent_id',
      'idx_enrolments_batch',
      'idx_enrolments_state',
      'idx_metric_rollups_1h_bucket',
      'idx_metric_rollups_1m_bucket',
      'idx_notification_outbox_channel',
      'idx_notification_outbox_due',
      'idx_notification_steps_due',
      'idx_notification_steps_episode',
      'idx_on_call_overrides_schedule',
      'idx_on_call_schedules_name',
      'idx_sessions_user_id',
      'idx_sign_in_lockouts_last_failure_at',
      'idx_state_changes_at',
      'idx_state_changes_check_at',
      'idx_users_name_lower',
    ]);
  });

  it(
    'runs with WAL journaling, synchronous=NORMAL, foreign keys on, a busy timeout and incremental auto-vacuum',
    { skip: sqliteOnly('PRAGMA settings') },
    async () => {
      assert.equal(await pragma(db, 'journal_mode'), 'wal');
      assert.equal(await pragma(db, 'auto_vacuum'), 2, 'INCREMENTAL: pruned pages can be given back');
      assert.equal(await pragma(db, 'synchronous'), 1);
      assert.equal(await pragma(db, 'foreign_keys'), 1);
      assert.ok(Number(await pragma(db, 'busy_timeout')) >= 1000);
    },
  );

  it('undoing every migration removes every table they created, and they apply again afterwards', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++) await db.dataSource.undoLastMigration();
    assert.deepEqual(await userTables(db), ['migrations']);
    assert.deepEqual(await namedIndices(db), []);

    await db.dataSource.runMigrations();
    assert.deepEqual(await userTables(db), ALL_TABLES);
  });

  it('does not migrate again when an already migrated database is reopened', async () => {
    await db.dataSource.destroy();
    await db.dataSource.initialize();
    const applied: unknown[] = await db.dataSource.query('SELECT name FROM migrations');
    assert.equal(applied.length, MIGRATIONS.length);
  });

  it(
    'several collectors opening one empty database at once migrate it once, the others waiting',
    { skip: postgresOnly('several collectors share a PostgreSQL database only') },
    async () => {
      const handle = await makeTestDatabase();
      const three = [createDataSource(handle.config), createDataSource(handle.config), createDataSource(handle.config)];
      try {
        await Promise.all(three.map((d) => d.initialize()));
        const applied: unknown[] = await three[0]!.query('SELECT name FROM migrations');
        assert.equal(applied.length, MIGRATIONS.length);
      } finally {
        for (const d of three) if (d.isInitialized) await d.destroy();
        await handle.dispose();
      }
    },
  );
});

describe('createDataSource on an older install', () => {
  it('tightens a world-readable data directory and database file on the next start', { skip: sqliteOnly('the database file') }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'rounds-modes-'));
    try {
      const dataDir = join(root, 'data');
      mkdirSync(dataDir, { mode: 0o755 });
      chmodSync(dataDir, 0o755);
      writeFileSync(join(dataDir, SQLITE_FILE_NAME), '', { mode: 0o644 });
      chmodSync(join(dataDir, SQLITE_FILE_NAME), 0o644);
      const dataSource = createDataSource({ dataDir });
      await dataSource.initialize();
      await dataSource.destroy();
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dataDir, SQLITE_FILE_NAME)).mode & 0o777, 0o600);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
