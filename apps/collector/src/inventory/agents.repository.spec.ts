import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentsRepository, type NewAgent } from './agents.repository.js';
import { openTestDatabase } from '../storage/testing.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const pacs: NewAgent = {
  name: 'pacs-01',
  host: '10.0.4.7',
  port: 7443,
  token: 'secret-token',
  fingerprint: 'ab'.repeat(32),
};

describe('AgentsRepository', () => {
  let db: Db;
  let agents: AgentsRepository;
  beforeEach(async () => {
    db = await openTestDatabase();
    agents = new AgentsRepository(db.dataSource);
  });
  afterEach(() => db.close());

  it('creates an agent with a uuid, state UNKNOWN, an assignment version and epoch-millisecond times', async () => {
    const created = await agents.create(pacs, 1_700_000_000_123);
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const found = await agents.findById(created.id);
    assert.ok(found);
    assert.equal(found.state, 'UNKNOWN');
    assert.equal(found.port, 7443);
    assert.equal(found.token, 'secret-token');
    assert.equal(found.createdAt, 1_700_000_000_123);
    assert.equal(typeof found.createdAt, 'number');
    assert.equal(found.ackSeq, 0);
    assert.equal(found.spoolEpoch, '');
    assert.equal(found.lastSeenAt, null);
    assert.notEqual(found.assignmentVersion, '');
    assert.equal(found.agentAssignmentVersion, '');
    assert.deepEqual(await agents.findByName('pacs-01'), found);
  });

  it('refuses a second agent with the same name', async () => {
    await agents.create(pacs);
    await assert.rejects(agents.create({ ...pacs, host: '10.0.4.8' }), /UNIQUE|unique constraint/);
  });

  it('lists agents by name, updates the fields given and deletes by id', async () => {
    const b = await agents.create({ ...pacs, name: 'b-ris' });
    const a = await agents.create({ ...pacs, name: 'a-modality' });
    assert.deepEqual(
      (await agents.findAll()).map((x) => x.name),
      ['a-modality', 'b-ris'],
    );

    const updated = await agents.update(b.id, { host: 'ris.local', port: undefined }, 42);
    assert.equal(updated?.host, 'ris.local');
    assert.equal(updated?.port, 7443);
    assert.equal(updated?.updatedAt, 42);
    assert.equal(await agents.update('no-such-id', { host: 'x' }), null);

    assert.equal(await agents.delete(a.id), true);
    assert.equal(await agents.delete(a.id), false);
    assert.equal(await agents.findById(a.id), null);
  });

  it('a successful poll marks the agent UP, clears failures and keeps the ack from moving back', async () => {
    const agent = await agents.create(pacs);
    await agents.recordPollFailure(agent.id, { at: 1, error: 'refused', downAfter: 1 });
    await agents.recordPollSuccess(agent.id, {
      at: 2_000,
      ackSeq: 10,
      spoolEpoch: 'e1',
      agentAssignmentVersion: 'v1',
      dropped: 3,
      health: { rssBytes: 1024 },
    });
    let found = (await agents.findById(agent.id))!;
    assert.equal(found.state, 'UP');
    assert.equal(found.lastSeenAt, 2_000);
    assert.equal(found.lastError, null);
    assert.equal(found.consecutiveFailures, 0);
    assert.equal(found.ackSeq, 10);
    assert.equal(found.spoolEpoch, 'e1');
    assert.equal(found.agentAssignmentVersion, 'v1');
    assert.equal(found.dropped, 3);
    assert.deepEqual(JSON.parse(found.healthJson!), { rssBytes: 1024 });

    await agents.recordPollSuccess(agent.id, { at: 3_000, ackSeq: 4, spoolEpoch: 'e1', agentAssignmentVersion: 'v1', dropped: 3, health: {} });
    found = (await agents.findById(agent.id))!;
    assert.equal(found.ackSeq, 10);
  });

  it('a poll reporting a new spool epoch resets the ack to 0', async () => {
    const agent = await agents.create(pacs);
    await agents.recordPollSuccess(agent.id, { at: 1, ackSeq: 50, spoolEpoch: 'e1', agentAssignmentVersion: '', dropped: 0, health: {} });
    await agents.recordPollSuccess(agent.id, { at: 2, spoolEpoch: 'e2', agentAssignmentVersion: '', dropped: 0, health: {} });
    const found = (await agents.findById(agent.id))!;
    assert.equal(found.ackSeq, 0);
    assert.equal(found.spoolEpoch, 'e2');
  });

  it('failed polls count up and turn the agent DOWN once downAfter is reached, keeping last_seen_at', async () => {
    const agent = await agents.create(pacs);
    await agents.recordPollSuccess(agent.id, { at: 500, spoolEpoch: 'e', agentAssignmentVersion: '', dropped: 0, health: {} });
    assert.equal((await agents.recordPollFailure(agent.id, { at: 1_000, error: 'timeout', downAfter: 3 }))?.state, 'UP');
    assert.equal((await agents.recordPollFailure(agent.id, { at: 2_000, error: 'timeout', downAfter: 3 }))?.state, 'UP');
    assert.equal((await agents.recordPollFailure(agent.id, { at: 3_000, error: 'refused', downAfter: 3 }))?.state, 'DOWN');
    const found = (await agents.findById(agent.id))!;
    assert.equal(found.consecutiveFailures, 3);
    assert.equal(found.lastError, 'refused');
    assert.equal(found.lastSeenAt, 500);
    assert.equal(await agents.recordPollFailure('no-such-id', { at: 1, error: 'x', downAfter: 1 }), null);
  });

  it('concurrent poll failures are all counted', async () => {
    const agent = await agents.create(pacs);
    const states = await Promise.all(Array.from({ length: 10 }, (_, i) => agents.recordPollFailure(agent.id, { at: i, error: 'timeout', downAfter: 10 })));
    assert.equal(states.filter((s) => s?.state === 'DOWN').length, 1);
    assert.equal((await agents.findById(agent.id))!.consecutiveFailures, 10);
  });

  it('bumpAssignmentVersion stores and returns a new version each time', async () => {
    const agent = await agents.create(pacs);
    const v1 = await agents.bumpAssignmentVersion(agent.id);
    const v2 = await agents.bumpAssignmentVersion(agent.id);
    assert.notEqual(v1, agent.assignmentVersion);
    assert.notEqual(v1, v2);
    assert.equal((await agents.findById(agent.id))!.assignmentVersion, v2);
  });
});
