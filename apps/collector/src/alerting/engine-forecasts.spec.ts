import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ruleAlertFingerprint, type ForecastInput } from './engine.js';
import { MIN, Rounds, rule, said } from './engine.testing.js';

const H = 3_600_000;
const GiB = 1024 ** 3;
const DISK = rule({
  kind: 'forecast',
  name: 'DiskFull',
  metric: 'filesystem_used_bytes',
  matchers: ['mount="/data"'],
  window: '6h',
  horizon: '48h',
  threshold: 465 * GiB,
});
const FP = ruleAlertFingerprint('DiskFull', 'a1', 'host', 'filesystem_used_bytes', { mount: '/data' });

/** The /data series of the host check with a point every 10 min over the last 6 h, at `atNow` now and rising `perHour`. */
function disk(r: Rounds, atNow: number, perHour: number, span = 6 * H): ForecastInput {
  const now = r.clock.now();
  const points = [];
  for (let t = now - span + 10 * MIN; t <= now; t += 10 * MIN) points.push({ t, v: atNow + (perHour * (t - now)) / H });
  return { rule: 'DiskFull', checkId: 'host', metric: 'filesystem_used_bytes', labels: { mount: '/data' }, unit: 'bytes', points };
}

describe('AlertEngine', () => {
  describe('forecast rules', () => {
    it('fires when the trend reaches the threshold within the horizon, says when and how fast, and resolves when the projection leaves the horizon', async () => {
      const r = new Rounds({ rules: [DISK] });
      r.metrics([{ name: 'filesystem_used_bytes', value: 400 * GiB, labels: { mount: '/data' } }], { agentName: 'pacs-01', checkName: 'disk' });
      const targets = r.engine.forecastTargets([
        { checkId: 'host', metric: 'filesystem_used_bytes', labels: { mount: '/data' }, unit: 'bytes' },
        { checkId: 'host', metric: 'filesystem_used_bytes', labels: { mount: '/boot' }, unit: 'bytes' },
      ]);
      assert.deepEqual(
        targets.map((t) => [t.rule, t.windowMs, t.series.labels.mount]),
        [['DiskFull', 6 * H, '/data']],
      );

      const fired = r.keep(r.engine.judgeForecasts([disk(r, 400 * GiB, 2.1 * GiB)]));
      assert.deepEqual(said(fired), ['firing DiskFull warning']);
      assert.equal(
        fired.notifications[0]!.alert.summary,
        'filesystem_used_bytes{mount="/data"} of disk on pacs-01 is full (465 GiB) in about 31 h at +2.1 GiB/h',
      );
      assert.equal(r.engine.forecasts()[0]!.state, 'crossing');

      await r.to(MIN);
      assert.deepEqual(said(r.keep(r.engine.judgeForecasts([disk(r, 401 * GiB, 2 * GiB)]))), [], 'still crossing: nothing new');

      await r.to(2 * MIN);
      const slower = r.keep(r.engine.judgeForecasts([disk(r, 402 * GiB, 0.5 * GiB)]));
      assert.deepEqual(said(slower), ['resolved DiskFull warning']);
      assert.deepEqual(r.engine.forecasts(), [
        {
          rule: 'DiskFull',
          checkId: 'host',
          agentId: 'a1',
          series: 'filesystem_used_bytes{mount="/data"} of disk on pacs-01',
          state: 'steady',
          why: 'filesystem_used_bytes{mount="/data"} of disk on pacs-01 reaches 465 GiB only in about 5 d at +512 MiB/h, beyond the 48 h horizon',
          crossesAt: r.clock.now() + 126 * H,
          at: r.clock.now(),
        },
      ]);
    });

    it('raises no alert from too few points, and the status says why', () => {
      const r = new Rounds({ rules: [DISK] });
      r.metrics([{ name: 'filesystem_used_bytes', value: 400 * GiB, labels: { mount: '/data' } }], { agentName: 'pacs-01', checkName: 'disk' });
      assert.deepEqual(said(r.engine.judgeForecasts([disk(r, 400 * GiB, 50 * GiB, 40 * MIN)])), []);
      const [status] = r.engine.forecasts();
      assert.equal(status!.state, 'insufficient');
      assert.equal(
        status!.why,
        'filesystem_used_bytes{mount="/data"} of disk on pacs-01: no forecast, only 4 points in the last 6 h: a trend needs at least 5',
      );
      assert.equal(r.engine.alert(FP), undefined);
    });

    it('resolves a forecast alert whose series a round leaves out, and one whose rule is removed', async () => {
      const r = new Rounds({ rules: [DISK] });
      r.metrics([{ name: 'filesystem_used_bytes', value: 400 * GiB, labels: { mount: '/data' } }]);
      assert.deepEqual(said(r.keep(r.engine.judgeForecasts([disk(r, 400 * GiB, 5 * GiB)]))), ['firing DiskFull warning']);
      await r.to(MIN);
      assert.deepEqual(said(r.keep(r.engine.judgeForecasts([]))), ['resolved DiskFull warning']);
      await r.to(2 * MIN);
      r.keep(r.engine.judgeForecasts([disk(r, 400 * GiB, 5 * GiB)]));
      assert.deepEqual(said(r.keep(r.engine.setRules([]))), ['resolved DiskFull warning']);
    });

    it('leaves forecast rules out of sample-by-sample judging, and threshold rules out of forecast rounds', () => {
      const r = new Rounds({ rules: [DISK, rule({ name: 'DiskAt90', metric: 'filesystem_used_bytes', op: '>', value: 900 * GiB })] });
      assert.deepEqual(said(r.metrics([{ name: 'filesystem_used_bytes', value: 999 * GiB, labels: { mount: '/data' } }])), ['firing DiskAt90 warning']);
      assert.deepEqual(said(r.engine.judgeForecasts([{ ...disk(r, 400 * GiB, 5 * GiB), rule: 'DiskAt90' }])), []);
    });
  });
});
