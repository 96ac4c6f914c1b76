import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { bulkSql, upsertSuffix } from './bulk-sql.js';
import { openTestDatabase } from './testing.js';
import { inTransaction } from './transaction.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

describe('bulkSql', () => {
  let db: Db;
  let agents: AgentsRepository;

  beforeEach(async () => {
    db = await openTestDatabase();
    agents = new AgentsRepository(db.dataSource);
  });
  afterEach(() => db.close());

  it('looks up more ids than one statement may bind (999) with one statement text', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await agents.create({ name: `a${i}`, host: 'h', port: 1, token: 't', fingerprint: 'f' })).id);
    const asked = [...ids, ...Array.from({ length: 1500 }, (_, i) => `missing-${i}`)];
    const sql = bulkSql(db.dataSource);
    const rows = await inTransaction(db.dataSource, (m) => sql.selectIn<{ id: string; name: string }>(m, 'agents', ['id', 'name'], 'id', asked));
    assert.deepEqual(rows.map((r) => r.name).sort(), ['a0', 'a1', 'a2', 'a3', 'a4']);
    assert.deepEqual(await inTransaction(db.dataSource, (m) => sql.selectIn(m, 'agents', ['id'], 'id', [])), []);
  });

  it('inserts, upserts and updates inside the caller’s transaction, which a failure rolls back', async () => {
    const agent = await agents.create({ name: 'pacs', host: 'h', port: 1, token: 't', fingerprint: 'f' });
    const sql = bulkSql(db.dataSource);
    await assert.rejects(
      inTransaction(db.dataSource, async (m) => {
        await sql.updateEach(m, 'agents', ['ack_seq', 'spool_epoch'], 'id', [[41, 'e1', agent.id]]);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal((await agents.findById(agent.id))?.ackSeq, 0, 'the update rolled back with its transaction');

    await inTransaction(db.dataSource, (m) => sql.updateEach(m, 'agents', ['ack_seq', 'spool_epoch'], 'id', [[42, 'e2', agent.id]]));
    const updated = await agents.findById(agent.id);
    assert.deepEqual([updated?.ackSeq, updated?.spoolEpoch], [42, 'e2']);
  });

  it('prepares again after the DataSource is re-initialised (statements belong to a connection)', async () => {
    const sql = bulkSql(db.dataSource);
    const agent = await agents.create({ name: 'pacs', host: 'h', port: 1, token: 't', fingerprint: 'f' });
    await inTransaction(db.dataSource, (m) => sql.selectIn(m, 'agents', ['id'], 'id', [agent.id]));
    await db.dataSource.destroy();
    await assert.rejects(
      inTransaction(db.dataSource, (m) => sql.selectIn(m, 'agents', ['id'], 'id', [agent.id])),
      /not initiali[sz]ed|not established|not open|closed|not connected/i,
    );
    await db.dataSource.initialize();
    const rows = await inTransaction(db.dataSource, (m) => sql.selectIn<{ id: string }>(m, 'agents', ['id'], 'id', [agent.id]));
    assert.deepEqual(
      rows.map((r) => r.id),
      [agent.id],
    );
  });

  it('writes the same ON CONFLICT text for both dialects', () => {
    assert.equal(upsertSuffix('check_id', ['status', 'summary']), 'ON CONFLICT (check_id) DO UPDATE SET status = excluded.status, summary = excluded.summary');
  });
});
