import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openTestDatabase } from '../storage/testing.js';
import { inTransaction, portableQuery } from '../storage/transaction.js';
import { dropAppendOnlyGuards } from './testing.js';
import { canonicalForm, GENESIS_HASH, rowHash } from './audit-chain.js';
import { appendAudit, AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import type { AuditDraft } from './audit.types.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const draft = (n: number): AuditDraft => ({
  context: { actor: 'api-token', source: 'api', address: '10.0.4.7', userAgent: 'curl/8.5.0' },
  action: 'channel.update',
  target: { kind: 'channel', id: `c${n}`, name: `channel ${n}` },
  before: { enabled: true, n },
  after: { enabled: false, n },
});

const dropGuards = (db: Db) => dropAppendOnlyGuards(db.dataSource);

describe('audit log hash chain', () => {
  let db: Db;
  let repository: AuditRepository;
  let service: AuditService;
  beforeEach(async () => {
    db = await openTestDatabase();
    repository = new AuditRepository(db.dataSource);
    service = new AuditService(repository);
  });
  afterEach(() => db.close());

  const appendMany = async (count: number) => {
    for (let n = 1; n <= count; n++) await repository.append(draft(n));
  };

  it('links each row to the one before by SHA-256 over its canonical form, starting from the genesis hash', async () => {
    await appendMany(3);
    const rows = await repository.page(0, 10);
    assert.deepEqual(
      rows.map((r) => r.id),
      [1, 2, 3],
    );
    assert.equal(rows[0]!.prevHash, GENESIS_HASH);
    assert.equal(rows[1]!.prevHash, rows[0]!.hash);
    assert.equal(rows[2]!.prevHash, rows[1]!.hash);
    for (const row of rows) assert.equal(row.hash, rowHash(row));
    const canonical = JSON.parse(canonicalForm(rows[0]!)) as unknown[];
    assert.deepEqual(canonical, [
      'rounds-audit-v1',
      1,
      rows[0]!.at,
      'api-token',
      'api',
      '10.0.4.7',
      'curl/8.5.0',
      'channel.update',
      'channel',
      'c1',
      'channel 1',
      '{"enabled":true,"n":1}',
      '{"enabled":false,"n":1}',
      GENESIS_HASH,
    ]);
  });

  it('verify says OK with the count and the head when the chain is intact (and for an empty log)', async () => {
    assert.deepEqual(await service.verify(), { ok: true, count: 0, head: { id: 0, hash: GENESIS_HASH } });
    await appendMany(5);
    const head = (await repository.page(4, 1))[0]!;
    assert.deepEqual(await service.verify(), { ok: true, count: 5, head: { id: 5, hash: head.hash } });
  });

  it('verify names the row whose after was edited with raw SQL, and says its contents no longer match its hash', async () => {
    await appendMany(4);
    await dropGuards(db);
    await db.dataSource.query(`UPDATE audit_log SET after_json = '{"enabled":true,"n":3}' WHERE id = 3`);
    const result = await service.verify();
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.broken.id, 3);
    assert.equal(result.checked, 2);
    assert.match(
      result.broken.problem,
      /^its contents hash to [0-9a-f]{12}…, not to the stored [0-9a-f]{12}…: a field of this row was changed after it was written$/,
    );
  });

  it('verify names the next row when an edited row was given a recomputed hash', async () => {
    await appendMany(3);
    await dropGuards(db);
    const [row] = await repository.page(1, 1);
    const forged = { ...row!, actor: 'someone-else' };
    await portableQuery(db.dataSource, db.dataSource.manager, 'UPDATE audit_log SET actor = ?, hash = ? WHERE id = 2', [forged.actor, rowHash(forged)]);
    const result = await service.verify();
    assert.ok(!result.ok);
    assert.equal(result.broken.id, 3);
    assert.match(result.broken.problem, /^prev_hash [0-9a-f]{12}… does not match row 2's hash [0-9a-f]{12}…/);
  });

  it('verify names a deleted row as missing, and a run of them as a range', async () => {
    await appendMany(6);
    await dropGuards(db);
    await db.dataSource.query('DELETE FROM audit_log WHERE id = 2');
    let result = await service.verify();
    assert.ok(!result.ok);
    assert.deepEqual(result.broken, { id: 2, problem: 'row 2 is missing (deleted): the next row is 3, and it follows row 1' });
    await db.dataSource.query('DELETE FROM audit_log WHERE id IN (1, 4, 5)');
    result = await service.verify();
    assert.ok(!result.ok);
    assert.deepEqual(result.broken, { id: 1, problem: 'rows 1–2 are missing (deleted): the next row is 3, and it is the first row' });
  });

  it('the database refuses to update or delete an audit row', async () => {
    await appendMany(1);
    await assert.rejects(db.dataSource.query("UPDATE audit_log SET actor = 'x'"), /audit_log is append-only: its rows are never changed/);
    await assert.rejects(db.dataSource.query('DELETE FROM audit_log'), /audit_log is append-only: its rows are never deleted/);
    assert.equal((await service.verify()).ok, true);
  });

  it('a change whose transaction fails leaves no audit row, and the next one continues the chain', async () => {
    await appendMany(1);
    await assert.rejects(
      inTransaction(db.dataSource, async (m) => {
        await appendAudit(m, draft(2));
        throw new Error('the change failed after its audit row');
      }),
      /the change failed/,
    );
    await repository.append(draft(3));
    const rows = await repository.page(0, 10);
    assert.deepEqual(
      rows.map((r) => [r.id, r.targetId]),
      [
        [1, 'c1'],
        [2, 'c3'],
      ],
    );
    assert.equal((await service.verify()).ok, true);
  });

  it('appends several drafts of one transaction in order, each chained to the one before', async () => {
    await inTransaction(db.dataSource, (m) => appendAudit(m, [draft(1), draft(2), draft(3)]));
    assert.deepEqual(await service.verify().then((r) => r.ok && r.count), 3);
  });
});
