import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentsRepository } from './agents.repository.js';
import { AgentNotFoundError, ChecksRepository, type NewCheck } from './checks.repository.js';
import { ResultsRepository } from '../history/results.repository.js';
import { ResultWriter } from '../polling/result-writer.js';
import { openTestDatabase } from '../storage/testing.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

describe('ChecksRepository', () => {
  let db: Db;
  let agents: AgentsRepository;
  let checks: ChecksRepository;
  let agentId: string;
  let tcp: (name: string) => NewCheck;

  beforeEach(async () => {
    db = await openTestDatabase();
    agents = new AgentsRepository(db.dataSource);
    checks = new ChecksRepository(db.dataSource);
    agentId = (await agents.create({ name: 'pacs', host: 'h', port: 1, token: 't', fingerprint: 'f' })).id;
    tcp = (name) => ({ agentId, name, plugin: 'tcp', config: { host: 'pacs', port: 104 }, intervalMs: 30_000, timeoutMs: 5_000 });
  });
  afterEach(() => db.close());

  const versionOf = async (id: string) => (await agents.findById(id))!.assignmentVersion;

  it('creates a check with its config as one JSON column, enabled by default', async () => {
    const created = await checks.create(tcp('dicom port'), 7);
    const found = await checks.findById(created.id);
    assert.ok(found);
    assert.deepEqual(JSON.parse(found.configJson), { host: 'pacs', port: 104 });
    assert.equal(found.enabled, true);
    assert.equal(found.intervalMs, 30_000);
    assert.equal(found.createdAt, 7);
    assert.equal(found.agentId, agentId);
  });

  it('creating, updating and deleting a check each bump the agent assignment version', async () => {
    const v0 = await versionOf(agentId);
    const check = await checks.create(tcp('dicom port'));
    const v1 = await versionOf(agentId);
    assert.notEqual(v1, v0);

    const updated = await checks.update(check.id, { config: { host: 'pacs', port: 11112 }, enabled: false }, 99);
    assert.deepEqual(JSON.parse(updated!.configJson), { host: 'pacs', port: 11112 });
    assert.equal(updated!.enabled, false);
    assert.equal(updated!.updatedAt, 99);
    const v2 = await versionOf(agentId);
    assert.notEqual(v2, v1);

    assert.equal(await checks.delete(check.id), true);
    assert.notEqual(await versionOf(agentId), v2);
    assert.equal(await checks.findById(check.id), null);
  });

  it('update and delete of a missing check return null/false and bump nothing', async () => {
    const v0 = await versionOf(agentId);
    assert.equal(await checks.update('missing', { name: 'x' }), null);
    assert.equal(await checks.delete('missing'), false);
    assert.equal(await versionOf(agentId), v0);
  });

  it('creating a check for a missing agent fails with AgentNotFoundError and stores nothing', async () => {
    await assert.rejects(checks.create({ ...tcp('x'), agentId: 'gone' }), AgentNotFoundError);
    assert.deepEqual(await checks.findAll(), []);
  });

  it('refuses two checks with the same name on one agent but allows it on another agent', async () => {
    await checks.create(tcp('same'));
    await assert.rejects(checks.create(tcp('same')), /UNIQUE|unique constraint/);
    const other = await agents.create({ name: 'ris', host: 'h', port: 1, token: 't', fingerprint: 'f' });
    await checks.create({ ...tcp('same'), agentId: other.id });
    assert.equal((await checks.findAll()).length, 2);
  });

  it('filters by agent and lists only enabled checks for the assignment', async () => {
    const other = await agents.create({ name: 'ris', host: 'h', port: 1, token: 't', fingerprint: 'f' });
    await checks.create(tcp('b'));
    await checks.create({ ...tcp('a'), enabled: false });
    await checks.create({ ...tcp('c'), agentId: other.id });
    assert.deepEqual(
      (await checks.findAll({ agentId })).map((c) => c.name),
      ['a', 'b'],
    );
    assert.deepEqual(
      (await checks.findEnabledByAgent(agentId)).map((c) => c.name),
      ['b'],
    );
    assert.equal((await checks.findAll()).length, 3);
  });

  it('deleting an agent deletes its checks, their results and their state', async () => {
    const check = await checks.create(tcp('dicom port'));
    const writer = new ResultWriter(db.dataSource, { coalesceMs: 1 });
    await writer.write({
      agentId,
      ackSeq: 1,
      spoolEpoch: 'e',
      results: [{ checkId: check.id, seq: 1, startedAt: 1, durationMs: 2, status: 0, reason: 'ok', summary: 'up', metrics: [] }],
    });
    const results = new ResultsRepository(db.dataSource);
    assert.equal((await results.recent(check.id, 10)).length, 1);
    assert.equal((await results.stateFor([check.id])).length, 1);

    await agents.delete(agentId);
    assert.deepEqual(await checks.findAll(), []);
    assert.deepEqual(await results.recent(check.id, 10), []);
    assert.deepEqual(await results.stateFor(), []);
    await writer.close();
  });
});
