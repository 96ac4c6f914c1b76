import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateThresholds, formatRange, parseRange, rangeAlerts, type ThresholdRange } from './range.js';

/** mulberry32: a tiny seeded generator, so a failing property run can be replayed by its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bounds = (r: ThresholdRange) => ({ start: r.start, end: r.end, inside: r.inside });

describe('parseRange', () => {
  const cases: [string, { start: number; end: number; inside: boolean }][] = [
    ['10', { start: 0, end: 10, inside: false }],
    ['10:', { start: 10, end: Infinity, inside: false }],
    ['~:10', { start: -Infinity, end: 10, inside: false }],
    ['10:20', { start: 10, end: 20, inside: false }],
    ['@10:20', { start: 10, end: 20, inside: true }],
    ['@~:', { start: -Infinity, end: Infinity, inside: true }],
    [':5', { start: 0, end: 5, inside: false }],
    ['-5:-1', { start: -5, end: -1, inside: false }],
    ['0.5', { start: 0, end: 0.5, inside: false }],
    ['1e3:', { start: 1000, end: Infinity, inside: false }],
    [' 7 ', { start: 0, end: 7, inside: false }],
  ];
  for (const [text, expected] of cases) {
    it(`reads "${text}" as ${expected.inside ? 'inside' : 'outside'} ${expected.start}..${expected.end}`, () => {
      assert.deepEqual(bounds(parseRange(text)), expected);
    });
  }

  it('accepts a number as well as text', () => {
    assert.deepEqual(bounds(parseRange(90)), { start: 0, end: 90, inside: false });
  });

  it('keeps the trimmed text it was parsed from for summaries', () => {
    assert.equal(parseRange(' @1:2 ').text, '@1:2');
  });

  const invalid: [string, string][] = [
    ['', 'empty Nagios range (examples: 10, 10:, ~:10, 10:20, @10:20)'],
    ['abc', '"abc" is not a Nagios range: "abc" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)'],
    ['20:10', '"20:10" is not a Nagios range: start 20 is greater than end 10'],
    ['10:~', '"10:~" is not a Nagios range: "~" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)'],
    ['-5', '"-5" is not a Nagios range: start 0 is greater than end -5'],
    ['1e999:', '"1e999:" is not a Nagios range: "1e999" is too large (use ~ or leave the end empty for "unbounded")'],
    ['@', '"@" is not a Nagios range: "" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)'],
  ];
  for (const [text, message] of invalid) {
    it(`refuses "${text}" with a message that says what is wrong`, () => {
      assert.throws(() => parseRange(text), { name: 'RangeError', message });
    });
  }
});

describe('rangeAlerts and evaluateThresholds', () => {
  it('alerts outside 0..10 for "10", inclusive at both ends', () => {
    const r = parseRange('10');
    assert.deepEqual(
      [-1, 0, 10, 10.01].map((v) => rangeAlerts(r, v)),
      [true, false, false, true],
    );
  });

  it('alerts inside the range, ends included, for "@10:20"', () => {
    const r = parseRange('@10:20');
    assert.deepEqual(
      [9.99, 10, 20, 20.01].map((v) => rangeAlerts(r, v)),
      [false, true, true, false],
    );
  });

  it('alerts below the start for "10:" and above the end for "~:10"', () => {
    assert.equal(rangeAlerts(parseRange('10:'), 9), true);
    assert.equal(rangeAlerts(parseRange('10:'), 1e12), false);
    assert.equal(rangeAlerts(parseRange('~:10'), -1e12), false);
    assert.equal(rangeAlerts(parseRange('~:10'), 11), true);
  });

  it('lets critical win over warning and never alerts without ranges', () => {
    assert.equal(evaluateThresholds(95, parseRange('80'), parseRange('90')), 'CRITICAL');
    assert.equal(evaluateThresholds(85, parseRange('80'), parseRange('90')), 'WARNING');
    assert.equal(evaluateThresholds(50, parseRange('80'), parseRange('90')), 'OK');
    assert.equal(evaluateThresholds(1e9), 'OK');
  });
});

describe('formatRange', () => {
  it('writes the canonical short forms', () => {
    assert.equal(formatRange(parseRange('0:10')), '10');
    assert.equal(formatRange(parseRange('10:')), '10:');
    assert.equal(formatRange(parseRange('~:10')), '~:10');
    assert.equal(formatRange(parseRange('@0:10')), '@0:10');
    assert.equal(formatRange(parseRange('~:')), '~:');
  });
});

describe('range properties on generated input', () => {
  const SEED = 20261101;
  const RUNS = 3000;

  function randomBound(rnd: () => number): number {
    const pick = rnd();
    if (pick < 0.15) return 0;
    if (pick < 0.45) return Math.round((rnd() - 0.5) * 2000);
    if (pick < 0.7) return Number(((rnd() - 0.5) * 200).toFixed(Math.floor(rnd() * 6)));
    if (pick < 0.85) return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 60 - 30);
    return (rnd() < 0.5 ? -1 : 1) * 10 ** Math.floor(rnd() * 600 - 300);
  }

  it(`formatRange then parseRange gives back the same range (${RUNS} generated, seed ${SEED})`, () => {
    const rnd = seeded(SEED);
    for (let i = 0; i < RUNS; i++) {
      let a = rnd() < 0.15 ? -Infinity : randomBound(rnd);
      let b = rnd() < 0.15 ? Infinity : randomBound(rnd);
      if (a > b) [a, b] = [b, a];
      if (Object.is(a, -0)) a = 0;
      if (Object.is(b, -0)) b = 0;
      const range = { start: a, end: b, inside: rnd() < 0.5 };
      const text = formatRange(range);
      const back = parseRange(text);
      assert.deepEqual(bounds(back), range, `run ${i}: ${JSON.stringify(range)} → "${text}"`);
      assert.equal(formatRange(back), text, `run ${i}: formatting is stable`);
    }
  });

  it(`parseRange on random text either parses or throws a RangeError, nothing else (${RUNS} generated)`, () => {
    const rnd = seeded(SEED + 1);
    const alphabet = ['0', '1', '9', '.', ':', '~', '@', '-', '+', 'e', 'E', ' ', 'x', '5', '', 'Infinity', 'NaN', '1e999'];
    for (let i = 0; i < RUNS; i++) {
      const length = Math.floor(rnd() * 8);
      let text = '';
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        const r = parseRange(text);
        assert.ok(r.start <= r.end, `"${text}" gave start > end`);
        assert.ok(!Number.isNaN(r.start) && !Number.isNaN(r.end), `"${text}" gave NaN`);
        assert.ok(r.start !== Infinity && r.end !== -Infinity, `"${text}" gave an unwritable bound`);
        assert.deepEqual(bounds(parseRange(formatRange(r))), bounds(r), `"${text}" does not survive a round trip`);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.ok(e instanceof RangeError, `"${text}" threw ${String(e)}`);
      }
    }
  });
});
