import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { openTestDatabase } from '../testing.js';
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
    const agent = await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    const checks = new ChecksRepository(db.dataSource);
    const tcp = { agentId: agent.id, plugin: 'tcp', config: { host: 'pacs', port: 104 } };
    // What `check add --interval 1s` saved before: the 10 s default timeout.
    const old = await checks.create({ ...tcp, name: 'every second', intervalMs: 1000, timeoutMs: 10_000 });
    const fine = await checks.create({ ...tcp, name: 'every minute', intervalMs: 60_000, timeoutMs: 10_000 });
    await db.dataSource.runMigrations();
    assert.deepEqual([(await checks.findById(old.id))!.timeoutMs, (await checks.findById(fine.id))!.timeoutMs], [1000, 10_000]);
  });
});
