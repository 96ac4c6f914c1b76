import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { openTestDatabase, postgresOnly } from '../storage/testing.js';
import { CLUSTER, SOLO } from './cluster.js';
import { ClusterModule } from './cluster.module.js';
import { ClusterService, assignAgents } from './cluster.service.js';
import { readCollectorConfig } from '../config/env.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const RENEW_MS = 1000;
const TTL_MS = 3000;
const SHARED = postgresOnly('several collectors share only a PostgreSQL database; SQLite has one (SOLO)');

describe('assignAgents', () => {
  it('gives every agent one live collector, loads within one of even, and keeps most agents where they were when a collector leaves', () => {
    const agents = Array.from({ length: 30 }, (_, i) => `agent-${i}`);
    const three = assignAgents(agents, ['a', 'b', 'c']);
    assert.equal(three.size, 30);
    const loads = ['a', 'b', 'c'].map((c) => [...three.values()].filter((o) => o === c).length);
    assert.deepEqual(loads, [10, 10, 10]);
    const two = assignAgents(agents, ['a', 'b']);
    const kept = agents.filter((id) => three.get(id) !== 'c' && two.get(id) === three.get(id)).length;
    assert.ok(kept >= 16, `only ${kept} of a's and b's 20 agents stayed put`);
    const uneven = assignAgents(agents.slice(0, 27), ['a', 'b', 'c', 'd']);
    const counts = ['a', 'b', 'c', 'd'].map((c) => [...uneven.values()].filter((o) => o === c).length).sort();
    assert.deepEqual(counts, [6, 7, 7, 7]);
  });
});

describe('ClusterService', () => {
  let db: Db;
  let clock: ManualClock;
  let agentIds: string[];
  let collectors: ClusterService[];

  function collector(name: string): ClusterService {
    const c = new ClusterService(db.dataSource, { name, renewMs: RENEW_MS, ttlMs: TTL_MS }, clock);
    collectors.push(c);
    return c;
  }

  /** One round of each (at once: their transactions race), then the clock moves on a renewal. */
  async function rounds(of: readonly ClusterService[], times = 1): Promise<void> {
    for (let i = 0; i < times; i++) {
      await Promise.all(of.map((c) => c.round()));
      await clock.advance(RENEW_MS);
    }
  }

  function holders(of: readonly ClusterService[], agentId: string): ClusterService[] {
    return of.filter((c) => c.leaseOf(agentId) !== null);
  }

  function assertEachHeldOnce(of: readonly ClusterService[]): void {
    for (const id of agentIds) assert.equal(holders(of, id).length, 1, `agent ${id} is held by ${holders(of, id).length} collectors`);
  }

  /** Every collector of `of` names the holder of every agent (pollerOf: what pages and the API show). */
  function assertPollersNamed(of: readonly ClusterService[], names: ReadonlyMap<ClusterService, string>): void {
    for (const id of agentIds) {
      const holder = names.get(holders(of, id)[0]!);
      for (const c of of) assert.equal(c.pollerOf(id), holder, `${names.get(c)} says agent ${id} is polled by ${c.pollerOf(id)}, not ${holder}`);
    }
  }

  async function epochs(): Promise<Map<string, number>> {
    const rows = await db.query<{ name: string; epoch: unknown }>("SELECT name, epoch FROM leases WHERE name LIKE 'agent:%'");
    return new Map(rows.map((r) => [r.name.slice('agent:'.length), Number(r.epoch)]));
  }

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(1_800_000_000_000);
    collectors = [];
    const agents = new AgentsRepository(db.dataSource);
    agentIds = [];
    for (let i = 0; i < 30; i++) agentIds.push((await agents.create({ name: `pacs-${i}`, host: 'h', port: 7443 + i, token: 't', fingerprint: 'f' })).id);
  });
  afterEach(async () => {
    for (const c of collectors) await c.onApplicationShutdown();
    await db.close();
  });

  it('is SOLO on SQLite and for one-shot commands, leases on PostgreSQL for a serving collector', () => {
    const sqlite = ClusterModule.forRoot(readCollectorConfig({}), true);
    assert.deepEqual(sqlite.providers, [{ provide: CLUSTER, useValue: SOLO }]);
    const oneShot = ClusterModule.forRoot(readCollectorConfig({ ROUNDS_DATABASE_URL: 'postgres://r@db/rounds', ROUNDS_SECRET_KEY_FILE: 'k' }), false);
    assert.deepEqual(oneShot.providers, [{ provide: CLUSTER, useValue: SOLO }]);
    const serving = ClusterModule.forRoot(readCollectorConfig({ ROUNDS_DATABASE_URL: 'postgres://r@db/rounds', ROUNDS_SECRET_KEY_FILE: 'k' }), true);
    assert.equal((serving.providers![0] as { useFactory?: unknown }).useFactory instanceof Function, true);
    assert.equal(SOLO.leaseOf('any'), 0);
    assert.equal(SOLO.isLeader(), true);
  });

  it('two collectors racing from nothing: every agent held by exactly one, one leader', { skip: SHARED }, async () => {
    const [a, b] = [collector('a'), collector('b')];
    // Their first rounds race: each sees only itself alive and claims everything; the row locks let one win each lease.
    await Promise.all([a.round(), b.round()]);
    assertEachHeldOnce([a, b]);
    assert.equal([a, b].filter((c) => c.isLeader()).length, 1);
    await rounds([a, b], 3);
    assertEachHeldOnce([a, b]);
    assert.equal(a.agentsHeld + b.agentsHeld, 30);
    assert.deepEqual([a.agentsHeld, b.agentsHeld], [15, 15]);
    assert.equal([a, b].filter((c) => c.isLeader()).length, 1);
  });

  it(
    'three collectors share 30 agents evenly; the agents of a stopped one move to the others within ttl + renewMs under a higher epoch, and so does the leadership',
    { skip: SHARED },
    async () => {
      const three = [collector('a'), collector('b'), collector('c')];
      const names = new Map(three.map((c, i) => [c, 'abc'[i]!]));
      await rounds(three, 3);
      assertEachHeldOnce(three);
      // Each reads who holds what after its own renewal: a round in which nothing moves, and all agree.
      await rounds(three);
      assertPollersNamed(three, names);
      const members = await three[1]!.members();
      assert.deepEqual(
        members.map((m) => [m.name, m.live, m.agents, m.self]),
        [
          ['a', true, 10, false],
          ['b', true, 10, true],
          ['c', true, 10, false],
        ],
      );
      assert.equal(members.filter((m) => m.leader).length, 1);
      assert.deepEqual(
        three.map((c) => c.agentsHeld),
        [10, 10, 10],
      );
      const leaders = three.filter((c) => c.isLeader());
      assert.equal(leaders.length, 1);

      // The leader stops renewing (killed): nothing released, its rows simply expire.
      const dead = leaders[0]!;
      const survivors = three.filter((c) => c !== dead);
      const before = await epochs();
      const deadAgents = agentIds.filter((id) => dead.leaseOf(id) !== null);
      const deadAt = clock.now();
      let changes = 0;
      survivors.forEach((c) => c.onLeaderChange(() => changes++));
      while (deadAgents.some((id) => holders(survivors, id).length === 0)) {
        assert.ok(clock.now() - deadAt <= TTL_MS + RENEW_MS, `the dead collector's agents were not all taken over within ttl + renewMs`);
        await rounds(survivors);
      }
      // The even shares may move a few of the survivors' own agents between them: released in that round, claimed in the next.
      await rounds(survivors);
      assertEachHeldOnce(survivors);
      assert.deepEqual(survivors.map((c) => c.agentsHeld).sort(), [15, 15]);
      const after = await epochs();
      for (const id of deadAgents) assert.equal(after.get(id), before.get(id)! + 1, `agent ${id}: a new holder raises the epoch`);
      // By its own clock the dead one's leases have lapsed too: it would not write under them.
      assert.equal(dead.agentsHeld, 0);
      assert.equal(dead.isLeader(), false);
      assert.equal(dead.pollerOf(deadAgents[0]!), null, 'nor does it claim to know who polls what');
      await rounds(survivors);
      assert.equal(survivors.filter((c) => c.isLeader()).length, 1);
      assertPollersNamed(survivors, names);
      const after2 = await survivors[0]!.members();
      assert.deepEqual(
        after2.map((m) => [m.name, m.live, m.agents, m.leader]),
        ['a', 'b', 'c'].map((n) => {
          const c = three['abc'.indexOf(n)]!;
          return c === dead ? [n, false, 0, false] : [n, true, 15, c.isLeader()];
        }),
        'the dead one is listed as gone, holding nothing; the survivors 15 each, one leading',
      );
      assert.equal(changes, 1);
    },
  );

  it('a collector that comes back after being taken over gets a share again, at a new epoch, without two holders at any time', { skip: SHARED }, async () => {
    const [a, b] = [collector('a'), collector('b')];
    await rounds([a, b], 3);
    const before = await epochs();
    const c = collector('c');
    for (let i = 0; i < 4; i++) {
      await rounds([a, b, c]);
      // The same agent is never held by two collectors, also while the shares move.
      for (const id of agentIds) assert.ok(holders([a, b, c], id).length <= 1, `agent ${id} held twice`);
    }
    assertEachHeldOnce([a, b, c]);
    assert.deepEqual(
      [a, b, c].map((x) => x.agentsHeld),
      [10, 10, 10],
    );
    const after = await epochs();
    for (const id of agentIds.filter((x) => c.leaseOf(x) !== null)) assert.equal(after.get(id), before.get(id)! + 1);
  });

  it('lets go of everything once it could not renew for the ttl (database unreachable), and says so to the leader listeners', { skip: SHARED }, async () => {
    const a = collector('a');
    await rounds([a]);
    assert.equal(a.agentsHeld, 30);
    assert.equal(a.isLeader(), true);
    const seen: boolean[] = [];
    a.onLeaderChange((leader) => seen.push(leader));
    await db.query('ALTER TABLE leases RENAME TO leases_away');
    await rounds([a]);
    assert.equal(a.agentsHeld, 30, 'still within its ttl');
    await clock.advance(TTL_MS);
    await rounds([a]);
    assert.equal(a.agentsHeld, 0);
    assert.equal(a.leaseOf(agentIds[0]!), null);
    assert.equal(a.isLeader(), false);
    assert.deepEqual(seen, [false]);
    await db.query('ALTER TABLE leases_away RENAME TO leases');
    await rounds([a]);
    assert.equal(a.agentsHeld, 30);
    assert.deepEqual(seen, [false, true]);
  });

  it('the leader clears the lapsed leases of deleted agents', { skip: SHARED }, async () => {
    const a = collector('a');
    await rounds([a]);
    await new AgentsRepository(db.dataSource).delete(agentIds[0]!);
    await rounds([a], 2);
    assert.equal((await epochs()).has(agentIds[0]!), false);
    assert.equal((await epochs()).size, 29);
  });

  it('hands its leases back at shutdown, so another takes them on its next round', { skip: SHARED }, async () => {
    const [a, b] = [collector('a'), collector('b')];
    await rounds([a, b], 3);
    await a.onApplicationShutdown();
    collectors.splice(collectors.indexOf(a), 1);
    await rounds([b], 1);
    assert.equal(b.agentsHeld, 30);
    assert.equal(b.isLeader(), true);
  });
});
