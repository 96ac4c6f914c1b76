import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type CheckStatus } from '#rounds/common';
import type { EngineStep, HistoryEntry, Notification } from './alerts.js';
import {
  AlertEngine,
  agentAlertFingerprint,
  checkAlertFingerprint,
  ruleAlertFingerprint,
  type AlertEngineOptions,
  type CheckResultInput,
  type MetricInput,
} from './engine.js';
import type { MaintenanceWindow } from './maintenance.js';
import { parseRule, type Rule } from './rules.js';

const MIN = 60_000;
const T0 = Date.parse('2025-01-06T08:00:00Z');
const C1 = checkAlertFingerprint('c1');

function rule(input: Record<string, unknown>): Rule {
  const parsed = parseRule(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

/** One line per notification: `kind name severity`, and what muted it. */
function said(step: EngineStep): string[] {
  return step.notifications.map((n) => `${n.kind} ${n.alert.name} ${n.alert.severity}${n.muted.length ? ` (muted: ${n.muted.map((m) => m.type).join(', ')})` : ''}`);
}

class Rounds {
  readonly clock: ManualClock;
  readonly engine: AlertEngine;
  readonly notifications: Notification[] = [];
  readonly history: HistoryEntry[] = [];

  readonly start: number;

  constructor(options: Partial<AlertEngineOptions> = {}, start = T0) {
    this.start = start;
    this.clock = new ManualClock(start);
    this.engine = new AlertEngine({ clock: this.clock, ...options });
  }

  keep(step: EngineStep): EngineStep {
    this.notifications.push(...step.notifications);
    this.history.push(...step.history);
    return step;
  }

  /** Moves the clock to `ms` after the start (never backwards). */
  async to(ms: number): Promise<void> {
    await this.clock.advance(this.start + ms - this.clock.now());
  }

  result(status: CheckStatus | number, fields: Partial<CheckResultInput> = {}): EngineStep {
    return this.keep(
      this.engine.ingest({
        agentId: 'a1',
        agentName: 'pacs-01',
        checkId: 'c1',
        checkName: 'PACS web',
        plugin: 'http',
        status,
        reason: status === 'OK' || status === 0 ? 'ok' : 'timeout',
        summary: status === 'OK' || status === 0 ? '200 in 35 ms' : 'no answer within 10 s',
        metrics: [],
        at: this.clock.now(),
        ...fields,
      }),
    );
  }

  metrics(metrics: MetricInput[], fields: Partial<CheckResultInput> = {}): EngineStep {
    return this.result('OK', { checkId: 'host', checkName: 'host', plugin: 'host-metrics', metrics, ...fields });
  }

  tick(): EngineStep {
    return this.keep(this.engine.tick());
  }

  events(fingerprint?: string): string[] {
    return this.history.filter((h) => !fingerprint || h.fingerprint === fingerprint).map((h) => h.event);
  }
}

/** Feeds statuses one minute apart; returns what each result said, by 1-based index, leaving out silent ones. */
async function feed(r: Rounds, statuses: CheckStatus[]): Promise<Record<number, string[]>> {
  const out: Record<number, string[]> = {};
  for (let i = 0; i < statuses.length; i++) {
    if (i > 0) await r.clock.advance(MIN);
    const lines = said(r.result(statuses[i]!));
    if (lines.length) out[i + 1] = lines;
  }
  return out;
}

async function firing(r: Rounds, fields: Partial<CheckResultInput> = {}): Promise<void> {
  for (let i = 0; i < 3; i++) {
    if (i > 0) await r.clock.advance(MIN);
    r.result('CRITICAL', fields);
  }
}

describe('AlertEngine', () => {
  describe('check alerts: soft and hard states', () => {
    it('notifies "firing" only on the third failure in a row; the first two are pending (soft)', async () => {
      const r = new Rounds();
      assert.deepEqual(said(r.result('CRITICAL')), []);
      assert.equal(r.engine.alert(C1)?.state, 'pending');
      assert.equal(r.engine.checkState('c1')?.stateType, 'SOFT');
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.result('CRITICAL')), []);
      await r.clock.advance(MIN);
      const step = r.result('CRITICAL');
      assert.deepEqual(said(step), ['firing CheckStatus critical']);
      const alert = step.notifications[0]!.alert;
      assert.deepEqual(alert.labels, { alertname: 'CheckStatus', severity: 'critical', agent: 'pacs-01', agent_id: 'a1', check: 'PACS web', check_id: 'c1', plugin: 'http' });
      assert.equal(alert.summary, 'PACS web on pacs-01 is CRITICAL: no answer within 10 s');
      assert.equal(alert.reason, 'timeout');
      assert.equal(alert.activeAt, T0);
      assert.equal(alert.firedAt, T0 + 2 * MIN);
      assert.deepEqual(r.events(), ['pending', 'firing']);
    });

    it('clears a pending check alert without a notification when the check passes again', async () => {
      const r = new Rounds();
      assert.deepEqual(await feed(r, ['CRITICAL', 'CRITICAL', 'OK', 'CRITICAL', 'OK']), {});
      assert.deepEqual(r.events(), ['pending', 'cleared', 'pending', 'cleared']);
      assert.deepEqual(r.engine.alerts(), []);
    });

    it('sends "resolved" on the first OK after a hard failure by default', async () => {
      const r = new Rounds();
      assert.deepEqual(await feed(r, ['CRITICAL', 'CRITICAL', 'CRITICAL', 'OK']), { 3: ['firing CheckStatus critical'], 4: ['resolved CheckStatus critical'] });
      assert.deepEqual(r.engine.alerts(), [], 'a resolved alert that has been announced is forgotten');
    });

    it('with successesBeforeRecovery 3 keeps firing through a short recovery and resolves after three OKs in a row', async () => {
      const r = new Rounds();
      r.engine.setCheckPolicy('c1', { successesBeforeRecovery: 3 });
      const out = await feed(r, ['CRITICAL', 'CRITICAL', 'CRITICAL', 'OK', 'OK', 'CRITICAL', 'OK', 'OK', 'OK']);
      assert.deepEqual(out, { 3: ['firing CheckStatus critical'], 9: ['resolved CheckStatus critical'] });
      assert.deepEqual(r.events(C1), ['pending', 'firing', 'resolved']);
    });

    it('honours failuresBeforeHard set for all checks and overridden for one', async () => {
      const r = new Rounds({ checkPolicy: { failuresBeforeHard: 5 } });
      r.engine.setCheckPolicy('c2', { failuresBeforeHard: 1 });
      assert.equal(r.engine.checkPolicy('c1').failuresBeforeHard, 5);
      assert.deepEqual(said(r.result('CRITICAL', { checkId: 'c2' })), ['firing CheckStatus critical']);
      assert.deepEqual(await feed(r, ['CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL']), { 5: ['firing CheckStatus critical'] });
    });

    it('notifies "firing" again when a hard WARNING turns CRITICAL, and drops the acknowledgement', async () => {
      const r = new Rounds();
      assert.deepEqual(await feed(r, ['WARNING', 'WARNING', 'WARNING']), { 3: ['firing CheckStatus warning'] });
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'looking' }));
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.result('CRITICAL')), ['firing CheckStatus critical']);
      assert.equal(r.engine.alert(C1)?.ack, null);
      assert.deepEqual(r.events(C1), ['pending', 'firing', 'acknowledged', 'severity_changed', 'ack_cleared']);
      assert.equal(r.history.find((h) => h.event === 'severity_changed')?.from, 'warning');
    });

    it('takes stored status numbers: three 3s (UNKNOWN) fire with severity warning', async () => {
      const r = new Rounds();
      r.result(3);
      await r.clock.advance(MIN);
      r.result(3);
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.result(3)), ['firing CheckStatus warning']);
      assert.equal(r.engine.alert(C1)?.status, 'UNKNOWN');
      assert.equal(r.engine.checkState('c1')?.hardStatus, 'UNKNOWN');
    });

    it('ignores a result older than the latest one it has seen', async () => {
      const r = new Rounds();
      await firing(r);
      assert.deepEqual(said(r.result('OK', { at: T0 })), []);
      assert.equal(r.engine.alert(C1)?.state, 'firing');
    });

    it('resolves the alerts of a check that is forgotten', async () => {
      const r = new Rounds();
      await firing(r);
      assert.deepEqual(said(r.keep(r.engine.forgetCheck('c1'))), ['resolved CheckStatus critical']);
      assert.equal(r.engine.checkState('c1'), undefined);
    });
  });

  describe('flapping', () => {
    const flappy = { failuresBeforeHard: 1, flap: { window: 10, high: 40, low: 25, weighted: false } };

    it('holds the notifications of a flapping check and sends "resolved" once it settles OK', async () => {
      const r = new Rounds({ checkPolicy: flappy });
      const out = await feed(r, ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK', ...Array<CheckStatus>(7).fill('OK')]);
      // 4 changes in the window (44 %) on the fifth result; below 25 % again on the 14th.
      assert.deepEqual(out, {
        2: ['firing CheckStatus critical'],
        3: ['resolved CheckStatus critical'],
        4: ['firing CheckStatus critical'],
        14: ['resolved CheckStatus critical'],
      });
      assert.deepEqual(r.events(C1).slice(5), ['flapping_started', 'resolved', 'reopened', 'resolved', 'flapping_stopped']);
      assert.equal(r.engine.checkState('c1')?.flapping, false);
    });

    it('announces a check that flaps into a failure once, when it settles failing', async () => {
      const r = new Rounds({ checkPolicy: { ...flappy, failuresBeforeHard: 2 } });
      const out = await feed(r, ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK', 'CRITICAL', ...Array<CheckStatus>(7).fill('CRITICAL')]);
      assert.deepEqual(out, {
        7: ['firing CheckStatus critical (muted: flapping)'],
        13: ['firing CheckStatus critical'],
      });
    });

    it('sends no reminders while a firing check flaps', async () => {
      const r = new Rounds({ checkPolicy: { ...flappy, failuresBeforeHard: 1, successesBeforeRecovery: 5 } });
      await feed(r, ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK']);
      assert.equal(r.engine.checkState('c1')?.flapping, true);
      assert.deepEqual(r.engine.mutedBy(C1), [{ type: 'flapping', checkId: 'c1' }]);
      await r.clock.advance(60 * MIN);
      assert.deepEqual(said(r.tick()), []);
    });
  });

  describe('agent unreachable', () => {
    it('raises one AgentUnreachable alert and keeps the alerts of the agent\'s checks quiet until it answers again', async () => {
      const r = new Rounds();
      await firing(r); // c1 fired at +2m
      r.result('OK', { checkId: 'c2', checkName: 'DICOM echo' });
      await r.to(3 * MIN);
      const down = r.keep(r.engine.agentUnreachable({ agentId: 'a1', error: 'connect ECONNREFUSED 10.0.4.7:7443' }));
      assert.deepEqual(said(down), ['firing AgentUnreachable critical']);
      assert.equal(down.notifications[0]!.alert.summary, 'agent pacs-01 is unreachable: connect ECONNREFUSED 10.0.4.7:7443');
      assert.deepEqual(r.engine.mutedBy(C1), [{ type: 'agent_unreachable', agentId: 'a1' }]);

      await r.to(18 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder AgentUnreachable critical'], 'no reminder for the check of the unreachable agent');
      assert.deepEqual(said(r.result('CRITICAL', { checkId: 'c2' })), []);
      await r.to(19 * MIN);
      r.result('CRITICAL', { checkId: 'c2' });
      await r.to(20 * MIN);
      assert.deepEqual(said(r.result('CRITICAL', { checkId: 'c2' })), ['firing CheckStatus critical (muted: agent_unreachable)']);

      await r.to(21 * MIN);
      const up = r.keep(r.engine.agentReachable({ agentId: 'a1' }));
      assert.deepEqual(said(up).sort(), ['firing CheckStatus critical', 'reminder CheckStatus critical', 'resolved AgentUnreachable critical']);
      assert.equal(r.engine.agentState('a1')?.reachable, true);
    });

    it('keeps one alert and one notification however often the poller reports the agent unreachable', async () => {
      const r = new Rounds();
      assert.deepEqual(said(r.engine.agentUnreachable({ agentId: 'a1', agentName: 'pacs-01' })), ['firing AgentUnreachable critical']);
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.engine.agentUnreachable({ agentId: 'a1', error: 'deadline exceeded' })), []);
      assert.equal(r.engine.alerts().length, 1);
      assert.equal(r.engine.agentState('a1')?.since, T0);
      assert.equal(r.engine.alert(agentAlertFingerprint('a1'))?.summary, 'agent pacs-01 is unreachable: deadline exceeded');
    });
  });

  describe('threshold rules', () => {
    const diskFull = rule({ name: 'disk-almost-full', metric: 'filesystem_used_ratio', op: '>', value: 0.9, for: '10m', matchers: ['mount!="/boot"'] });
    const disk = (value: number, mount = '/data'): MetricInput => ({ name: 'filesystem_used_ratio', value, unit: 'ratio', labels: { mount } });

    it('goes pending on the first breach, fires once the condition has held for `for`, and resolves when it ends', async () => {
      const r = new Rounds({ rules: [diskFull] });
      assert.deepEqual(said(r.metrics([disk(0.95)])), []);
      await r.to(5 * MIN);
      assert.deepEqual(said(r.metrics([disk(0.96)])), []);
      const fp = ruleAlertFingerprint('disk-almost-full', 'a1', 'host', 'filesystem_used_ratio', { mount: '/data' });
      assert.equal(r.engine.alert(fp)?.state, 'pending');
      await r.to(10 * MIN);
      const fired = r.metrics([disk(0.97)]);
      assert.deepEqual(said(fired), ['firing disk-almost-full warning']);
      assert.equal(fired.notifications[0]!.alert.summary, 'filesystem_used_ratio{mount="/data"} of host on pacs-01 is 0.97 (> 0.9)');
      assert.equal(fired.notifications[0]!.alert.value, 0.97);
      await r.to(15 * MIN);
      assert.deepEqual(said(r.metrics([disk(0.5)])), ['resolved disk-almost-full warning']);
      assert.deepEqual(r.events(fp), ['pending', 'firing', 'resolved']);
    });

    it('clears a breach shorter than `for` without notifying', async () => {
      const r = new Rounds({ rules: [diskFull] });
      r.metrics([disk(0.95)]);
      await r.to(9 * MIN);
      r.metrics([disk(0.99)]);
      await r.to(10 * MIN);
      assert.deepEqual(said(r.metrics([disk(0.8)])), []);
      assert.deepEqual(r.events(), ['pending', 'cleared']);
    });

    it('fires at once without `for`, e.g. on a DICOM echo that takes too long', () => {
      const r = new Rounds({ rules: [rule({ name: 'slow-echo', metric: 'echo_seconds', op: '>=', value: 2, severity: 'critical' })] });
      const step = r.result('OK', { checkId: 'echo', checkName: 'DICOM echo', plugin: 'dicom-echo', metrics: [{ name: 'echo_seconds', value: 2.5, unit: 'seconds' }] });
      assert.deepEqual(said(step), ['firing slow-echo critical']);
    });

    it('selects series by agent, check, metric name and labels with =, != and =~', () => {
      const r = new Rounds({
        rules: [rule({ name: 'pacs-disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9, matchers: ['agent=~"pacs-.*"', 'check="host"', 'mount!="/boot"'] })],
      });
      r.metrics([disk(0.95, '/data'), disk(0.99, '/boot'), { name: 'memory_used_ratio', value: 0.99 }]);
      r.metrics([disk(0.99, '/data')], { agentId: 'a2', agentName: 'nas-01' });
      r.metrics([disk(0.99, '/data')], { checkId: 'host2', checkName: 'second host check' });
      const alerts = r.engine.alerts();
      assert.equal(alerts.length, 1);
      assert.deepEqual(alerts[0]!.labels, {
        alertname: 'pacs-disk',
        severity: 'warning',
        agent: 'pacs-01',
        agent_id: 'a1',
        check: 'host',
        check_id: 'host',
        plugin: 'host-metrics',
        metric: 'filesystem_used_ratio',
        mount: '/data',
      });
    });

    it('keeps one alert per series under a fingerprint that does not depend on names or on the engine', () => {
      const r = new Rounds({ rules: [rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9 })] });
      r.metrics([disk(0.95, '/data'), disk(0.95, '/images')]);
      r.metrics([disk(0.96, '/data')], { agentName: 'pacs-01-renamed' });
      const fps = r.engine.alerts().map((a) => a.fingerprint).sort();
      assert.deepEqual(fps, [
        ruleAlertFingerprint('disk', 'a1', 'host', 'filesystem_used_ratio', { mount: '/data' }),
        ruleAlertFingerprint('disk', 'a1', 'host', 'filesystem_used_ratio', { mount: '/images' }),
      ].sort());
      assert.match(fps[0]!, /^[0-9a-f]{16}$/);
      assert.equal(r.engine.alert(fps.find((f) => f === ruleAlertFingerprint('disk', 'a1', 'host', 'filesystem_used_ratio', { mount: '/data' }))!)?.labels.agent, 'pacs-01-renamed');
    });

    it('keeps a metric label that clashes with an engine label as exported_<name>', () => {
      const r = new Rounds({ rules: [rule({ name: 'modality-echo', metric: 'echo_seconds', op: '>', value: 1, matchers: ['exported_agent="CT01"'] })] });
      r.metrics([{ name: 'echo_seconds', value: 3, labels: { agent: 'CT01' } }]);
      assert.equal(r.engine.alerts()[0]?.labels.exported_agent, 'CT01');
      assert.equal(r.engine.alerts()[0]?.labels.agent, 'pacs-01');
    });

    it('ignores values that are not finite numbers', () => {
      const r = new Rounds({ rules: [rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '!=', value: 0 })] });
      r.metrics([disk(Number.NaN)]);
      assert.deepEqual(r.engine.alerts(), []);
    });

    it('resolves the alerts of a rule that is removed, and of one whose new threshold the last value no longer crosses', () => {
      const r = new Rounds({ rules: [rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9 }), rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.8 })] });
      r.metrics([disk(0.95), { name: 'cpu_usage_ratio', value: 0.85 }]);
      const step = r.keep(r.engine.setRules([rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.9 })]));
      assert.deepEqual(said(step).sort(), ['resolved cpu warning', 'resolved disk warning']);
      assert.deepEqual(r.history.filter((h) => h.event === 'resolved').map((h) => h.detail).sort(), ['rule cpu changed and no longer matches', 'rule disk was removed']);
    });

    it('gives a changed rule\'s firing alerts its new severity', () => {
      const r = new Rounds({ rules: [rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9 })] });
      r.metrics([disk(0.95)]);
      assert.deepEqual(said(r.engine.setRules([rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9, severity: 'critical' })])), ['firing disk critical']);
    });
  });

  describe('reminders and acknowledgements', () => {
    it('reminds every 15 minutes while firing by default', async () => {
      const r = new Rounds();
      await firing(r); // fired at +2m
      await r.to(17 * MIN - 1);
      assert.deepEqual(said(r.tick()), []);
      await r.to(17 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
      await r.to(31 * MIN);
      assert.deepEqual(said(r.tick()), []);
      await r.to(32 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
    });

    it('reminds every `repeat` of the rule or check, and never when it is 0', async () => {
      const r = new Rounds({ rules: [rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.8, repeat: '1h' })] });
      r.engine.setCheckPolicy('c1', { repeatMs: 0 });
      r.metrics([{ name: 'cpu_usage_ratio', value: 0.9 }]);
      await firing(r);
      await r.to(59 * MIN);
      assert.deepEqual(said(r.tick()), []);
      await r.to(60 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder cpu warning']);
      await r.to(600 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder cpu warning']);
    });

    it('stops reminders while acknowledged, and reminds at once when the acknowledgement expires', async () => {
      const r = new Rounds();
      await firing(r);
      await r.to(5 * MIN);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'restarting Orthanc', expiresAt: T0 + 45 * MIN }));
      assert.deepEqual(r.engine.mutedBy(C1), [{ type: 'acknowledged', by: 'dana', expiresAt: T0 + 45 * MIN }]);
      for (const m of [17, 30, 44]) {
        await r.to(m * MIN);
        assert.deepEqual(said(r.tick()), [], `at +${m}m`);
      }
      await r.to(45 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
      assert.deepEqual(r.events(C1).slice(-2), ['acknowledged', 'ack_expired']);
      await r.to(60 * MIN - 1);
      assert.deepEqual(said(r.tick()), []);
      await r.to(60 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
    });

    it('keeps an acknowledgement without expiry until the alert resolves; the next episode needs its own', async () => {
      const r = new Rounds();
      await firing(r);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'on it' }));
      await r.to(300 * MIN);
      assert.deepEqual(said(r.tick()), []);
      assert.deepEqual(said(r.result('OK')), ['resolved CheckStatus critical'], '"resolved" is sent for an acknowledged alert');
      await r.clock.advance(MIN);
      await firing(r);
      assert.equal(r.engine.alert(C1)?.ack, null);
      assert.deepEqual(said(r.tick()), []);
      assert.equal(r.notifications.at(-1)?.kind, 'firing');
    });

    it('sends an overdue reminder at once when the acknowledgement is withdrawn', async () => {
      const r = new Rounds();
      await firing(r);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'on it' }));
      await r.to(40 * MIN);
      assert.deepEqual(said(r.keep(r.engine.unacknowledge(C1, 'lee'))), ['reminder CheckStatus critical']);
      assert.equal(r.history.at(-1)?.by, 'lee');
    });

    it('refuses to acknowledge without a comment, an alert that is not firing, an unknown alert, or with an expiry in the past', async () => {
      const r = new Rounds();
      r.result('CRITICAL');
      assert.throws(() => r.engine.acknowledge(C1, { by: 'dana', comment: 'x' }), {
        name: 'AlertStateError',
        message: `alert CheckStatus (${C1}) is pending: only a firing alert can be acknowledged`,
      });
      await firing(r);
      assert.throws(() => r.engine.acknowledge(C1, { by: 'dana', comment: '  ' }), {
        message: 'an acknowledgement needs a comment: say who is on it or why the alert can wait',
      });
      assert.throws(() => r.engine.acknowledge(C1, { by: 'dana', comment: 'x', expiresAt: r.clock.now() }), {
        message: 'the acknowledgement would expire at 2025-01-06T08:02:00.000Z, which is not in the future',
      });
      assert.throws(() => r.engine.acknowledge('0000000000000000', { by: 'dana', comment: 'x' }), {
        name: 'AlertNotFoundError',
        message: 'there is no alert 0000000000000000: it may have resolved in the meantime — reload the alert list',
      });
      assert.throws(() => r.engine.unacknowledge(C1, 'dana'), { message: `alert CheckStatus (${C1}) is not acknowledged` });
    });
  });

  describe('silences', () => {
    it('mute matching alerts only, record the held "firing", and send it when the silence expires while the alert still fires', async () => {
      const r = new Rounds();
      const { silence } = r.engine.addSilence({ matchers: [{ label: 'check', op: '=', value: 'PACS web' }], durationMs: 60 * MIN, createdBy: 'dana', comment: 'migrating' });
      await firing(r);
      await firing(r, { checkId: 'c2', checkName: 'DICOM echo' });
      const muted = r.notifications.filter((n) => n.muted.length);
      assert.deepEqual(muted.map((n) => [n.kind, n.alert.labels.check, n.muted]), [['firing', 'PACS web', [{ type: 'silence', id: silence.id, createdBy: 'dana', comment: 'migrating' }]]]);
      assert.deepEqual(r.notifications.filter((n) => !n.muted.length).map((n) => n.alert.labels.check), ['DICOM echo']);

      await r.to(30 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical'], 'only the unsilenced check reminds');
      assert.deepEqual(said(r.keep(r.engine.expireSilence(silence.id))), ['firing CheckStatus critical']);
      assert.equal(r.engine.silences()[0]?.endsAt, T0 + 30 * MIN);
    });

    it('let an alert that fired before the silence send "resolved" while silenced', async () => {
      const r = new Rounds();
      await firing(r);
      r.engine.addSilence({ matchers: [{ label: 'agent', op: '=', value: 'pacs-01' }], durationMs: 60 * MIN, createdBy: 'dana', comment: 'migrating' });
      await r.to(20 * MIN);
      assert.deepEqual(said(r.tick()), []);
      assert.deepEqual(said(r.result('OK')), ['resolved CheckStatus critical']);
    });

    it('end on their own: a firing alert they held back is sent at the first tick after', async () => {
      const r = new Rounds();
      r.engine.addSilence({ matchers: [{ label: 'alertname', op: '=', value: 'CheckStatus' }], durationMs: 10 * MIN, createdBy: 'dana', comment: 'c' });
      await firing(r);
      await r.to(10 * MIN - 1);
      assert.deepEqual(said(r.tick()), []);
      await r.to(10 * MIN);
      assert.deepEqual(said(r.tick()), ['firing CheckStatus critical']);
    });

    it('are forgotten a week after they end', async () => {
      const r = new Rounds();
      r.engine.addSilence({ id: 's1', matchers: [{ label: 'agent', op: '=', value: 'x' }], durationMs: MIN, createdBy: 'dana', comment: 'c' });
      await r.to(MIN + 7 * 24 * 60 * MIN - 1);
      r.tick();
      assert.equal(r.engine.silences().length, 1);
      await r.to(MIN + 7 * 24 * 60 * MIN);
      r.tick();
      assert.equal(r.engine.silences().length, 0);
      assert.throws(() => r.engine.expireSilence('s1'), { message: 'there is no silence s1: it may have expired and been removed — reload the list' });
    });
  });

  describe('maintenance windows', () => {
    it('mute notifications but keep recording, and "resolved" still goes out for what fired before', async () => {
      const r = new Rounds();
      await firing(r); // c1 fired and was announced before the window
      const window: MaintenanceWindow = { id: 'm1', name: 'PACS upgrade', matchers: [{ label: 'agent', op: '=', value: 'pacs-01' }], comment: null, kind: 'once', startsAt: T0 + 10 * MIN, endsAt: T0 + 70 * MIN };
      r.engine.putMaintenanceWindow(window);
      await r.to(10 * MIN);
      assert.deepEqual(said(r.tick()), []);
      await firing(r, { checkId: 'c2', checkName: 'DICOM echo' });
      assert.deepEqual(said({ notifications: r.notifications.slice(-1), history: [] }), ['firing CheckStatus critical (muted: maintenance)']);
      assert.deepEqual(r.notifications.at(-1)?.muted, [{ type: 'maintenance', id: 'm1', name: 'PACS upgrade' }]);
      assert.deepEqual(r.events(checkAlertFingerprint('c2')), ['pending', 'firing'], 'the history is kept during maintenance');

      await r.to(40 * MIN);
      assert.deepEqual(said(r.tick()), [], 'no reminders in maintenance');
      assert.deepEqual(said(r.result('OK')), ['resolved CheckStatus critical'], 'c1 fired before the window: its "resolved" goes out');
      assert.deepEqual(said(r.result('OK', { checkId: 'c2' })), [], 'c2 was never announced: nothing to resolve');
      assert.deepEqual(r.events(checkAlertFingerprint('c2')), ['pending', 'firing', 'resolved']);
    });

    it('send what still fires when the window closes', async () => {
      const r = new Rounds();
      r.engine.putMaintenanceWindow({ id: 'm1', name: 'patching', matchers: [], comment: null, kind: 'once', startsAt: T0, endsAt: T0 + 30 * MIN });
      await firing(r);
      await r.to(30 * MIN);
      assert.deepEqual(said(r.tick()), ['firing CheckStatus critical']);
      r.keep(r.engine.removeMaintenanceWindow('m1'));
      assert.deepEqual(r.engine.maintenanceWindows(), []);
    });

    it('mute a weekly Sunday 02:00–04:00 Europe/Berlin window on the spring-forward Sunday from 01:00 to 02:00 UTC only', async () => {
      const r = new Rounds({}, Date.parse('2025-03-30T00:43:00Z'));
      r.engine.putMaintenanceWindow({ id: 'sun', name: 'Sunday patching', matchers: [], comment: null, kind: 'weekly', timeZone: 'Europe/Berlin', start: '02:00', end: '04:00', days: ['sun'] });
      await firing(r); // announced at 00:45Z, before the window
      assert.equal(r.notifications.at(-1)?.at, Date.parse('2025-03-30T00:45:00Z'));
      const at = async (text: string) => {
        await r.clock.advance(Date.parse(text) - r.clock.now());
        return said(r.tick());
      };
      assert.deepEqual(await at('2025-03-30T01:00:00Z'), [], 'reminder due, but 03:00 CEST is inside the window');
      assert.deepEqual(await at('2025-03-30T01:59:59Z'), []);
      assert.deepEqual(await at('2025-03-30T02:00:00Z'), ['reminder CheckStatus critical'], '04:00 CEST: the window has closed');
    });

    it('mute the same window on the fall-back Sunday from 00:00 to 03:00 UTC', async () => {
      const r = new Rounds({ repeatMs: 30 * MIN }, Date.parse('2025-10-25T23:28:00Z'));
      r.engine.putMaintenanceWindow({ id: 'sun', name: 'Sunday patching', matchers: [], comment: null, kind: 'weekly', timeZone: 'Europe/Berlin', start: '02:00', end: '04:00', days: ['sun'] });
      await firing(r); // announced at 23:30Z on Saturday
      const at = async (text: string) => {
        await r.clock.advance(Date.parse(text) - r.clock.now());
        return said(r.tick());
      };
      assert.deepEqual(await at('2025-10-26T00:00:00Z'), [], '02:00 CEST, first pass');
      assert.deepEqual(await at('2025-10-26T01:30:00Z'), [], '02:30 CET, second pass');
      assert.deepEqual(await at('2025-10-26T02:59:59Z'), []);
      assert.deepEqual(await at('2025-10-26T03:00:00Z'), ['reminder CheckStatus critical']);
    });
  });

  describe('state and notification keys', () => {
    it('survives a round trip through JSON mid-episode: reminders keep their schedule and keys continue', async () => {
      const r = new Rounds({ rules: [rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.8, for: '5m' })] });
      await firing(r);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'on it', expiresAt: T0 + 20 * MIN }));
      r.metrics([{ name: 'cpu_usage_ratio', value: 0.9 }]);
      r.engine.addSilence({ id: 's1', matchers: [{ label: 'agent', op: '=', value: 'nas-01' }], durationMs: 60 * MIN, createdBy: 'dana', comment: 'c' });
      r.engine.setCheckPolicy('c1', { successesBeforeRecovery: 2 });

      const saved = JSON.parse(JSON.stringify(r.engine.toJSON()));
      const restored = AlertEngine.fromJSON(saved, { clock: r.clock });
      assert.deepEqual(restored.toJSON(), r.engine.toJSON());

      await r.to(20 * MIN);
      const a = restored.tick();
      assert.deepEqual(said(a), ['reminder CheckStatus critical']);
      assert.deepEqual(a.history.map((h) => h.event), ['ack_expired']);
      assert.equal(a.notifications[0]!.key, `${C1}/${T0}/2/reminder`);
      await r.to(21 * MIN);
      assert.deepEqual(said(restored.ingest({ agentId: 'a1', checkId: 'host', status: 0, reason: 'ok', summary: '', metrics: [{ name: 'cpu_usage_ratio', value: 0.95 }], at: r.clock.now() })), [
        'firing cpu warning',
      ]);
      assert.deepEqual(said(restored.ingest({ agentId: 'a1', checkId: 'c1', status: 0, reason: 'ok', summary: '', metrics: [], at: r.clock.now() })), [], 'recovery needs 2 OKs');
    });

    it('gives the same keys when the same inputs are replayed on the same saved state, so an outbox delivers once', async () => {
      const r = new Rounds();
      await firing(r);
      const saved = r.engine.toJSON();
      const replay = () => {
        const engine = AlertEngine.fromJSON(saved, { clock: r.clock });
        return [...engine.ingest({ agentId: 'a1', checkId: 'c1', status: 'OK', reason: 'ok', summary: '', metrics: [], at: r.clock.now() }).notifications.map((n) => n.key)];
      };
      assert.deepEqual(replay(), [`${C1}/${T0}/2/resolved`]);
      assert.deepEqual(replay(), replay());
    });

    it('gives every notification of every episode its own key', async () => {
      const r = new Rounds({ repeatMs: 5 * MIN });
      for (let episode = 0; episode < 3; episode++) {
        await firing(r);
        for (let i = 0; i < 3; i++) {
          await r.clock.advance(5 * MIN);
          r.tick();
        }
        r.result('OK');
        await r.clock.advance(MIN);
      }
      const keys = r.notifications.map((n) => n.key);
      assert.equal(keys.length, 3 * 5);
      assert.equal(new Set(keys).size, keys.length);
    });

    it('refuses saved state of another version', () => {
      assert.throws(() => AlertEngine.fromJSON({ version: 2 } as never, { clock: new ManualClock() }), {
        message: 'alert engine state version 2 is not supported (expected 1): it was written by another Rounds version',
      });
    });
  });

  it('keeps a history of every transition and of who acknowledged what', async () => {
    const r = new Rounds();
    await firing(r);
    await r.to(4 * MIN);
    r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'replacing the switch', expiresAt: T0 + 60 * MIN }));
    await r.to(10 * MIN);
    r.result('OK');
    assert.deepEqual(
      r.history.map((h) => [h.at - T0, h.event, h.by ?? null, h.comment ?? null]),
      [
        [0, 'pending', null, null],
        [2 * MIN, 'firing', null, null],
        [4 * MIN, 'acknowledged', 'dana', 'replacing the switch'],
        [10 * MIN, 'resolved', null, null],
        [10 * MIN, 'ack_cleared', 'dana', null],
      ],
    );
    assert.equal(r.history[2]!.expiresAt, T0 + 60 * MIN);
    assert.ok(r.history.every((h) => h.fingerprint === C1 && h.name === 'CheckStatus' && h.labels.check === 'PACS web'));
  });

  it('lists firing alerts before pending ones, most severe first', async () => {
    const r = new Rounds();
    r.result('CRITICAL', { checkId: 'p' });
    await firing(r, { checkId: 'w', status: 'WARNING' });
    await firing(r, { checkId: 'c' });
    r.engine.agentUnreachable({ agentId: 'a9' });
    assert.deepEqual(
      r.engine.alerts().map((a) => `${a.state} ${a.severity} ${a.source.type === 'agent' ? 'a9' : a.labels.check_id}`),
      ['firing critical c', 'firing critical a9', 'firing warning w', 'pending critical p'],
    );
  });
});
