import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { absolute, compared, goalText, judge } from './figure.js';

describe('bench figures', () => {
  it('judges a ratio goal on the ratio and a value goal on the value, at the bound', () => {
    assert.equal(judge({ on: 'ratio', op: '>=', bound: 0.4 }, 1, 0.4), true);
    assert.equal(judge({ on: 'ratio', op: '>=', bound: 0.4 }, 1000, 0.39), false);
    assert.equal(judge({ on: 'value', op: '<', bound: 1 }, 1, 0.1), false);
    assert.equal(judge({ on: 'value', op: '<', bound: 1 }, 0.99, 5), true);
    assert.equal(judge({ on: 'value', op: '==', bound: 0 }, 0, null), true);
    assert.equal(judge({ on: 'value', op: '==', bound: 0 }, 1, null), false);
    assert.equal(judge({ on: 'ratio', op: '<=', bound: 2 }, 80, 2.01), false);
  });

  it('has nothing to judge without a goal, and fails a goal whose number is missing', () => {
    assert.equal(judge(null, 1, 1), null);
    assert.equal(judge({ on: 'value', op: '>', bound: 0 }, null, null), false);
    assert.equal(judge({ on: 'ratio', op: '>=', bound: 1 }, 5, Number.NaN), false);
  });

  it('derives the ratio and the verdict from the measured numbers', () => {
    const f = compared('ingest', 'Ingest', 'results/s', 30_000, 'raw', 60_000, { on: 'ratio', op: '>=', bound: 0.4 });
    assert.equal(f.ratio, 0.5);
    assert.equal(f.met, true);
    // An anchor that measured nothing gives no ratio, so a ratio goal cannot be met.
    const broken = compared('http', 'HTTP', 'checks/s', 100, 'blackbox', 0, { on: 'ratio', op: '>=', bound: 1.5 });
    assert.equal(broken.ratio, null);
    assert.equal(broken.met, false);
    const a = absolute('scale', 'lag', 's', 1.2, { on: 'value', op: '<', bound: 1 });
    assert.equal(a.met, false);
    assert.equal(a.anchor, null);
  });

  it('writes goals as the table shows them', () => {
    assert.equal(goalText({ on: 'ratio', op: '>=', bound: 1.5 }), '>= 1.5×');
    assert.equal(goalText({ on: 'value', op: '<', bound: 0.5 }), '< 0.5');
    assert.equal(goalText(null), '—');
  });
});
