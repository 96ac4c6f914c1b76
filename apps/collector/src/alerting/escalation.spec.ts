import { PluginRegistry } from '#rounds/plugins';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { NotificationOutboxEntity, type StatusCode } from '../storage/entities/index.js';
import type { NotificationMessage } from '../notifications/message.js';
import { OutboxService } from '../notifications/outbox.service.js';
import type { Notifiers } from '../notifications/notifiers.js';
import type { OnCallDirectory } from '../notifications/on-call.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ChannelsRepository } from '../notifications/channels.repository.js';
import { OutboxRepository } from '../notifications/outbox.repository.js';
import { openTestDatabase } from '../storage/testing.js';
import type { NamedResult, PolledAgent } from '../polling/poller.service.js';
import { CurrentState } from '../state/current-state.js';
import { StateRepository } from '../state/state.repository.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { parseDto } from '../shared/dto.js';
import { NotificationRouter } from '../routing/notification-router.js';
import { PoliciesService } from '../routing/policies.service.js';
import { policyDto } from '../routing/policy.js';
import { RoutingRepository } from '../routing/routing.repository.js';
import { acknowledgeDto } from './alerting.dto.js';
import { AlertingRepository } from './alerting.repository.js';
import { AlertingService } from './alerting.service.js';
import { EscalationWorker } from './escalation.worker.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const T0 = Date.parse('2025-01-06T08:00:00Z');
const INTERVAL = 15_000;
const MIN = 60_000;
const STATUS: Record<string, StatusCode> = { OK: 0, WARNING: 1, CRITICAL: 2 };

describe('routing and escalation (alert engine, router and outbox on SQLite, with a manual clock)', () => {
  let db: Db;
  let clock: ManualClock;
  let outbox: OutboxService;
  let service: AlertingService;
  let router: NotificationRouter;
  let policies: PoliciesService;
  let worker: EscalationWorker;
  let agent: PolledAgent;
  let pacsWeb: string;
  const ch: Record<'day' | 'oncall' | 'boss' | 'other', string> = { day: '', oncall: '', boss: '', other: '' };
  /** The on-call seam as the schedules module will answer it: "radiology" has one person on call, reached by the oncall channel. */
  const directory: OnCallDirectory = {
    onCall: (schedule) => Promise.resolve(schedule === 'radiology' ? { schedule, users: ['ana'], channelIds: [ch.oncall], disabled: [] } : undefined),
  };

  /** The collector as it starts: policies loaded, engine restored; the worker is driven by hand. */
  const start = async () => {
    const state = new CurrentState(new StateRepository(db.dataSource), { pollIntervalMs: INTERVAL }, PluginRegistry.withBuiltins());
    await state.onModuleInit();
    const repo = new RoutingRepository(db.dataSource);
    router = new NotificationRouter(repo, db.dataSource, directory);
    await router.load();
    policies = new PoliciesService(repo, router, clock);
    service = new AlertingService(new AlertingRepository(db.dataSource, router), state, outbox, clock, { publicUrl: undefined } as CollectorConfig, {
      tickMs: 0,
      commitSpacingMs: 0,
    });
    await service.load();
    worker = new EscalationWorker(router, service, clock, { tickMs: 0 });
  };

  const poll = async (status: 'OK' | 'WARNING' | 'CRITICAL') => {
    await clock.advance(INTERVAL);
    const result: NamedResult = {
      checkId: pacsWeb,
      checkName: 'PACS web',
      plugin: 'http',
      seq: 0,
      startedAt: clock.now(),
      durationMs: 5,
      status: STATUS[status]!,
      reason: status === 'OK' ? 'ok' : 'refused',
      summary: status === 'OK' ? 'answers' : 'connection refused',
      metrics: [],
    };
    await service.ingest(agent, [result]);
  };
  const fire = async () => {
    for (let i = 0; i < 3; i++) await poll('CRITICAL');
  };

  /** What went to which channel, in order: `kind→channel` (`kind severity→channel` with `severities`). */
  const sent = async (severities = false): Promise<string[]> => {
    const names = new Map(Object.entries(ch).map(([name, id]) => [id, name]));
    return (await db.dataSource.getRepository(NotificationOutboxEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } })).map((r) => {
      const m = JSON.parse(r.payloadJson) as NotificationMessage;
      return `${m.kind}${severities ? ` ${m.severity}` : ''}→${names.get(r.channelId)}`;
    });
  };

  const escalation = (schedule = 'radiology') =>
    policies.create(
      parseDto(
        policyDto,
        {
          name: 'PACS north',
          matchers: ['site="north"'],
          steps: [
            { after: '0s', targets: [{ channel: 'day' }] },
            { after: '5m', targets: [{ schedule }] },
            { after: '15m', targets: [{ channel: 'boss' }, { channel: 'day' }] },
          ],
        },
        'invalid',
      ),
      SPEC_AUDIT,
    );

  const timeline = async () => (await policies.explainAlert(service.alerts()[0]!)).steps.map((s) => `${s.step} ${s.status}${s.note ? ` (${s.note})` : ''}`);

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(T0);
    const channels = new ChannelsRepository(db.dataSource);
    outbox = new OutboxService(new OutboxRepository(db.dataSource), channels, {} as Notifiers, clock);
    const a = await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' }, T0);
    agent = { id: a.id, name: a.name };
    pacsWeb = (
      await new ChecksRepository(db.dataSource).create(
        { agentId: a.id, name: 'PACS web', plugin: 'http', config: {}, intervalMs: INTERVAL, timeoutMs: 5000, tags: { site: 'north' } },
        T0,
      )
    ).id;
    for (const name of Object.keys(ch) as (keyof typeof ch)[])
      ch[name] = (await channels.create({ name, type: 'webhook', config: { url: 'http://127.0.0.1:9/' } }, T0)).id;
    await start();
  });
  afterEach(async () => {
    await service.stop();
    await db.close();
  });

  it('without policies every enabled channel hears everything, as before routing existed', async () => {
    await fire();
    assert.deepEqual(await sent(), ['firing→day', 'firing→oncall', 'firing→boss', 'firing→other']);
    await poll('OK');
    assert.deepEqual((await sent()).slice(4), ['resolved→day', 'resolved→oncall', 'resolved→boss', 'resolved→other']);
  });

  it('sends step 0 at once and a later step when due while nobody acknowledged, through the on-call schedule', async () => {
    await escalation();
    await fire();
    assert.deepEqual(await sent(), ['firing→day']);
    assert.deepEqual(await worker.escalateDue(), { sent: 0, cancelled: 0 }, 'nothing is due yet');
    await clock.advance(5 * MIN);
    assert.deepEqual(await worker.escalateDue(), { sent: 1, cancelled: 0 });
    assert.deepEqual(await sent(), ['firing→day', 'firing→oncall']);
    await clock.advance(10 * MIN);
    assert.deepEqual(await worker.escalateDue(), { sent: 1, cancelled: 0 });
    assert.deepEqual(await sent(), ['firing→day', 'firing→oncall', 'firing→boss'], 'day heard it at step 0: not twice');
    assert.deepEqual(await timeline(), ['0 sent', '1 sent', '2 sent']);
  });

  it('an acknowledgement cancels the steps still to come, and the timeline says who acknowledged', async () => {
    await escalation();
    await fire();
    await clock.advance(5 * MIN);
    await worker.escalateDue();
    const fingerprint = service.alerts()[0]!.fingerprint;
    await service.acknowledge(fingerprint, acknowledgeDto.parse({ comment: 'on it', by: 'ana' }), SPEC_AUDIT);
    await clock.advance(20 * MIN);
    assert.deepEqual(await worker.escalateDue(), { sent: 0, cancelled: 0 }, 'cancelled when acknowledged, not when due');
    assert.deepEqual(await sent(), ['firing→day', 'firing→oncall']);
    assert.deepEqual(await timeline(), ['0 sent', '1 sent', '2 cancelled (acknowledged by ana)']);
  });

  it('resolution cancels the pending steps, and "resolved" goes to exactly the channels that were told it fires', async () => {
    await escalation();
    await fire();
    await clock.advance(5 * MIN);
    await worker.escalateDue();
    await poll('OK');
    assert.deepEqual(await sent(), ['firing→day', 'firing→oncall', 'resolved→day', 'resolved→oncall'], 'not boss, not other');
    await clock.advance(20 * MIN);
    assert.deepEqual(await worker.escalateDue(), { sent: 0, cancelled: 0 });
    assert.equal((await sent()).length, 4);
  });

  it("a step found due after the alert resolved in a way the commit did not see is cancelled by the engine's answer", async () => {
    await escalation();
    await fire();
    const fingerprint = service.alerts()[0]!.fingerprint;
    await clock.advance(5 * MIN);
    assert.deepEqual(service.escalationVerdict(fingerprint, 0), { send: false, why: 'the alert resolved' }, 'another episode');
    assert.deepEqual(service.escalationVerdict(fingerprint, service.alerts()[0]!.activeAt), { send: true });
  });

  it('the timeline survives a restart: a new collector on the same database sends the step when due', async () => {
    await escalation();
    await fire();
    await service.stop();
    await clock.advance(6 * MIN);
    await start();
    assert.deepEqual(await timeline(), ['0 sent', '1 pending', '2 pending']);
    assert.deepEqual(await worker.escalateDue(), { sent: 1, cancelled: 0 });
    assert.deepEqual(await sent(), ['firing→day', 'firing→oncall']);
    const view = await policies.explainAlert(service.alerts()[0]!);
    assert.equal(view.timeline, 'recorded');
    assert.deepEqual(
      view.notified.map((c) => c.name),
      ['day', 'oncall'],
    );
  });

  it('a severity change routes again: who was told hears it, a policy that now matches adds its steps, pending steps send the newer message', async () => {
    const create = (input: Record<string, unknown>) => policies.create(parseDto(policyDto, input, 'invalid'), SPEC_AUDIT);
    await create({
      name: 'warnings',
      severities: ['warning'],
      steps: [
        { after: 0, targets: [{ channel: 'day' }] },
        { after: '5m', targets: [{ channel: 'boss' }] },
      ],
    });
    await create({ name: 'criticals', severities: ['critical'], steps: [{ after: 0, targets: [{ channel: 'oncall' }] }] });
    for (let i = 0; i < 3; i++) await poll('WARNING');
    assert.deepEqual(await sent(true), ['firing warning→day']);
    await poll('CRITICAL');
    assert.deepEqual(await sent(true), ['firing warning→day', 'firing critical→day', 'firing critical→oncall']);
    await clock.advance(5 * MIN);
    await worker.escalateDue();
    assert.deepEqual((await sent(true)).slice(3), ['firing critical→boss']);
    const steps = (await policies.explainAlert(service.alerts()[0]!)).steps.map((s) => `${s.policy} ${s.step} ${s.status}`);
    assert.deepEqual(steps, ['warnings 0 sent', 'criticals 0 sent', 'warnings 1 sent'], 'in the order they were due');
  });

  it('an unknown on-call schedule reaches nobody, and the timeline says so', async () => {
    await escalation('nights');
    await fire();
    await clock.advance(5 * MIN);
    await worker.escalateDue();
    assert.deepEqual(await sent(), ['firing→day']);
    assert.deepEqual((await timeline())[1], '1 sent (there is no on-call schedule "nights": it reaches nobody)');
  });
});
