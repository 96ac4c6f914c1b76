import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatRate, formatValue, linearTrend, words } from './forecast.js';

const H = 3_600_000;
const NOW = Date.parse('2026-12-04T12:00:00Z');
const GiB = 1024 ** 3;

/** A point every `every` ms over the last `span` ms, on the line v = at + perHour·h (h: hours before now, negative). */
function line(span: number, every: number, atNow: number, perHour: number): { t: number; v: number }[] {
  const out: { t: number; v: number }[] = [];
  for (let t = NOW - span + every; t <= NOW; t += every) out.push({ t, v: atNow + (perHour * (t - NOW)) / H });
  return out;
}

describe('linearTrend', () => {
  it('fits the least-squares line and says when it reaches the threshold: 400 GiB of 465 GiB at +2.1 GiB/h is full in about 31 h', () => {
    const v = linearTrend(line(6 * H, 10 * 60_000, 400 * GiB, 2.1 * GiB), 6 * H, 465 * GiB, NOW);
    assert.equal(v.kind, 'trend');
    if (v.kind !== 'trend') return;
    assert.equal(v.points, 36);
    assert.ok(Math.abs(v.valueNow - 400 * GiB) < 1, String(v.valueNow));
    assert.equal(words(v.crossesInMs!), '31 h');
    assert.equal(formatRate(v.slopePerMs, 'bytes'), '+2.1 GiB/h');
  });

  it('fits through scattered points by least squares: (0,1) (1,3) (2,2) (3,5) (4,4) hours give +0.8/h and 4.6 now', () => {
    const pts = [1, 3, 2, 5, 4].map((v, h) => ({ t: NOW - (4 - h) * H, v }));
    const v = linearTrend(pts, 5 * H, 6.2, NOW);
    assert.equal(v.kind, 'trend');
    if (v.kind !== 'trend') return;
    assert.ok(Math.abs(v.slopePerMs * H - 0.8) < 1e-9);
    assert.ok(Math.abs(v.valueNow - 4.6) < 1e-9);
    assert.ok(Math.abs(v.crossesInMs! - 2 * H) < 1e-3);
  });

  it('finds a falling series’ crossing from above (free space running out towards 0)', () => {
    const v = linearTrend(line(6 * H, 15 * 60_000, 10 * GiB, -1 * GiB), 6 * H, 0, NOW);
    assert.equal(v.kind === 'trend' && words(v.crossesInMs!), '10 h');
  });

  it('has no crossing for a flat line, one moving away, or one already past the threshold', () => {
    for (const [atNow, perHour] of [
      [0.5, 0],
      [0.5, -0.01],
      [1.2, 0.01],
    ] as const) {
      const v = linearTrend(line(6 * H, 15 * 60_000, atNow, perHour), 6 * H, 1, NOW);
      assert.equal(v.kind === 'trend' && v.crossesInMs, null, `${atNow} ${perHour}`);
    }
  });

  it('refuses to guess from fewer than 5 points or from less than half the window, saying why', () => {
    assert.deepEqual(linearTrend(line(H, 15 * 60_000, 1, 1), 6 * H, 2, NOW), {
      kind: 'insufficient',
      points: 4,
      why: 'only 4 points in the last 6 h: a trend needs at least 5',
    });
    assert.deepEqual(linearTrend(line(2 * H, 60_000, 1, 1), 6 * H, 2, NOW), {
      kind: 'insufficient',
      points: 120,
      why: 'the points cover 2 h of the 6 h window: a trend needs at least half of it',
    });
  });

  it('leaves out points outside the window', () => {
    const old = line(24 * H, H, 0, 100).filter((p) => p.t <= NOW - 6 * H);
    const recent = line(6 * H, 30 * 60_000, 10, 1);
    const v = linearTrend([...old, ...recent], 6 * H, 20, NOW);
    assert.equal(v.kind === 'trend' && words(v.crossesInMs!), '10 h');
  });
});

describe('formatValue', () => {
  it('writes bytes in binary units, ratios and percentages as percent, other units after the number', () => {
    assert.deepEqual(
      [formatValue(465 * GiB, 'bytes'), formatValue(1, 'ratio'), formatValue(100, 'percent'), formatValue(3.14159, 'seconds'), formatValue(12, '')],
      ['465 GiB', '100 %', '100 %', '3.1 seconds', '12'],
    );
  });
});
