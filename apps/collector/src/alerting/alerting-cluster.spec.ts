import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { ManualClock } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import type { CollectorConfig } from '../config/env.js';
import type { Cluster } from '../cluster/cluster.js';
import { NotificationOutboxEntity, type StatusCode } from '../storage/entities/index.js';
import { createDataSource } from '../storage/data-source.js';
import { openTestDatabase, TEST_ON_POSTGRES } from '../storage/testing.js';
import { OutboxService } from '../notifications/outbox.service.js';
import { OutboxRepository } from '../notifications/outbox.repository.js';
import { ChannelsRepository } from '../notifications/channels.repository.js';
import type { Notifiers } from '../notifications/notifiers.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { CurrentState } from '../state/current-state.js';
import { StateRepository } from '../state/state.repository.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import type { NamedResult, PolledAgent } from '../polling/poller.service.js';
import { AlertingRepository } from './alerting.repository.js';
import { AlertingService } from './alerting.service.js';
import { acknowledgeDto, addSilenceDto, setRulesDto } from './alerting.dto.js';
import { EngineInboxEntity } from './engine-inbox.entity.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const T0 = 1_700_000_000_000;
const INTERVAL = 15_000;

/** A collector's view of the cluster that the spec decides. */
class FakeCluster implements Cluster {
  readonly shared = true;
  constructor(
    readonly collectorId: string,
    public leader: boolean,
  ) {}
  isLeader(): boolean {
    return this.leader;
  }
  onLeaderChange(): void {}
  leaseOf(): number | null {
    return 0;
  }
}

/** A store that fails every commit: a leader that dies before its state is written. */
class DyingStore extends AlertingRepository {
  override commit(): Promise<string[]> {
    return Promise.reject(new Error('the collector died'));
  }
}

/**
 * The alert engine across collectors on one database (docs/scaling.md, "High availability"): the
 * leader takes in the others' poll events from the inbox; any collector can change the engine.
 * Each collector here has its own connection to the database, its own read model and engine copy.
 */
describe('AlertingService on several collectors (one database)', () => {
  let db: Db;
  let second: DataSource;
  let clock: ManualClock;
  let agent: PolledAgent;
  let checkId: string;
  const services: AlertingService[] = [];

  const collector = async (dataSource: DataSource, cluster: Cluster, store = new AlertingRepository(dataSource)) => {
    const state = new CurrentState(new StateRepository(dataSource), { pollIntervalMs: INTERVAL }, PluginRegistry.withBuiltins());
    await state.onModuleInit();
    // Not started: the spec reads the outbox rows; delivering them is the outbox's own spec.
    const outbox = new OutboxService(new OutboxRepository(dataSource), new ChannelsRepository(dataSource), {} as Notifiers, clock);
    const service = new AlertingService(store, state, outbox, clock, { publicUrl: undefined } as CollectorConfig, { tickMs: 0, commitSpacingMs: 0 }, cluster);
    await service.load();
    services.push(service);
    return service;
  };

  const result = (status: StatusCode): NamedResult => ({
    checkId,
    checkName: 'PACS web',
    plugin: 'http',
    seq: 0,
    startedAt: clock.now(),
    durationMs: 5,
    status,
    reason: status === 0 ? 'ok' : 'refused',
    summary: status === 0 ? 'answers' : 'connection refused',
    metrics: [],
  });

  /** Three failing results, one poll interval apart, reported by `service`'s poller. */
  const failThrice = async (service: AlertingService) => {
    for (let i = 0; i < 3; i++) {
      await clock.advance(INTERVAL);
      service.resultsStored(agent, [result(2)]);
    }
    await service.forwarded();
  };

  const outboxKinds = async () =>
    (await db.dataSource.getRepository(NotificationOutboxEntity).find({ order: { id: 'ASC' } })).map(
      (r) => (JSON.parse(r.payloadJson) as { kind: string }).kind,
    );
  const inbox = () => db.dataSource.getRepository(EngineInboxEntity).count();

  beforeEach(async () => {
    db = await openTestDatabase();
    second = createDataSource(db.config);
    await second.initialize();
    clock = new ManualClock(T0);
    const a = await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' }, T0);
    agent = { id: a.id, name: a.name };
    checkId = (
      await new ChecksRepository(db.dataSource).create(
        { agentId: a.id, name: 'PACS web', plugin: 'http', config: {}, intervalMs: INTERVAL, timeoutMs: 5000 },
        T0,
      )
    ).id;
    await new ChannelsRepository(db.dataSource).create({ name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } }, T0);
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    await second.destroy();
    await db.close();
  });

  it("a follower's poll events reach the leader's engine through the inbox: the alert fires once, and the follower's views show it", async () => {
    const leader = await collector(db.dataSource, new FakeCluster('a', true));
    const follower = await collector(second, new FakeCluster('b', false));

    await failThrice(follower);
    assert.equal(await inbox(), 3, 'the follower hands its events to the inbox, not to its own engine');
    assert.deepEqual(follower.alerts(), []);

    await leader.clusterRound();
    assert.deepEqual(await outboxKinds(), ['firing'], 'one notification');
    assert.equal(await inbox(), 0, 'taken in and deleted with the state');
    assert.equal(leader.alerts()[0]?.state, 'firing');

    await leader.clusterRound();
    assert.deepEqual(await outboxKinds(), ['firing'], 'nothing is taken in twice');

    await clock.advance(2000);
    await follower.clusterRound();
    assert.equal(follower.alerts()[0]?.state, 'firing', "the follower's copy follows the stored state");
  });

  it('in a quiet steady state (nothing to say) the leader still writes the state, deleting the rows it took in, once they add up', async () => {
    const leader = await collector(db.dataSource, new FakeCluster('a', true));
    const follower = await collector(second, new FakeCluster('b', false));
    for (let i = 0; i < 2100; i++) {
      await clock.advance(1000);
      follower.resultsStored(agent, [result(0)]);
    }
    await follower.forwarded();
    assert.equal(await inbox(), 2100);
    await leader.clusterRound();
    assert.equal(await inbox(), 100, 'the first 2,000 went with a write of the state; the last 100 wait for the next');
    await leader.clusterRound();
    assert.equal(await inbox(), 100, 'taken in, not yet written: not read again either');
    await leader.stop();
    assert.equal(await inbox(), 0, 'stopping writes what was taken in');
  });

  it('a leader that dies before committing leaves the events to the next one, which notifies once', async () => {
    const dying = await collector(db.dataSource, new FakeCluster('a', true), new DyingStore(db.dataSource));
    const follower = await collector(second, new FakeCluster('b', false));
    await failThrice(follower);

    await assert.rejects(dying.clusterRound(), /the collector died/);
    assert.equal(await inbox(), 3, 'nothing committed, nothing deleted');
    assert.deepEqual(await outboxKinds(), []);

    const next = await collector(db.dataSource, new FakeCluster('c', true));
    await next.clusterRound();
    assert.deepEqual(await outboxKinds(), ['firing']);
    assert.equal(await inbox(), 0);

    // And a leader that committed, then died: its successor has nothing to replay.
    const successor = await collector(second, new FakeCluster('d', true));
    await successor.clusterRound();
    assert.deepEqual(await outboxKinds(), ['firing'], 'no second notification');
    assert.equal(successor.alerts()[0]?.state, 'firing', 'the successor loaded the stored state');
  });

  it('an acknowledgement made on the follower commits on top of the stored state and shows on the leader', async () => {
    const leader = await collector(db.dataSource, new FakeCluster('a', true));
    const follower = await collector(second, new FakeCluster('b', false));
    await failThrice(follower);
    await leader.clusterRound();

    // The follower's copy is stale (it has not refreshed): the change is made again on the stored state.
    const fingerprint = leader.alerts()[0]!.fingerprint;
    const acked = await follower.acknowledge(fingerprint, acknowledgeDto.parse({ comment: 'on it', by: 'maria' }), SPEC_AUDIT);
    assert.equal(acked.ack?.by, 'maria');

    await clock.advance(2000);
    await leader.clusterRound();
    assert.equal(leader.alerts()[0]?.ack?.by, 'maria', "the leader's copy took in the follower's change");

    // The leader's next change does not undo it.
    await clock.advance(INTERVAL);
    leader.resultsStored(agent, [result(2)]);
    await leader.clusterRound();
    const reloaded = await collector(db.dataSource, new FakeCluster('e', false));
    assert.equal(reloaded.alerts()[0]?.ack?.by, 'maria');
  });

  it('a change made on a copy another collector has just changed is made again on the stored state, not over it', async () => {
    const leader = await collector(db.dataSource, new FakeCluster('a', true));
    // This follower does not see that the stored state moved until its commit meets the new revision.
    const blind = new (class extends AlertingRepository {
      lies = 1;
      override async storedRevision(): Promise<number> {
        const stored = await super.storedRevision();
        return this.lies-- > 0 ? stored - 1 : stored;
      }
    })(second);
    const follower = await collector(second, new FakeCluster('b', false), blind);
    await leader.addSilence(addSilenceDto.parse({ matchers: ['check="PACS web"'], duration: '1h', comment: 'replacing the PACS web server' }), SPEC_AUDIT);
    await follower.setRules(setRulesDto.parse([{ name: 'SlowPacs', metric: 'http_duration_seconds', op: '>', value: 2 }]), SPEC_AUDIT);
    assert.equal(blind.lies, 0, 'the follower looked once and was told nothing moved');

    const fresh = await collector(db.dataSource, new FakeCluster('c', false));
    assert.deepEqual(
      fresh.rules().map((r) => r.name),
      ['SlowPacs'],
    );
    assert.deepEqual(
      fresh.silences().map((s) => s.comment),
      ['replacing the PACS web server'],
      "the leader's silence survived the follower's change",
    );
  });

  it(
    'changes made on two collectors at the same moment both survive',
    { skip: TEST_ON_POSTGRES ? false : 'two collectors share PostgreSQL, never one SQLite file (its writers wait on one lock)' },
    async () => {
      const leader = await collector(db.dataSource, new FakeCluster('a', true));
      const follower = await collector(second, new FakeCluster('b', false));
      await Promise.all([
        ...['SlowPacs', 'SlowerPacs', 'SlowestPacs'].map((name, i) =>
          follower.setRules(setRulesDto.parse([{ name, metric: 'http_duration_seconds', op: '>', value: i + 1 }]), SPEC_AUDIT),
        ),
        ...['one', 'two', 'three'].map((comment) =>
          leader.addSilence(addSilenceDto.parse({ matchers: ['check="PACS web"'], duration: '1h', comment }), SPEC_AUDIT),
        ),
      ]);
      const fresh = await collector(db.dataSource, new FakeCluster('c', false));
      assert.equal(fresh.rules().length, 1, 'each rule list replaces the last');
      assert.deepEqual(
        fresh
          .silences()
          .map((s) => s.comment)
          .sort(),
        ['one', 'three', 'two'],
      );
    },
  );
});
