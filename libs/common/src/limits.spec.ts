import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CheckResult } from './generated/rounds/agent/v1/agent.js';
import { boundResult, COLLECT_LIMITS, resultWireBytes, RESULT_LIMITS, truncate } from './limits.js';

type M = { name: string; unit: string; labels?: Record<string, string> };
const result = (summary: string, metrics: M[] = [], reason = 'ok') => ({ checkId: 'c1', seq: 7, reason, summary, metrics });
const metric = (i: number, labels?: Record<string, string>): M => ({ name: `m_${i}`, unit: 'count', ...(labels ? { labels } : {}) });

describe('truncate', () => {
  it('returns text within the limit unchanged', () => {
    assert.equal(truncate('abc', 3), 'abc');
  });

  it('keeps the beginning and ends with how long the text was and the limit, within the limit', () => {
    const cut = truncate('a'.repeat(2_000_000), 4096);
    const note = '… [truncated: 2,000,000 characters, limit 4096]';
    assert.equal(cut, 'a'.repeat(4096 - note.length) + note);
    assert.equal(cut.length, 4096);
  });

  it('leaves room for a note that follows when asked to', () => {
    assert.equal(truncate('abcdefghijklmnopqrstuvwxyz'.repeat(4), 60, 10), 'abcdefghijk… [truncated: 104 characters, limit 60]');
    assert.equal(truncate('short', 60, 10), 'short');
  });

  it('never splits a surrogate pair', () => {
    const cut = truncate('😀'.repeat(100), 60);
    assert.equal(cut.length <= 60, true);
    assert.doesNotMatch(cut, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('boundResult', () => {
  it('returns a result within every limit as the same object, with nothing cut', () => {
    const r = result('fine', [metric(1, { mount: '/' })]);
    const bounded = boundResult(r);
    assert.equal(bounded.result, r);
    assert.deepEqual(bounded.cut, []);
  });

  it('cuts the summary, drops metrics over the count and says both in the summary', () => {
    const metrics = Array.from({ length: 20_000 }, (_, i) => metric(i));
    const { result: r, cut } = boundResult(result('s'.repeat(2_000_000), metrics));
    const note = '… [truncated: 2,000,000 characters, limit 4096] [19,744 of 20,000 metrics dropped: limit 256 per result]';
    assert.equal(r.summary, 's'.repeat(4096 - note.length) + note);
    assert.equal(r.metrics.length, 256);
    assert.equal(r.metrics[255]!.name, 'm_255');
    assert.deepEqual(cut, ['summary', 'metrics']);
  });

  it('drops a metric whose name, unit or labels are over a limit whole and names the limits', () => {
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'v']));
    const { result: r, cut } = boundResult(
      result('disk', [
        metric(0),
        { name: 'n'.repeat(129), unit: 'count' },
        { name: 'u', unit: 'u'.repeat(33) },
        metric(3, tooMany),
        metric(4, { ['k'.repeat(65)]: 'v' }),
        metric(5, { mount: 'v'.repeat(257) }),
        metric(6, { mount: 'v'.repeat(256) }),
      ]),
    );
    assert.deepEqual(
      r.metrics.map((m) => m.name),
      ['m_0', 'm_6'],
    );
    assert.equal(r.summary, 'disk [5 metrics dropped: name over 128, unit over 32, over 16 labels, label name over 64 or value over 256 characters]');
    assert.deepEqual(cut, ['metric_name', 'metric_unit', 'labels', 'label_key', 'label_value']);
  });

  it('keeps 256 valid metrics when invalid ones come first', () => {
    const metrics = [{ name: 'n'.repeat(200), unit: '' }, ...Array.from({ length: 300 }, (_, i) => metric(i))];
    const { result: r } = boundResult(result('', metrics));
    assert.equal(r.metrics.length, 256);
    assert.equal(
      r.summary,
      ' [44 of 301 metrics dropped: limit 256 per result; 1 metrics dropped: name over 128, unit over 32, over 16 labels, label name over 64 or value over 256 characters]',
    );
  });

  it('cuts a reason over 64 characters without a note', () => {
    const { result: r, cut } = boundResult(result('x', [], 'r'.repeat(1000)));
    assert.equal(r.reason, 'r'.repeat(64));
    assert.equal(r.summary, 'x');
    assert.deepEqual(cut, ['reason']);
  });

  it('changes and counts nothing the second time (agent, then collector)', () => {
    const once = boundResult(
      result(
        's'.repeat(10_000),
        Array.from({ length: 1000 }, (_, i) => metric(i, { mount: '/' })),
      ),
    ).result;
    const twice = boundResult(once);
    assert.equal(twice.result, once);
    assert.deepEqual(twice.cut, []);
    assert.ok(once.summary.length <= RESULT_LIMITS.summaryChars);
  });
});

describe('resultWireBytes', () => {
  it('counts UTF-8 bytes, not characters, and grows with every metric and label', () => {
    const ascii = resultWireBytes(result('a'.repeat(100)));
    assert.equal(resultWireBytes(result('é'.repeat(100))) - ascii, 100);
    assert.ok(resultWireBytes(result('a'.repeat(100), [metric(1)])) > ascii);
    assert.ok(resultWireBytes(result('a'.repeat(100), [metric(1, { a: 'b' })])) > resultWireBytes(result('a'.repeat(100), [metric(1)])));
  });

  it('is at least the protobuf size, and the largest result the limits allow fits the results budget of one answer', () => {
    const L = RESULT_LIMITS;
    const labels = Object.fromEntries(
      Array.from({ length: L.labelsPerMetric }, (_, i) => [`${i}`.padEnd(L.labelKeyChars, 'ǩ'), 'ṽ'.repeat(L.labelValueChars)]),
    );
    const largest: CheckResult = {
      seq: Number.MAX_SAFE_INTEGER,
      checkId: '0b7c0000-0000-4000-8000-000000000000',
      startedAtMs: Date.now(),
      durationMs: 4_000_000_000,
      status: 3,
      reason: 'association_rejected',
      summary: '€'.repeat(L.summaryChars),
      metrics: Array.from({ length: L.metricsPerResult }, (_, i) => ({
        name: `${i}`.padEnd(L.metricNameChars, 'ñ'),
        value: -1.5e300,
        unit: 'ü'.repeat(L.metricUnitChars),
        labels,
      })),
    };
    const encoded = CheckResult.encode(largest).finish().length;
    assert.ok(resultWireBytes(largest) >= encoded, `${resultWireBytes(largest)} < ${encoded}`);
    assert.ok(resultWireBytes(largest) <= COLLECT_LIMITS.resultBytes, `${resultWireBytes(largest)} > ${COLLECT_LIMITS.resultBytes}`);
    const small: CheckResult = { ...largest, seq: 1, summary: 'ok', metrics: [{ name: 'connect_seconds', value: 0.01, unit: 'seconds', labels: {} }] };
    assert.ok(resultWireBytes(small) >= CheckResult.encode(small).finish().length);
  });
});
