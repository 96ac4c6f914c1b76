import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compare, describeRule, isForecast, parseRule, parseRules, selects, type Comparison, type Rule } from './rules.js';

const valid = { name: 'disk-almost-full', metric: 'filesystem_used_ratio', op: '>', value: 0.9 };

function rule(input: Record<string, unknown>): Rule {
  const parsed = parseRule(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

describe('threshold rules', () => {
  it("fills in defaults: no matchers, for 0, severity warning, the engine's repeat", () => {
    assert.deepEqual(parseRule(valid), {
      ok: true,
      value: {
        name: 'disk-almost-full',
        metric: 'filesystem_used_ratio',
        matchers: [],
        op: '>',
        value: 0.9,
        forMs: 0,
        severity: 'warning',
        repeatMs: null,
        description: null,
      },
    });
  });

  it('reads matchers, durations and severity', () => {
    const r = rule({
      ...valid,
      matchers: ['agent=~"pacs-.*"', 'mount!="/boot"'],
      for: '10m',
      repeat: '1h',
      severity: 'critical',
      description: 'images stop arriving when full',
    });
    assert.ok(!isForecast(r));
    assert.deepEqual(r.matchers, [
      { label: 'agent', op: '=~', value: 'pacs-.*' },
      { label: 'mount', op: '!=', value: '/boot' },
    ]);
    assert.equal(r.forMs, 600_000);
    assert.equal(r.repeatMs, 3_600_000);
    assert.equal(r.severity, 'critical');
    assert.equal(describeRule(r), 'filesystem_used_ratio{agent=~"pacs-.*", mount!="/boot"} > 0.9 for 10m');
  });

  it('takes durations as whole milliseconds too', () => {
    const r = rule({ ...valid, for: 90_000 });
    assert.equal(!isForecast(r) && r.forMs, 90_000);
  });

  const forecast = { kind: 'forecast', name: 'DiskFull', metric: 'filesystem_used_ratio', window: '6h', horizon: '48h', threshold: 1 };

  it('parses a forecast rule with its window, horizon and threshold', () => {
    assert.deepEqual(parseRule(forecast), {
      ok: true,
      value: {
        kind: 'forecast',
        name: 'DiskFull',
        metric: 'filesystem_used_ratio',
        matchers: [],
        windowMs: 6 * 3_600_000,
        horizonMs: 48 * 3_600_000,
        threshold: 1,
        severity: 'warning',
        repeatMs: null,
        description: null,
      },
    });
    const r = rule(forecast);
    assert.equal(describeRule(r), 'filesystem_used_ratio reaches 1 within 2d (trend over 6h)');
  });

  // One fixture per message: each invalid rule says which field is wrong and what to write.
  const invalid: [string, Record<string, unknown>, { field: string; message: string }][] = [
    ['a missing name', { ...valid, name: undefined }, { field: 'name', message: 'is required' }],
    [
      'a name with spaces',
      { ...valid, name: 'disk full' },
      { field: 'name', message: 'must start with a letter and use only letters, digits, "_", "." and "-" (at most 100 characters)' },
    ],
    ['a missing metric', { ...valid, metric: undefined }, { field: 'metric', message: 'is required' }],
    [
      'a metric name with a dash',
      { ...valid, metric: 'used-ratio' },
      { field: 'metric', message: 'must be a metric name like filesystem_used_ratio (letters, digits, "_" and ":")' },
    ],
    ['an unknown operator', { ...valid, op: '=>' }, { field: 'op', message: 'must be one of > >= < <= == !=' }],
    ['a missing operator', { ...valid, op: undefined }, { field: 'op', message: 'is required' }],
    ['a value given as text', { ...valid, value: '0.9' }, { field: 'value', message: 'must be a number' }],
    ['a missing value', { ...valid, value: undefined }, { field: 'value', message: 'is required' }],
    ['a for written in words', { ...valid, for: '10 minutes' }, { field: 'for', message: 'must be a duration like 30s, 5m, 1h or 1d, got "10 minutes"' }],
    ['a negative for', { ...valid, for: -1 }, { field: 'for', message: 'must be a duration like 30s, 5m, 1h or 1d (or whole milliseconds), got -1' }],
    ['a for of the wrong type', { ...valid, for: true }, { field: 'for', message: 'must be a duration like 30s, 5m, 1h or 1d (or whole milliseconds)' }],
    ['an unknown severity', { ...valid, severity: 'page' }, { field: 'severity', message: 'must be one of critical, warning, info' }],
    ['a repeat in weeks', { ...valid, repeat: '1w' }, { field: 'repeat', message: 'must be a duration like 30s, 5m, 1h or 1d, got "1w"' }],
    [
      'matchers given as an object',
      { ...valid, matchers: { agent: 'pacs-01' } },
      { field: 'matchers', message: 'must be a list of matchers, e.g. ["agent=\\"pacs-01\\""]' },
    ],
    [
      'a matcher given as an object',
      { ...valid, matchers: [{ agent: 'pacs-01' }] },
      { field: 'matchers.0', message: 'must be a matcher written as text, e.g. agent="pacs-01"' },
    ],
    [
      'a matcher without operator',
      { ...valid, matchers: ['agent pacs-01'] },
      { field: 'matchers.0', message: '`agent pacs-01` is not a matcher: write label="value", label!="value", label=~"regex" or label!~"regex"' },
    ],
    [
      'a matcher with a broken regex',
      { ...valid, matchers: ['agent="x"', 'check=~"[PACS"'] },
      { field: 'matchers.1', message: '`check=~"[PACS"` is not a matcher: /[PACS/ is not a valid regular expression (Unterminated character class)' },
    ],
    ['an unknown field', { ...valid, threshold: 0.9 }, { field: 'threshold', message: 'unknown field' }],
    ['an unknown kind', { ...valid, kind: 'anomaly' }, { field: 'kind', message: 'must be "threshold" or "forecast"' }],
    ['a forecast without its threshold', { ...forecast, threshold: undefined }, { field: 'threshold', message: 'is required' }],
    ['a forecast with a comparison', { ...forecast, op: '>' }, { field: 'op', message: 'unknown field' }],
    ['a forecast horizon under a minute', { ...forecast, horizon: '30s' }, { field: 'horizon', message: 'must be at least 1m, got 30s' }],
  ];
  for (const [what, input, error] of invalid) {
    it(`refuses ${what} with "${error.field}: ${error.message}"`, () => {
      assert.deepEqual(parseRule(input), { ok: false, errors: [error] });
    });
  }

  it('refuses a second rule with the same name, naming the first', () => {
    assert.deepEqual(parseRules([valid, { ...valid, metric: 'cpu_usage_ratio' }]), {
      ok: false,
      errors: [{ field: '1.name', message: '"disk-almost-full" is already the name of rule 0: rule names must be unique' }],
    });
  });

  it('names the rule in a list that is wrong', () => {
    assert.deepEqual(parseRules([valid, { ...valid, name: 'x', op: '~' }]), {
      ok: false,
      errors: [{ field: '1.op', message: 'must be one of > >= < <= == !=' }],
    });
  });

  it('compares with each operator', () => {
    const table: [number, Comparison, number, boolean][] = [
      [0.95, '>', 0.9, true],
      [0.9, '>', 0.9, false],
      [0.9, '>=', 0.9, true],
      [0.1, '<', 0.2, true],
      [0.2, '<=', 0.2, true],
      [0.3, '<=', 0.2, false],
      [1, '==', 1, true],
      [0, '==', 1, false],
      [0, '!=', 1, true],
      [1, '!=', 1, false],
    ];
    for (const [actual, op, threshold, expected] of table) assert.equal(compare(actual, op, threshold), expected, `${actual} ${op} ${threshold}`);
  });

  it('selects a series by metric name and labels', () => {
    const r = rule({ ...valid, matchers: ['agent=~"pacs-.*"', 'mount!="/boot"'] });
    assert.equal(selects(r, 'filesystem_used_ratio', { agent: 'pacs-01', mount: '/data' }), true);
    assert.equal(selects(r, 'filesystem_used_ratio', { agent: 'pacs-01', mount: '/boot' }), false);
    assert.equal(selects(r, 'filesystem_used_ratio', { agent: 'nas-01', mount: '/data' }), false);
    assert.equal(selects(r, 'memory_used_ratio', { agent: 'pacs-01', mount: '/data' }), false);
  });
});
