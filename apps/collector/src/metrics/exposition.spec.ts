import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negotiate, render, type Family } from './exposition.js';

const families: Family[] = [
  { name: 'rounds_demo_total', help: 'A counter.', type: 'counter', samples: [{ labels: { agent: 'a' }, value: 3 }] },
  {
    name: 'rounds_demo_seconds',
    help: 'Back\\slash and\nnewline "quoted".',
    type: 'gauge',
    unit: 'seconds',
    samples: [
      { labels: { check: 'say "hi"\\now\nplease' }, value: 0.25 },
      { labels: { check: 'nan' }, value: NaN },
      { labels: { check: 'inf' }, value: Infinity },
      { labels: { check: 'neg' }, value: -Infinity },
    ],
  },
];

describe('render', () => {
  it('writes the text format with escaped label values and help, and Prometheus spellings of NaN and infinities', () => {
    assert.equal(
      render(families, 'text'),
      [
        '# HELP rounds_demo_total A counter.',
        '# TYPE rounds_demo_total counter',
        'rounds_demo_total{agent="a"} 3',
        '# HELP rounds_demo_seconds Back\\\\slash and\\nnewline "quoted".',
        '# TYPE rounds_demo_seconds gauge',
        'rounds_demo_seconds{check="say \\"hi\\"\\\\now\\nplease"} 0.25',
        'rounds_demo_seconds{check="nan"} NaN',
        'rounds_demo_seconds{check="inf"} +Inf',
        'rounds_demo_seconds{check="neg"} -Inf',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics: counter families without _total, samples with it, UNIT, quoted help escaped, and # EOF', () => {
    const text = render(families, 'openmetrics');
    assert.equal(
      text,
      [
        '# TYPE rounds_demo counter',
        '# HELP rounds_demo A counter.',
        'rounds_demo_total{agent="a"} 3',
        '# TYPE rounds_demo_seconds gauge',
        '# UNIT rounds_demo_seconds seconds',
        '# HELP rounds_demo_seconds Back\\\\slash and\\nnewline \\"quoted\\".',
        'rounds_demo_seconds{check="say \\"hi\\"\\\\now\\nplease"} 0.25',
        'rounds_demo_seconds{check="nan"} NaN',
        'rounds_demo_seconds{check="inf"} +Inf',
        'rounds_demo_seconds{check="neg"} -Inf',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('renders the text format unchanged after an OpenMetrics render (nothing is renamed in place)', () => {
    const first = render(families, 'text');
    render(families, 'openmetrics');
    assert.equal(render(families, 'text'), first);
  });
});

describe('negotiate', () => {
  const cases: [string | undefined, 'text' | 'openmetrics'][] = [
    [undefined, 'text'],
    ['', 'text'],
    ['*/*', 'text'],
    ['text/plain;version=0.0.4', 'text'],
    ['application/openmetrics-text;version=1.0.0', 'openmetrics'],
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['text/plain;q=0.9, application/openmetrics-text;q=0.5', 'text'],
    ['application/openmetrics-text;q=0', 'text'],
  ];
  for (const [accept, expected] of cases) {
    it(`answers ${expected} for Accept: ${accept === undefined ? '(none)' : JSON.stringify(accept)}`, () => {
      assert.equal(negotiate(accept), expected);
    });
  }
});
