import { PluginRegistry } from '#rounds/plugins';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { AlertHistoryEntity, NotificationOutboxEntity, type StatusCode } from '../storage/entities/index.js';
import type { NotificationMessage } from '../notifications/message.js';
import { OutboxService } from '../notifications/outbox.service.js';
import type { Notifiers } from '../notifications/notifiers.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { AlertingRepository } from './alerting.repository.js';
import { ChannelsRepository } from '../notifications/channels.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { OutboxRepository } from '../notifications/outbox.repository.js';
import { openTestDatabase } from '../storage/testing.js';
import { AlertingService } from './alerting.service.js';
import { acknowledgeDto, addSilenceDto, alertHistoryQuery, maintenanceWindowDto, setRulesDto, unacknowledgeQuery } from './alerting.dto.js';
import { ConflictError } from '../shared/errors.js';
import type { NamedResult, PolledAgent } from '../polling/poller.service.js';
import { CurrentState } from '../state/current-state.js';
import { StateRepository } from '../state/state.repository.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const T0 = 1_700_000_000_000;
const INTERVAL = 15_000;
const STATUS: Record<string, StatusCode> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

interface Row {
  key: string;
  channelId: string;
  message: NotificationMessage;
}

/** A store whose first commit carrying notifications fails, as a full disk would make it. */
class FailingOnce extends AlertingRepository {
  failures = 1;
  override async commit(...args: Parameters<AlertingRepository['commit']>): Promise<string[]> {
    if (args[0].notifications.length > 0 && this.failures-- > 0) throw new Error('disk I/O error');
    return super.commit(...args);
  }
}

describe('AlertingService (engine wired to SQLite and the outbox)', () => {
  let db: Db;
  let clock: ManualClock;
  let agents: AgentsRepository;
  let checks: ChecksRepository;
  let outbox: OutboxService;
  let service: AlertingService;
  let agent: PolledAgent;
  let pacsWeb: string;
  let dicomEcho: string;
  let channelIds: string[];

  /** The read model as the collector loads it at start, after the spec's agents and checks exist. */
  let state: CurrentState;
  const currentState = async () => {
    state = new CurrentState(new StateRepository(db.dataSource), { pollIntervalMs: INTERVAL }, PluginRegistry.withBuiltins());
    await state.onModuleInit();
    return state;
  };

  const make = async () => {
    const s = new AlertingService(
      new AlertingRepository(db.dataSource),
      await currentState(),
      outbox,
      clock,
      { publicUrl: 'https://rounds.example' } as CollectorConfig,
      { tickMs: 0, commitSpacingMs: 0 },
    );
    await s.load();
    return s;
  };

  const names = new Map<string, { checkName: string; plugin: string }>();
  const result = (checkId: string, status: keyof typeof STATUS, summary = status === 'OK' ? 'answers' : 'connection refused'): NamedResult => ({
    checkId,
    ...names.get(checkId)!,
    seq: 0,
    startedAt: clock.now(),
    durationMs: 5,
    status: STATUS[status]!,
    reason: status === 'OK' ? 'ok' : 'refused',
    summary,
    metrics: [],
  });

  /** One poll interval later, the check reports `status` (several checks: one result each). */
  const poll = async (status: keyof typeof STATUS, ...checkIds: string[]) => {
    await clock.advance(INTERVAL);
    await service.ingest(
      agent,
      (checkIds.length ? checkIds : [pacsWeb]).map((id) => result(id, status)),
    );
  };

  const rows = async (): Promise<Row[]> =>
    (await db.dataSource.getRepository(NotificationOutboxEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } })).map((r) => ({
      key: r.key,
      channelId: r.channelId,
      message: JSON.parse(r.payloadJson) as NotificationMessage,
    }));

  const history = async () =>
    (await db.dataSource.getRepository(AlertHistoryEntity).find({ order: { id: 'ASC' } })).map((h) => ({
      ...h,
      details: JSON.parse(h.detailsJson) as Record<string, unknown>,
    }));

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(T0);
    agents = new AgentsRepository(db.dataSource);
    checks = new ChecksRepository(db.dataSource);
    const channels = new ChannelsRepository(db.dataSource);
    // Not started: specs look at the rows; delivery is the outbox's own spec.
    outbox = new OutboxService(new OutboxRepository(db.dataSource), channels, {} as Notifiers, clock);
    const a = await agents.create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' }, T0);
    agent = { id: a.id, name: a.name };
    pacsWeb = (
      await checks.create({ agentId: a.id, name: 'PACS web', plugin: 'http', config: {}, intervalMs: INTERVAL, timeoutMs: 5000, tags: { site: 'north' } }, T0)
    ).id;
    dicomEcho = (await checks.create({ agentId: a.id, name: 'DICOM echo', plugin: 'dicom-echo', config: {}, intervalMs: INTERVAL, timeoutMs: 5000 }, T0)).id;
    names.set(pacsWeb, { checkName: 'PACS web', plugin: 'http' });
    names.set(dicomEcho, { checkName: 'DICOM echo', plugin: 'dicom-echo' });
    channelIds = [
      (await channels.create({ name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } }, T0)).id,
      (await channels.create({ name: 'tg', type: 'telegram', config: { botToken: '1:x', chatId: 1 } }, T0)).id,
    ];
    await channels.create({ name: 'off', type: 'webhook', config: { url: 'http://127.0.0.1:9/' }, enabled: false }, T0);
    service = await make();
  });
  afterEach(async () => {
    await service.stop();
    await db.close();
  });

  it('a failing check fires after 3 results in a row and enqueues one outbox row per enabled channel', async () => {
    await poll('CRITICAL');
    await poll('CRITICAL');
    assert.deepEqual(await rows(), [], 'soft failures say nothing');
    assert.equal(service.alerts()[0]!.state, 'pending');

    await poll('CRITICAL');
    const sent = await rows();
    assert.deepEqual(sent.map((r) => r.channelId).sort(), [...channelIds].sort());
    const m = sent[0]!.message;
    assert.equal(sent[0]!.message.key, sent[1]!.message.key);
    assert.equal(m.kind, 'firing');
    assert.equal(m.severity, 'critical');
    assert.equal(m.title, 'PACS web on pacs-01 is CRITICAL');
    assert.equal(m.checkName, 'PACS web');
    assert.equal(m.agentName, 'pacs-01');
    assert.equal(m.reason, 'refused');
    assert.equal(m.since, T0 + INTERVAL, 'since: the first failing result');
    assert.equal(m.url, `https://rounds.example/checks/${pacsWeb}`);
    assert.deepEqual(m.labels, {
      alertname: 'CheckStatus',
      agent: 'pacs-01',
      agent_id: agent.id,
      check: 'PACS web',
      check_id: pacsWeb,
      plugin: 'http',
      severity: 'critical',
      site: 'north',
    });

    const lines = (await history()).map((h) => h.transition);
    assert.deepEqual(lines, ['pending', 'firing', 'notified']);
    const view = service.alerts()[0]!;
    assert.equal(view.state, 'firing');
    assert.equal(view.notified, true);
    assert.deepEqual(view.mutedBy, []);

    await poll('CRITICAL');
    assert.equal((await rows()).length, 2, 'still failing: nothing new until the reminder');
  });

  it('a blip shorter than the hard count sends nothing, and its pending alert clears', async () => {
    await poll('CRITICAL');
    await poll('WARNING');
    await poll('OK');
    await poll('CRITICAL');
    await poll('OK');
    assert.deepEqual(await rows(), []);
    assert.deepEqual(service.alerts(), []);
    assert.deepEqual(
      (await history()).map((h) => h.transition),
      ['pending', 'cleared', 'pending', 'cleared'],
    );
  });

  it('a recovered check enqueues "resolved" with the labels of its "firing"', async () => {
    for (let i = 0; i < 3; i++) await poll('CRITICAL');
    await poll('OK');
    const sent = await rows();
    assert.deepEqual(
      sent.map((r) => r.message.kind),
      ['firing', 'firing', 'resolved', 'resolved'],
    );
    const firing = sent[0]!.message;
    const resolved = sent.find((r) => r.message.kind === 'resolved')!.message;
    assert.deepEqual(resolved.labels, firing.labels);
    assert.equal(resolved.since, firing.since);
    assert.equal(resolved.resolvedAt, clock.now());
    assert.equal(resolved.title, 'PACS web on pacs-01 is OK again (was CRITICAL)');
    assert.deepEqual(service.alerts(), [], 'forgotten once "resolved" is out');
  });

  it('a silenced firing enqueues nothing but is recorded in the history with the silence', async () => {
    const silence = await service.addSilence(
      addSilenceDto.parse({ matchers: ['check="PACS web"'], duration: '1h', comment: 'replacing the PACS web server' }),
      SPEC_AUDIT,
    );
    assert.equal(silence.createdBy, 'api');
    for (let i = 0; i < 3; i++) await poll('CRITICAL', pacsWeb, dicomEcho);
    const sent = await rows();
    assert.deepEqual([...new Set(sent.map((r) => r.message.checkName))], ['DICOM echo'], 'only the check the silence does not match');
    const muted = (await history()).filter((h) => h.transition === 'muted');
    assert.equal(muted.length, 1);
    assert.equal((muted[0]!.details.labels as Record<string, string>).check, 'PACS web');
    assert.equal((muted[0]!.details.labels as Record<string, string>).site, 'north', 'its tags are labels, from the read model');
    assert.deepEqual(muted[0]!.details.mutedBy, [{ type: 'silence', id: silence.id, createdBy: 'api', comment: 'replacing the PACS web server' }]);
    assert.deepEqual(
      service
        .alerts()
        .find((a) => a.labels.check === 'PACS web')!
        .mutedBy.map((r) => r.type),
      ['silence'],
    );

    // Recovering under the silence: receivers never heard of it, so no "resolved" either.
    await poll('OK', pacsWeb);
    assert.equal((await rows()).length, sent.length);
  });

  it('maintenance mutes a firing during the window, and "resolved" still goes out for what fired before it', async () => {
    for (let i = 0; i < 3; i++) await poll('CRITICAL', pacsWeb);
    assert.equal((await rows()).length, 2);
    await service.putMaintenanceWindow(
      maintenanceWindowDto.parse({ name: 'PACS upgrade', kind: 'once', startsAt: clock.now(), endsAt: clock.now() + 3_600_000, comment: 'vendor on site' }),
      SPEC_AUDIT,
    );
    assert.deepEqual(
      service.maintenanceWindows().map((w) => [w.name, w.open]),
      [['PACS upgrade', true]],
    );

    for (let i = 0; i < 3; i++) await poll('CRITICAL', dicomEcho);
    await clock.advance(20 * 60_000);
    await service.tick();
    assert.equal((await rows()).length, 2, 'no firing for DICOM echo, no reminder for PACS web during the window');
    const muted = (await history()).filter((h) => h.transition === 'muted');
    assert.deepEqual(
      muted.map((h) => [(h.details.labels as Record<string, string>).check, (h.details.mutedBy as { type: string }[])[0]!.type]),
      [['DICOM echo', 'maintenance']],
    );

    await poll('OK', pacsWeb);
    const sent = await rows();
    assert.deepEqual(
      sent.slice(2).map((r) => [r.message.kind, r.message.checkName]),
      [
        ['resolved', 'PACS web'],
        ['resolved', 'PACS web'],
      ],
    );

    // The window ends while DICOM echo still fails: its firing goes out then.
    await clock.advance(3_600_000);
    await service.tick();
    assert.deepEqual(
      (await rows()).slice(4).map((r) => [r.message.kind, r.message.checkName]),
      [
        ['firing', 'DICOM echo'],
        ['firing', 'DICOM echo'],
      ],
    );
  });

  it('the engine state survives a restart: a new instance on the same database neither forgets nor notifies again', async () => {
    await service.setRules(setRulesDto.parse([{ name: 'SlowPacs', metric: 'http_duration_seconds', op: '>', value: 2 }]), SPEC_AUDIT);
    await service.addSilence(addSilenceDto.parse({ matchers: ['check="DICOM echo"'], duration: '2h', comment: 'known', createdBy: 'ward-it' }), SPEC_AUDIT);
    await service.setCheckPolicy(pacsWeb, { failuresBeforeHard: 2 }, SPEC_AUDIT);
    await poll('CRITICAL');
    await poll('CRITICAL');
    assert.equal((await rows()).length, 2, 'fired after 2 (the check policy)');
    await service.stop();

    service = await make();
    assert.equal(service.alerts()[0]!.state, 'firing');
    assert.deepEqual(
      service.rules().map((r) => [r.name, 'for' in r ? r.for : null]),
      [['SlowPacs', '0ms']],
    );
    assert.deepEqual(
      service.silences().map((s) => s.createdBy),
      ['ward-it'],
    );
    assert.equal((await service.checkPolicy(pacsWeb)).policy.failuresBeforeHard, 2);

    await poll('CRITICAL');
    await service.tick();
    assert.equal((await rows()).length, 2, 'no second "firing" after the restart');
    await poll('OK');
    assert.deepEqual(
      (await rows()).map((r) => r.message.kind),
      ['firing', 'firing', 'resolved', 'resolved'],
    );
  });

  it('counts kept only in memory are written by a tick (at most once a minute) and survive a restart', async () => {
    await poll('CRITICAL');
    await poll('CRITICAL'); // no transition: only counters changed
    await clock.advance(60_000);
    await service.tick();
    service = await make();
    await poll('CRITICAL');
    assert.equal((await rows()).length, 2, 'the third failure counts with the two before the restart');
  });

  it("an unreachable agent raises one AgentUnreachable alert; its checks' alerts are muted meanwhile and announced when it answers", async () => {
    service.agentDown(agent, 'agent pacs-01 refused the connection');
    // Results spooled while the collector could not reach the agent come in afterwards.
    for (let i = 0; i < 3; i++) await poll('CRITICAL', pacsWeb, dicomEcho);
    let sent = await rows();
    assert.deepEqual(
      sent.map((r) => [r.message.kind, r.message.title]),
      [
        ['firing', 'agent pacs-01 is unreachable'],
        ['firing', 'agent pacs-01 is unreachable'],
      ],
    );
    assert.equal(sent[0]!.message.labels.alertname, 'AgentUnreachable');
    const byCheck = Object.fromEntries(
      service
        .alerts()
        .filter((a) => a.name === 'CheckStatus')
        .map((a) => [String(a.labels.check), a.mutedBy.map((r) => r.type)] as const),
    );
    assert.deepEqual(byCheck, { 'PACS web': ['agent_unreachable'], 'DICOM echo': ['agent_unreachable'] });

    await poll('OK', dicomEcho);
    service.agentUp(agent);
    await service.tick(); // waits for the steps queued before it
    sent = await rows();
    assert.deepEqual(
      sent.slice(2).map((r) => [r.message.kind, r.message.title]),
      [
        ['resolved', 'agent pacs-01 answers again'],
        ['resolved', 'agent pacs-01 answers again'],
        ['firing', 'PACS web on pacs-01 is CRITICAL'],
        ['firing', 'PACS web on pacs-01 is CRITICAL'],
      ],
    );
  });

  it('an acknowledgement stops reminders until it is withdrawn, and the history says who and why', async () => {
    for (let i = 0; i < 3; i++) await poll('CRITICAL');
    const [alert] = service.alerts();
    const acked = await service.acknowledge(alert!.fingerprint, acknowledgeDto.parse({ comment: 'on it, replacing the NIC', by: 'maria' }), SPEC_AUDIT);
    assert.equal(acked.ack!.by, 'maria');
    await clock.advance(16 * 60_000);
    await service.tick();
    assert.equal((await rows()).length, 2, 'no reminder while acknowledged');

    await service.unacknowledge(alert!.fingerprint, unacknowledgeQuery.parse({}).by, SPEC_AUDIT);
    await service.tick();
    assert.deepEqual(
      (await rows()).map((r) => r.message.kind),
      ['firing', 'firing', 'reminder', 'reminder'],
    );
    const { page: lines } = await service.history(alertHistoryQuery.parse({ limit: 10, fingerprint: alert!.fingerprint }));
    const ack = lines.find((l) => l.transition === 'acknowledged')!;
    assert.deepEqual([ack.by, ack.comment], ['maria', 'on it, replacing the NIC']);
    assert.equal(lines.find((l) => l.transition === 'unacknowledged')!.by, 'api');
    assert.equal(lines[0]!.transition, 'notified', 'newest first');
  });

  it('operator actions are audited with the engine state they change, a refused one not at all', async () => {
    const audit = new AuditService(new AuditRepository(db.dataSource));
    const actions = async () => (await audit.list({ limit: 100 })).reverse().map((e) => [e.action, e.target.kind, e.actor]);
    for (let i = 0; i < 3; i++) await poll('CRITICAL');
    const [alert] = service.alerts();
    await service.acknowledge(alert!.fingerprint, acknowledgeDto.parse({ comment: 'on it', by: 'maria' }), SPEC_AUDIT);
    await assert.rejects(service.acknowledge('0000000000000000', acknowledgeDto.parse({ comment: 'x' }), SPEC_AUDIT));
    await service.setRules(setRulesDto.parse([{ name: 'SlowPacs', metric: 'http_duration_seconds', op: '>', value: 2 }]), SPEC_AUDIT);
    const silence = await service.addSilence(addSilenceDto.parse({ matchers: ['check="DICOM echo"'], duration: '1h', comment: 'known' }), SPEC_AUDIT);
    await service.expireSilence(silence.id, SPEC_AUDIT);
    await service.setCheckPolicy(pacsWeb, { failuresBeforeHard: 2 }, SPEC_AUDIT);
    assert.deepEqual(await actions(), [
      ['alert.ack', 'alert', 'spec'],
      ['rules.set', 'alert-rules', 'spec'],
      ['silence.add', 'silence', 'spec'],
      ['silence.expire', 'silence', 'spec'],
      ['check-policy.set', 'check', 'spec'],
    ]);
    const [ack, rules, , , policy] = (await audit.list({ limit: 100 })).reverse();
    assert.equal(ack!.before, null);
    assert.equal((ack!.after as { by: string }).by, 'maria');
    assert.deepEqual(rules!.before, []);
    assert.deepEqual(
      (rules!.after as { name: string }[]).map((r) => r.name),
      ['SlowPacs'],
    );
    assert.deepEqual([policy!.target.name, policy!.before, policy!.after], ['PACS web', null, { failuresBeforeHard: 2 }]);
    assert.equal((await audit.verify()).ok, true);
  });

  it('refuses to acknowledge an alert that is not firing (409) or does not exist (404)', async () => {
    await poll('CRITICAL');
    const [pending] = service.alerts();
    await assert.rejects(service.acknowledge(pending!.fingerprint, acknowledgeDto.parse({ comment: 'x' }), SPEC_AUDIT), ConflictError);
    await assert.rejects(service.acknowledge('0000000000000000', acknowledgeDto.parse({ comment: 'x' }), SPEC_AUDIT), /there is no alert 0000000000000000/);
  });

  it('a step whose commit fails is decided again by a later input: its notification is late, never lost', async () => {
    await service.stop();
    const store = new FailingOnce(db.dataSource);
    service = new AlertingService(store, await currentState(), outbox, clock, { publicUrl: 'https://rounds.example' } as CollectorConfig, {
      tickMs: 0,
      commitSpacingMs: 0,
    });
    await service.load();
    await poll('CRITICAL');
    await poll('CRITICAL');
    await assert.rejects(poll('CRITICAL'), /disk I\/O error/);
    assert.deepEqual(await rows(), []);
    assert.equal(service.alerts()[0]!.state, 'pending', 'back to the saved state');
    for (let i = 0; i < 3 && (await rows()).length === 0; i++) await poll('CRITICAL');
    assert.deepEqual(
      (await rows()).map((r) => r.message.kind),
      ['firing', 'firing'],
    );
  });

  it('changes that arrive while a commit runs share the next one: many agents going DOWN at once write the state a few times, notify each', async () => {
    class Counting extends AlertingRepository {
      commits = 0;
      override async commit(...args: Parameters<AlertingRepository['commit']>): Promise<string[]> {
        this.commits += 1;
        return super.commit(...args);
      }
    }
    await service.stop();
    const store = new Counting(db.dataSource);
    service = new AlertingService(store, await currentState(), outbox, clock, { publicUrl: 'https://rounds.example' } as CollectorConfig, {
      tickMs: 0,
      commitSpacingMs: 0,
    });
    await service.load();
    const down: PolledAgent[] = [];
    for (let i = 0; i < 40; i++) {
      const a = await agents.create({ name: `modality-${String(i).padStart(2, '0')}`, host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' }, T0);
      down.push({ id: a.id, name: a.name });
    }
    // The poller reports each failure as it happens, without waiting for the alerting; an
    // operator's mistaken acknowledgement lands in the middle and fails on its own.
    for (const a of down.slice(0, 20)) service.agentDown(a, `agent ${a.name} refused the connection`);
    const mistaken = service.acknowledge('no-such-alert', acknowledgeDto.parse({ by: 'alice', comment: 'looking' }), SPEC_AUDIT);
    for (const a of down.slice(20)) service.agentDown(a, `agent ${a.name} refused the connection`);
    await assert.rejects(mistaken);
    await service.tick();

    const firing = (await rows()).filter((r) => r.message.kind === 'firing');
    assert.equal(firing.length, down.length * channelIds.length, 'every agent is announced on every enabled channel');
    assert.deepEqual(new Set(firing.map((r) => r.message.labels.agent)), new Set(down.map((a) => a.name)));
    assert.ok(store.commits < down.length / 4, `${store.commits} state commits for ${down.length} changes`);
  });

  it('paces state writes: a change soon after a write waits for the spacing and takes later changes along', async () => {
    class Counting extends AlertingRepository {
      commits: string[][] = [];
      override async commit(...args: Parameters<AlertingRepository['commit']>): Promise<string[]> {
        this.commits.push(args[0].notifications.map((n) => n.key));
        return super.commit(...args);
      }
    }
    await service.stop();
    const store = new Counting(db.dataSource);
    service = new AlertingService(store, await currentState(), outbox, clock, { publicUrl: 'https://rounds.example' } as CollectorConfig, {
      tickMs: 0,
      commitSpacingMs: 1000,
    });
    await service.load();
    const [ct, mr] = await Promise.all(
      ['ward-ct', 'ward-mr'].map(async (name) => {
        const a = await agents.create({ name, host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' }, T0);
        return { id: a.id, name: a.name };
      }),
    );
    service.agentDown(agent, 'refused');
    await service.tick();
    assert.equal(store.commits.length, 1);
    service.agentDown(ct!, 'refused');
    // A later event-loop turn, while the second write waits for its turn.
    await new Promise((resolve) => setImmediate(resolve));
    service.agentDown(mr!, 'refused');
    await service.tick();
    assert.equal(store.commits.length, 2, 'the two later changes share one write');
    assert.deepEqual(new Set((await rows()).map((r) => r.message.labels.agent)), new Set(['pacs-01', 'ward-ct', 'ward-mr']));
  });

  it('a failed group commit fails every change in it and goes back to the saved state', async () => {
    await service.stop();
    service = new AlertingService(
      new FailingOnce(db.dataSource),
      await currentState(),
      outbox,
      clock,
      { publicUrl: 'https://rounds.example' } as CollectorConfig,
      {
        tickMs: 0,
        commitSpacingMs: 0,
      },
    );
    await service.load();
    const other = await agents.create({ name: 'ward-ct', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' }, T0);
    // Both go DOWN while the tick's change is being applied, so they share the next commit.
    const ticking = service.tick();
    service.agentDown(agent, 'refused');
    service.agentDown({ id: other.id, name: other.name }, 'refused');
    await ticking;
    await service.tick();
    assert.deepEqual(await rows(), [], 'nothing was enqueued by the failed commit');
    assert.equal(service.alerts().length, 0, 'the engine went back to the saved state: neither agent is DOWN');
    service.agentDown(agent, 'refused');
    await service.tick();
    assert.deepEqual(new Set((await rows()).map((r) => r.message.labels.agent)), new Set(['pacs-01']));
  });

  it("a deleted check's alert resolves at the next tick", async () => {
    for (let i = 0; i < 3; i++) await poll('CRITICAL');
    await checks.delete(pacsWeb);
    await state.refreshAgent(agent.id);
    await service.tick();
    assert.deepEqual(
      (await rows()).map((r) => r.message.kind),
      ['firing', 'firing', 'resolved', 'resolved'],
    );
    const resolved = (await history()).find((h) => h.transition === 'resolved')!;
    assert.equal(resolved.details.detail, 'check removed');
  });
});
