import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatPerfdata, normalisePerfDatum, parsePerfdata, parsePluginOutput, type PerfDatum } from './perfdata.js';
import { formatRange, parseRange } from './range.js';

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

/** Items without the range objects' `text`, which is compared through formatRange. */
function plain(items: readonly PerfDatum[]) {
  return items.map((d) => ({
    ...d,
    warn: d.warn && formatRange(d.warn),
    crit: d.crit && formatRange(d.crit),
  }));
}

describe('parsePerfdata', () => {
  it('reads every field of one item', () => {
    const { items, problems } = parsePerfdata('time=0.25s;1;2;0;10');
    assert.deepEqual(problems, []);
    assert.equal(items.length, 1);
    const d = items[0]!;
    assert.equal(d.label, 'time');
    assert.equal(d.value, 0.25);
    assert.equal(d.uom, 's');
    assert.equal(d.warn?.end, 1);
    assert.equal(d.crit?.end, 2);
    assert.equal(d.min, 0);
    assert.equal(d.max, 10);
  });

  it('reads quoted labels with spaces and doubled quotes', () => {
    const { items } = parsePerfdata("'disk usage'=5% 'it''s here'=1 '/a=b'=2");
    assert.deepEqual(
      items.map((d) => d.label),
      ['disk usage', "it's here", '/a=b'],
    );
  });

  it('accepts every unit of measure the guidelines list', () => {
    const { items, problems } = parsePerfdata('a=1s b=2ms c=3us d=4% e=5B f=6KB g=7MB h=8GB i=9TB j=10c k=11');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      items.map((d) => d.uom),
      ['s', 'ms', 'us', '%', 'B', 'KB', 'MB', 'GB', 'TB', 'c', ''],
    );
  });

  it('leaves empty fields out and tolerates trailing semicolons', () => {
    const { items, problems } = parsePerfdata('load1=0.5;;;0; x=1;;;;');
    assert.deepEqual(problems, []);
    assert.deepEqual(plain(items), [
      { label: 'load1', value: 0.5, uom: '', warn: undefined, crit: undefined, min: 0 },
      { label: 'x', value: 1, uom: '', warn: undefined, crit: undefined },
    ]);
  });

  it('parses warn and crit as Nagios ranges, including @ and ~ forms', () => {
    const { items } = parsePerfdata('x=5;@10:20;~:30');
    assert.deepEqual({ start: items[0]!.warn?.start, end: items[0]!.warn?.end, inside: items[0]!.warn?.inside }, { start: 10, end: 20, inside: true });
    assert.equal(items[0]!.crit?.start, -Infinity);
  });

  it('reads U as a value the plugin could not determine', () => {
    assert.equal(parsePerfdata('rta=U;;;0').items[0]!.value, null);
  });

  it('keeps an item whose warn is not a range and says why the warn was dropped', () => {
    const { items, problems } = parsePerfdata('x=5;abc;10');
    assert.equal(items[0]!.warn, undefined);
    assert.equal(items[0]!.crit?.end, 10);
    assert.match(problems[0]!, /^perfdata "x": warn ignored: "abc" is not a Nagios range/);
  });

  it('skips tokens without a value and reports each one', () => {
    const { items, problems } = parsePerfdata('garbage x=1 =3 y=abc');
    assert.deepEqual(
      items.map((d) => d.label),
      ['x'],
    );
    assert.deepEqual(problems, [
      'perfdata "garbage" ignored: expected label=value',
      'perfdata "=3" ignored: the label is empty',
      'perfdata "y": value "abc" is not a number followed by an optional unit',
    ]);
  });

  it('reports an unterminated quoted label instead of reading past it', () => {
    const { items, problems } = parsePerfdata("a=1 'broken=2");
    assert.deepEqual(
      items.map((d) => d.label),
      ['a'],
    );
    assert.match(problems[0]!, /quoted label is never closed/);
  });
});

describe('parsePluginOutput', () => {
  it('splits text and perfdata on the first line', () => {
    const out = parsePluginOutput('LOAD OK - total load average: 0.1, 0.2, 0.3|load1=0.100;5.000;10.000;0; load5=0.2;;;0;\n');
    assert.equal(out.text, 'LOAD OK - total load average: 0.1, 0.2, 0.3');
    assert.deepEqual(out.longText, []);
    assert.deepEqual(
      out.perfdata.map((d) => d.label),
      ['load1', 'load5'],
    );
  });

  it('reads long text and perfdata after a second | on a later line, continuing on the lines after it', () => {
    const out = parsePluginOutput(
      [
        'DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968',
        '/ 15272 MB (77%);',
        '/boot 68 MB (69%); | /boot=68MB;88;93;0;98',
        '/home=69357MB;253404;253409;0;253414',
        "'/var log'=818MB;970;975;0;980",
        '',
      ].join('\n'),
    );
    assert.equal(out.text, 'DISK OK - free space: / 3326 MB (56%);');
    assert.deepEqual(out.longText, ['/ 15272 MB (77%);', '/boot 68 MB (69%); ']);
    assert.deepEqual(
      out.perfdata.map((d) => d.label),
      ['/', '/boot', '/home', '/var log'],
    );
    assert.deepEqual(out.problems, []);
  });

  it('treats CRLF line ends like LF and drops the empty long-text line before a perfdata-only line', () => {
    const out = parsePluginOutput('OK\r\nmore\r\n| a=1\r\nb=2\r\n');
    assert.equal(out.text, 'OK');
    assert.deepEqual(out.longText, ['more']);
    assert.deepEqual(
      out.perfdata.map((d) => d.label),
      ['a', 'b'],
    );
  });

  it('gives empty text for empty output', () => {
    assert.deepEqual(parsePluginOutput(''), { text: '', longText: [], perfdata: [], problems: [] });
  });
});

describe('normalisePerfDatum', () => {
  const norm = (text: string) => normalisePerfDatum(parsePerfdata(text).items[0]!);

  it('converts times to seconds, thresholds and bounds included', () => {
    const d = norm('rta=250ms;100;500;0;1000')!;
    assert.equal(d.unit, 'seconds');
    assert.equal(d.value, 0.25);
    assert.equal(d.warn?.end, 0.1);
    assert.equal(d.crit?.text, '0.5');
    assert.equal(d.max, 1);
    assert.equal(norm('t=7us')!.value, 7e-6);
  });

  it('converts byte prefixes with 1024 as monitoring-plugins does', () => {
    assert.deepEqual([norm('a=1KB')!.value, norm('a=1MB')!.value, norm('a=2GB')!.value, norm('a=1TB')!.value], [1024, 1024 ** 2, 2 * 1024 ** 3, 1024 ** 4]);
    assert.equal(norm('a=3MiB')!.value, 3 * 1024 ** 2);
    assert.equal(norm('a=3kB')!.unit, 'bytes');
  });

  it('keeps percent as 0-100 with unit percent and marks c as a counter', () => {
    assert.deepEqual([norm('p=93%')!.value, norm('p=93%')!.unit], [93, 'percent']);
    assert.equal(norm('n=12c')!.unit, 'counter');
    assert.equal(norm('n=12')!.unit, '');
  });

  it('keeps an unknown unit as printed and says it is unknown', () => {
    const d = norm('temp=40C')!;
    assert.deepEqual([d.value, d.unit, d.known], [40, 'C', false]);
    assert.equal(norm('x=1constructor')!.known, false);
  });

  it('returns nothing for U', () => {
    assert.equal(norm('x=U'), undefined);
  });
});

describe('perfdata properties on generated input', () => {
  const SEED = 4242;
  const RUNS = 2000;
  const UOMS = ['', 's', 'ms', 'us', '%', 'B', 'KB', 'MB', 'GB', 'TB', 'c'];
  const LABEL_CHARS = "abcXYZ019 _-./:'=;|é";

  function randomNumber(rnd: () => number): number {
    const pick = rnd();
    const n =
      pick < 0.3
        ? Math.round((rnd() - 0.5) * 1e4)
        : pick < 0.8
          ? Number(((rnd() - 0.5) * 1e3).toFixed(Math.floor(rnd() * 7)))
          : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
    return Object.is(n, -0) ? 0 : n;
  }

  function randomRange(rnd: () => number) {
    if (rnd() < 0.4) return undefined;
    let a = rnd() < 0.2 ? -Infinity : randomNumber(rnd);
    let b = rnd() < 0.2 ? Infinity : randomNumber(rnd);
    if (a > b) [a, b] = [b, a];
    return parseRange(formatRange({ start: a, end: b, inside: rnd() < 0.3 }));
  }

  function randomDatum(rnd: () => number): PerfDatum {
    let label = '';
    const length = 1 + Math.floor(rnd() * 10);
    for (let i = 0; i < length; i++) label += LABEL_CHARS[Math.floor(rnd() * LABEL_CHARS.length)];
    const d: PerfDatum = rnd() < 0.05 ? { label, value: null, uom: '' } : { label, value: randomNumber(rnd), uom: UOMS[Math.floor(rnd() * UOMS.length)]! };
    const warn = randomRange(rnd);
    const crit = randomRange(rnd);
    if (warn) d.warn = warn;
    if (crit) d.crit = crit;
    if (rnd() < 0.5) d.min = randomNumber(rnd);
    if (rnd() < 0.5) d.max = randomNumber(rnd);
    return d;
  }

  it(`formatPerfdata then parsePerfdata gives back the same items (${RUNS} generated, seed ${SEED})`, () => {
    const rnd = seeded(SEED);
    for (let run = 0; run < RUNS; run++) {
      const items = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => randomDatum(rnd));
      const text = formatPerfdata(items);
      const back = parsePerfdata(text);
      assert.deepEqual(back.problems, [], `run ${run}: ${text}`);
      assert.deepEqual(plain(back.items), plain(items), `run ${run}: ${text}`);
      assert.equal(formatPerfdata(back.items), text, `run ${run}: formatting is stable`);
    }
  });

  it(`parsePluginOutput never throws on random text and keeps only well-formed items (${RUNS} generated)`, () => {
    const rnd = seeded(SEED + 1);
    const pieces = [
      'OK',
      ' ',
      '|',
      '\n',
      '\r\n',
      '=',
      ';',
      "'",
      "''",
      'a',
      '1',
      '.5',
      'ms',
      '%',
      'U',
      '~',
      ':',
      '@',
      '-',
      'e9',
      '\u0000',
      '\u00ff',
      'label',
      '1e999',
    ];
    for (let run = 0; run < RUNS; run++) {
      let text = '';
      const length = Math.floor(rnd() * 30);
      for (let i = 0; i < length; i++) text += pieces[Math.floor(rnd() * pieces.length)];
      const out = parsePluginOutput(text);
      assert.equal(typeof out.text, 'string');
      assert.ok(!out.text.includes('\n'), `run ${run}: text spans lines`);
      for (const d of out.perfdata) {
        assert.ok(d.label !== '', `run ${run}: empty label from ${JSON.stringify(text)}`);
        assert.ok(d.value === null || Number.isFinite(d.value), `run ${run}: value ${d.value} from ${JSON.stringify(text)}`);
        const again = parsePerfdata(formatPerfdata([d]));
        assert.deepEqual(plain(again.items), plain([d]), `run ${run}: item from ${JSON.stringify(text)} does not survive a round trip`);
      }
    }
  });
});
