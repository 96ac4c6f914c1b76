import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase } from '../testing.js';
import { portableQuery } from '../transaction.js';
import { MIGRATIONS } from './index.js';
import { TimeoutWithinInterval1700000000003 } from './1700000000003-timeout-within-interval.js';

describe('migration TimeoutWithinInterval1700000000003', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  before(async () => {
    db = await openTestDatabase();
  });
  after(() => db.close());

  it('shortens a stored timeout longer than its interval to the interval and leaves the others alone', async () => {
    // Back to just before this migration, however many came after it.
    for (let i = MIGRATIONS.indexOf(TimeoutWithinInterval1700000000003); i < MIGRATIONS.length; i++) await db.dataSource.undoLastMigration();
    // Rows as that schema had them, in plain SQL: today's entities have columns added since.
    const q = (sql: string, params: unknown[]) => portableQuery<unknown>(db.dataSource, db.dataSource.manager, sql, params);
    await q(
      `INSERT INTO agents (id, name, host, port, token, fingerprint, assignment_version, created_at, updated_at) VALUES ('a1', 'pacs-01', '127.0.0.1', 9, 't', 'f', 'v', 0, 0)`,
      [],
    );
    const check = `INSERT INTO checks (id, agent_id, name, plugin, config_json, interval_ms, timeout_ms, created_at, updated_at) VALUES (?, 'a1', ?, 'tcp', '{}', ?, 10000, 0, 0)`;
    // What `check add --interval 1s` saved before: the 10 s default timeout.
    await q(check, ['old', 'every second', 1000]);
    await q(check, ['fine', 'every minute', 60_000]);
    await db.dataSource.runMigrations();
    const rows = await q(`SELECT id, timeout_ms FROM checks ORDER BY id`, []);
    assert.deepEqual(rows, [
      { id: 'fine', timeout_ms: 10_000 },
      { id: 'old', timeout_ms: 1000 },
    ]);
  });
});
