import { PluginRegistry } from '#rounds/plugins';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import type { Cluster } from '../cluster/cluster.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultWriter, type StoredResult } from '../polling/result-writer.js';
import { openTestDatabase } from '../storage/testing.js';
import { CurrentState } from './current-state.js';
import { StateRepository } from './state.repository.js';
import { StoredStateFollower } from './stored-state-follower.js';

const T0 = 1_700_000_000_000;
const POLL_MS = 10_000;

describe('CurrentState (the read model)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let agents: AgentsRepository;
  let checks: ChecksRepository;
  let state: CurrentState;
  let writer: ResultWriter;
  let pacs: string;
  let web: string;

  const tcp = (agentId: string, name: string, enabled = true) =>
    checks.create({ agentId, name, plugin: 'tcp', config: { host: 'pacs', port: 104 }, intervalMs: 30_000, timeoutMs: 5000, enabled }, T0);
  const result = (checkId: string, seq: number, startedAt: number, status: 0 | 2 = 0): StoredResult => ({
    checkId,
    seq,
    startedAt,
    durationMs: 4,
    status,
    reason: status === 0 ? 'ok' : 'refused',
    summary: status === 0 ? 'port open' : 'connection refused',
    metrics: [{ name: 'connect_seconds', value: seq / 1000, unit: 'seconds' }],
  });

  beforeEach(async () => {
    db = await openTestDatabase();
    agents = new AgentsRepository(db.dataSource);
    checks = new ChecksRepository(db.dataSource);
    pacs = (await agents.create({ name: 'pacs-01', host: '10.0.0.1', port: 7443, token: 't', fingerprint: 'f' }, T0)).id;
    await agents.create({ name: 'archive-02', host: '10.0.0.2', port: 7443, token: 't', fingerprint: 'f' }, T0);
    web = (await tcp(pacs, 'web')).id;
    state = new CurrentState(new StateRepository(db.dataSource), { pollIntervalMs: POLL_MS }, PluginRegistry.withBuiltins());
    writer = new ResultWriter(db.dataSource, { onStates: (states) => state.statesCommitted(states) });
  });
  afterEach(async () => {
    await writer.close();
    await db.close();
  });

  it('loads agents, checks and stored states at start, agents in name order', async () => {
    await writer.write({ agentId: pacs, results: [result(web, 1, T0)], ackSeq: 1, spoolEpoch: 'e' });
    await state.onModuleInit();
    assert.deepEqual(
      state.listAgents().map((a) => a.agent.name),
      ['archive-02', 'pacs-01'],
    );
    const record = state.check(web)!;
    assert.equal(record.check.name, 'web');
    assert.equal(record.state?.summary, 'port open');
    assert.deepEqual(record.metrics, [{ name: 'connect_seconds', value: 0.001, unit: 'seconds' }]);
    assert.equal(state.findAgent('pacs-01')?.agent.id, pacs);
    assert.equal(state.findAgent(pacs)?.agent.name, 'pacs-01');
    assert.equal(state.findAgent('nobody'), undefined);
  });

  it("takes a commit's states without reading the database, newest result first, and bumps the version", async () => {
    await state.onModuleInit();
    const before = state.version;
    await writer.write({ agentId: pacs, results: [result(web, 2, T0 + 2000, 2), result(web, 1, T0 + 1000)], ackSeq: 2, spoolEpoch: 'e' });
    assert.ok(state.version > before);
    const record = state.check(web)!;
    assert.equal(record.state?.status, 2, 'the later result is the state, whatever the order it came in');
    assert.equal(record.state?.consecutiveFailures, 1);
    assert.equal(record.metrics[0]?.value, 0.002);
    await db.dataSource.query('DELETE FROM check_state');
    assert.equal(state.check(web)?.state?.status, 2, 'a read went to the database');
  });

  it("applies a poll's news to the agent and parses its health once", async () => {
    await state.onModuleInit();
    state.agentPolled(pacs, { state: 'UP', lastSeenAt: T0, healthJson: JSON.stringify({ rssBytes: 1024, spoolDepth: 3, bogus: 'x' }) });
    const record = state.agent(pacs)!;
    assert.equal(record.agent.state, 'UP');
    assert.deepEqual(record.health, { rssBytes: 1024, spoolDepth: 3 });
    const version = state.version;
    state.agentPolled('no-such-agent', { state: 'DOWN' });
    assert.equal(state.version, version, 'news of an unknown agent changed the model');
  });

  it('refreshAgent picks up checks added and removed in the database and forgets an agent that is gone', async () => {
    await state.onModuleInit();
    const added = await tcp(pacs, 'dicom');
    await checks.delete(web);
    await state.refreshAgent(pacs);
    assert.deepEqual(
      state.listChecks(pacs).map((c) => c.check.name),
      ['dicom'],
    );
    assert.equal(state.check(added.id)?.state, null);
    await agents.delete(pacs);
    await state.refreshAgent(pacs);
    assert.equal(state.agent(pacs), undefined);
    assert.equal(state.check(added.id), undefined);
  });

  it('keeps what a poll and a commit brought in over an older copy read by refreshAgent', async () => {
    await state.onModuleInit();
    state.agentPolled(pacs, { state: 'UP', consecutiveFailures: 0, lastSeenAt: T0 + 5000 });
    await writer.write({ agentId: pacs, results: [result(web, 1, T0 + 5000)], ackSeq: 1, spoolEpoch: 'e' });
    // The database copy of the agent still says UNKNOWN (the poller's own row write is not in this spec).
    await db.dataSource.query('DELETE FROM check_state');
    await state.refreshAgent(pacs);
    assert.equal(state.agent(pacs)?.agent.state, 'UP');
    assert.equal(state.check(web)?.state?.lastResultAt, T0 + 5000);
  });

  it('reconcile re-reads agents whose assignment version changed in another process, and drops those deleted there', async () => {
    await state.onModuleInit();
    const archive = state.findAgent('archive-02')!.agent.id;
    const added = await tcp(archive, 'share'); // bumps archive-02's assignment version
    await agents.delete(pacs);
    const third = await agents.create({ name: 'ward-03', host: '10.0.0.3', port: 7443, token: 't', fingerprint: 'f' }, T0);
    await state.reconcile(await agents.listVersions());
    assert.equal(state.check(added.id)?.check.name, 'share');
    assert.equal(state.agent(pacs), undefined);
    assert.equal(state.check(web), undefined);
    assert.equal(state.agent(third.id)?.agent.name, 'ward-03');
    const version = state.version;
    await state.reconcile(await agents.listVersions());
    assert.equal(state.version, version, 'an unchanged inventory was read again');
  });

  it('marks a result stale when its agent is not UP or no newer one came for two intervals and a poll', async () => {
    await state.onModuleInit();
    assert.deepEqual(state.freshness(state.check(web)!, T0), { stale: false, ageMs: null, agentState: 'UNKNOWN' });
    await writer.write({ agentId: pacs, results: [result(web, 1, T0)], ackSeq: 1, spoolEpoch: 'e' });
    const record = state.check(web)!;
    assert.equal(state.freshness(record, T0 + 1000).stale, true, 'an agent never seen UP gave a fresh result');
    state.agentPolled(pacs, { state: 'UP' });
    assert.deepEqual(state.freshness(record, T0 + 1000), { stale: false, ageMs: 1000, agentState: 'UP' });
    assert.equal(state.freshness(record, T0 + 2 * 30_000 + POLL_MS).stale, false);
    assert.equal(state.freshness(record, T0 + 2 * 30_000 + POLL_MS + 1).stale, true);
    state.agentPolled(pacs, { state: 'DOWN' });
    assert.deepEqual(state.freshness(record, T0 + 1000), { stale: true, ageMs: 1000, agentState: 'DOWN' });
  });

  it('snapshots enabled checks in agent then check name order, once per version', async () => {
    await tcp(pacs, 'archive');
    await tcp(pacs, 'off', false);
    await state.onModuleInit();
    const first = state.snapshot();
    assert.deepEqual(
      first.checks.map((c) => `${c.agent}/${c.check}`),
      ['pacs-01/archive', 'pacs-01/web'],
    );
    assert.equal(first.checks[0]!.status, null, 'a check without results is pending');
    assert.equal(state.snapshot(), first, 'the same version built its rows twice');
    state.agentPolled(pacs, { dropped: 5 });
    const second = state.snapshot();
    assert.notEqual(second, first);
    assert.equal(second.agents.find((a) => a.name === 'pacs-01')?.dropped, 5);
  });

  it("keeps an agent's Describe answer without the plugins' schemas, and one declaration map per plugin described alike", async () => {
    const description = (agentId: string) =>
      JSON.stringify({
        agentId,
        version: '1.0.0',
        plugins: [
          {
            name: 'fixture-queue',
            version: '1.0.0',
            source: 'plugins/fixture-queue',
            configSchemaJson: JSON.stringify({ type: 'object', properties: { queue: { type: 'string', description: 'x'.repeat(10_000) } } }),
            metrics: [{ name: 'depth', unit: 'count', help: 'Messages waiting.', labels: ['queue'] }],
          },
        ],
      });
    const archive = (await agents.findByName('archive-02'))!.id;
    await agents.update(pacs, { descriptionJson: description('a') });
    await agents.update(archive, { descriptionJson: description('b') });
    await state.onModuleInit();
    const [one, two] = [state.agent(pacs)!, state.agent(archive)!];
    assert.ok(one.agent.descriptionJson!.length < 500, `${one.agent.descriptionJson!.length} characters kept in memory`);
    assert.deepEqual(JSON.parse(one.agent.descriptionJson!), {
      agentId: 'a',
      version: '1.0.0',
      plugins: [{ name: 'fixture-queue', version: '1.0.0', source: 'plugins/fixture-queue' }],
    });
    assert.equal(one.declared.get('fixture-queue')?.get('depth')?.help, 'Messages waiting.');
    assert.equal(one.declared.get('fixture-queue'), two.declared.get('fixture-queue'), 'two agents describing a plugin alike got two maps');
    state.agentPolled(pacs, { descriptionJson: description('c') });
    assert.equal(state.agent(pacs)!.declared.get('fixture-queue'), two.declared.get('fixture-queue'));
    await state.refreshAgent(pacs);
    assert.equal(state.agent(pacs)!.declared.get('fixture-queue')?.get('depth')?.unit, 'count', 'a refresh lost the declarations');
  });

  describe('on several collectors: StoredStateFollower', () => {
    let archive: string;
    let dicom: string;
    /** Another collector's writer: it stores results, and this collector's read model hears nothing of them. */
    let theirs: ResultWriter;
    /** This collector holds pacs-01's lease; archive-02 is another collector's. */
    const cluster: Cluster = { collectorId: 'c1', shared: true, isLeader: () => false, onLeaderChange: () => {}, leaseOf: (id) => (id === pacs ? 3 : null) };
    const follower = (c: Cluster = cluster) =>
      new StoredStateFollower(state, new StateRepository(db.dataSource), new ManualClock(T0), { pollIntervalMs: POLL_MS }, c);

    beforeEach(async () => {
      archive = (await agents.findByName('archive-02'))!.id;
      dicom = (await tcp(archive, 'dicom')).id;
      await state.onModuleInit();
      theirs = new ResultWriter(db.dataSource, {});
    });
    afterEach(() => theirs.close());

    it('takes in the states and agent fields another collector stored for the agents it polls, and bumps the version', async () => {
      await theirs.write({ agentId: archive, results: [result(dicom, 1, T0 + 1000, 2)], ackSeq: 1, spoolEpoch: 'e' });
      await db.query('UPDATE agents SET state = ?, last_seen_at = ? WHERE id = ?', ['up', T0 + 1500, archive]);
      assert.equal(state.check(dicom)?.state, null, 'not heard of before the round');
      const before = state.version;
      await follower().follow();
      assert.ok(state.version > before);
      assert.deepEqual([state.check(dicom)?.state?.status, state.check(dicom)?.state?.summary], [2, 'connection refused']);
      assert.deepEqual([state.agent(archive)?.agent.state, state.agent(archive)?.agent.lastSeenAt, state.agent(archive)?.agent.ackSeq], ['up', T0 + 1500, 1]);
    });

    it('leaves the agents this collector polls to its own poller and writer, and never takes an older state over a newer one', async () => {
      await writer.write({ agentId: pacs, results: [result(web, 2, T0 + 2000)], ackSeq: 2, spoolEpoch: 'e' });
      // What a stale row would say: an earlier result, an agent down.
      await db.query('UPDATE check_state SET status = 2, last_result_at = ? WHERE check_id = ?', [T0 + 500, web]);
      await db.query('UPDATE agents SET state = ? WHERE id = ?', ['down', pacs]);
      await follower().follow();
      assert.equal(state.check(web)?.state?.status, 0);
      assert.notEqual(state.agent(pacs)?.agent.state, 'down');

      await follower({ ...cluster, leaseOf: () => null }).follow();
      assert.equal(state.check(web)?.state?.status, 0, 'an older stored result does not replace a newer one in the model');
      assert.equal(state.agent(pacs)?.agent.state, 'down', 'once another collector holds the agent, its stored fields count');
    });
  });
});
