import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ruleAlertFingerprint, type MetricInput } from './engine.js';
import { MIN, Rounds, rule, said } from './engine.testing.js';

describe('AlertEngine', () => {
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
      const step = r.result('OK', {
        checkId: 'echo',
        checkName: 'DICOM echo',
        plugin: 'dicom-echo',
        metrics: [{ name: 'echo_seconds', value: 2.5, unit: 'seconds' }],
      });
      assert.deepEqual(said(step), ['firing slow-echo critical']);
    });

    it('selects series by agent, check, metric name and labels with =, != and =~', () => {
      const r = new Rounds({
        rules: [
          rule({ name: 'pacs-disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9, matchers: ['agent=~"pacs-.*"', 'check="host"', 'mount!="/boot"'] }),
        ],
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
      const fps = r.engine
        .alerts()
        .map((a) => a.fingerprint)
        .sort();
      assert.deepEqual(
        fps,
        [
          ruleAlertFingerprint('disk', 'a1', 'host', 'filesystem_used_ratio', { mount: '/data' }),
          ruleAlertFingerprint('disk', 'a1', 'host', 'filesystem_used_ratio', { mount: '/images' }),
        ].sort(),
      );
      assert.match(fps[0]!, /^[0-9a-f]{16}$/);
      assert.equal(
        r.engine.alert(fps.find((f) => f === ruleAlertFingerprint('disk', 'a1', 'host', 'filesystem_used_ratio', { mount: '/data' }))!)?.labels.agent,
        'pacs-01-renamed',
      );
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
      const r = new Rounds({
        rules: [
          rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9 }),
          rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.8 }),
        ],
      });
      r.metrics([disk(0.95), { name: 'cpu_usage_ratio', value: 0.85 }]);
      const step = r.keep(r.engine.setRules([rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.9 })]));
      assert.deepEqual(said(step).sort(), ['resolved cpu warning', 'resolved disk warning']);
      assert.deepEqual(
        r.history
          .filter((h) => h.event === 'resolved')
          .map((h) => h.detail)
          .sort(),
        ['rule cpu changed and no longer matches', 'rule disk was removed'],
      );
    });

    it("gives a changed rule's firing alerts its new severity", () => {
      const r = new Rounds({ rules: [rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9 })] });
      r.metrics([disk(0.95)]);
      assert.deepEqual(said(r.engine.setRules([rule({ name: 'disk', metric: 'filesystem_used_ratio', op: '>', value: 0.9, severity: 'critical' })])), [
        'firing disk critical',
      ]);
    });
  });
});
