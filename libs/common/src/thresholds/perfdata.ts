/**
 * Nagios plugin output and performance data, as in the monitoring-plugins development
 * guidelines (https://www.monitoring-plugins.org/doc/guidelines.html#AEN200):
 *
 *   TEXT OUTPUT | OPTIONAL PERFDATA
 *   LONG TEXT LINE 1
 *   LONG TEXT LINE N | PERFDATA LINE 2
 *   PERFDATA LINE 3
 *
 * and each perfdata item `'label'=value[UOM];[warn];[crit];[min];[max]`.
 *
 * Parsing never throws: a plugin's output is untrusted text, so what cannot be read is
 * reported in `problems` and the rest is kept. The agent's nagios plugin and the
 * collector (for passive results) share this parser.
 */
import { formatRange, parseRange, type ThresholdRange } from './range.js';

export interface PerfDatum {
  label: string;
  /** `null` for `U`: the plugin could not determine the value. */
  value: number | null;
  /** The unit of measure exactly as printed (`ms`, `KB`, `%`, `c`, or ''). */
  uom: string;
  warn?: ThresholdRange;
  crit?: ThresholdRange;
  min?: number;
  max?: number;
}

export interface PerfdataParse {
  items: PerfDatum[];
  /** One sentence per item or field that could not be read (for logs; parsing goes on). */
  problems: string[];
}

export interface PluginOutput {
  /** The first line, without its perfdata: what the plugin says in one line. */
  text: string;
  /** The later lines of text, without perfdata and without trailing empty lines. */
  longText: string[];
  perfdata: PerfDatum[];
  problems: string[];
}

/** Base units perfdata are normalised to (see {@link normalisePerfDatum}). */
export type PerfUnit = '' | 'seconds' | 'bytes' | 'percent' | 'counter';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const VALUE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([^\d.;\s][^;\s]*)?$/;
const WHITESPACE = /\s/;

function readNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const n = Number(text);
  // + 0 folds -0 into 0 so that formatting and parsing again gives the same item
  return Number.isFinite(n) ? n + 0 : undefined;
}

function parseFields(label: string, raw: string, problems: string[]): PerfDatum | undefined {
  const fields = raw.split(';');
  const valueText = fields[0] ?? '';
  let value: number | null;
  let uom = '';
  if (valueText === 'U') {
    value = null;
  } else {
    const m = VALUE.exec(valueText);
    const n = m ? Number(m[1]) : NaN;
    if (!m || !Number.isFinite(n)) {
      problems.push(`perfdata "${label}": value "${valueText}" is not a number followed by an optional unit`);
      return undefined;
    }
    value = n + 0;
    uom = m[2] ?? '';
  }
  const datum: PerfDatum = { label, value, uom };
  const range = (index: number, name: 'warn' | 'crit') => {
    const text = fields[index];
    if (text === undefined || text === '') return;
    try {
      datum[name] = parseRange(text);
    } catch (e) {
      problems.push(`perfdata "${label}": ${name} ignored: ${(e as Error).message}`);
    }
  };
  const bound = (index: number, name: 'min' | 'max') => {
    const text = fields[index];
    if (text === undefined || text === '') return;
    const n = readNumber(text);
    if (n === undefined) problems.push(`perfdata "${label}": ${name} "${text}" is not a number, ignored`);
    else datum[name] = n;
  };
  range(1, 'warn');
  range(2, 'crit');
  bound(3, 'min');
  bound(4, 'max');
  if (fields.slice(5).some((f) => f !== '')) {
    problems.push(`perfdata "${label}": fields after max ignored ("${fields.slice(5).join(';')}")`);
  }
  return datum;
}

/** Parses the perfdata part(s) of plugin output: space-separated items. */
export function parsePerfdata(input: string): PerfdataParse {
  const items: PerfDatum[] = [];
  const problems: string[] = [];
  const s = input;
  const n = s.length;
  let i = 0;
  const skipToken = () => {
    while (i < n && !WHITESPACE.test(s[i]!)) i++;
  };
  while (i < n) {
    while (i < n && WHITESPACE.test(s[i]!)) i++;
    if (i >= n) break;
    const start = i;
    let label = '';
    if (s[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        if (s[i] === "'") {
          // '' inside a quoted label is an escaped quote
          if (s[i + 1] === "'") {
            label += "'";
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        label += s[i];
        i++;
      }
      if (!closed) {
        problems.push(`perfdata "${s.slice(start, start + 40)}": quoted label is never closed`);
        break;
      }
    } else {
      while (i < n && s[i] !== '=' && !WHITESPACE.test(s[i]!)) i++;
      label = s.slice(start, i);
    }
    if (s[i] !== '=') {
      skipToken();
      problems.push(`perfdata "${s.slice(start, i)}" ignored: expected label=value`);
      continue;
    }
    i++;
    const valueStart = i;
    skipToken();
    if (label === '') {
      problems.push(`perfdata "${s.slice(start, i)}" ignored: the label is empty`);
      continue;
    }
    const datum = parseFields(label, s.slice(valueStart, i), problems);
    if (datum) items.push(datum);
  }
  return { items, problems };
}

/** Splits a plugin's stdout into first line, long text and perfdata (see the file comment). */
export function parsePluginOutput(stdout: string): PluginOutput {
  const lines = stdout.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length > 1 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const first = lines[0] ?? '';
  const perfParts: string[] = [];
  const firstPipe = first.indexOf('|');
  const text = (firstPipe === -1 ? first : first.slice(0, firstPipe)).trim();
  if (firstPipe !== -1) perfParts.push(first.slice(firstPipe + 1));
  const longText: string[] = [];
  let inPerfdata = false;
  for (const line of lines.slice(1)) {
    if (inPerfdata) {
      perfParts.push(line);
      continue;
    }
    const pipe = line.indexOf('|');
    if (pipe === -1) {
      longText.push(line);
    } else {
      longText.push(line.slice(0, pipe));
      perfParts.push(line.slice(pipe + 1));
      inPerfdata = true;
    }
  }
  while (longText.length > 0 && longText[longText.length - 1]!.trim() === '') longText.pop();
  const { items, problems } = parsePerfdata(perfParts.join(' '));
  return { text, longText, perfdata: items, problems };
}

const LABEL_NEEDS_QUOTES = /[\s'=;|]/;

function formatNumber(n: number): string {
  return Object.is(n, -0) ? '0' : String(n);
}

/** Formats one item so that {@link parsePerfdata} reads it back unchanged. */
export function formatPerfDatum(d: PerfDatum): string {
  const label = LABEL_NEEDS_QUOTES.test(d.label) ? `'${d.label.replace(/'/g, "''")}'` : d.label;
  const fields = [
    d.value === null ? 'U' : `${formatNumber(d.value)}${d.uom}`,
    d.warn ? formatRange(d.warn) : '',
    d.crit ? formatRange(d.crit) : '',
    d.min === undefined ? '' : formatNumber(d.min),
    d.max === undefined ? '' : formatNumber(d.max),
  ];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return `${label}=${fields.join(';')}`;
}

export function formatPerfdata(items: readonly PerfDatum[]): string {
  return items.map(formatPerfDatum).join(' ');
}

/**
 * UOM → base unit. Byte prefixes are powers of 1024 because that is what monitoring-plugins
 * means by them (check_disk and check_swap compute "MB" as bytes / 1048576); the IEC
 * spellings newer plugins print are accepted as the same.
 */
const UNITS: ReadonlyMap<string, { unit: PerfUnit; factor: number }> = new Map([
  ['', { unit: '', factor: 1 }],
  ['s', { unit: 'seconds', factor: 1 }],
  ['ms', { unit: 'seconds', factor: 1e-3 }],
  ['us', { unit: 'seconds', factor: 1e-6 }],
  ['%', { unit: 'percent', factor: 1 }],
  ['B', { unit: 'bytes', factor: 1 }],
  ['KB', { unit: 'bytes', factor: 1024 }],
  ['MB', { unit: 'bytes', factor: 1024 ** 2 }],
  ['GB', { unit: 'bytes', factor: 1024 ** 3 }],
  ['TB', { unit: 'bytes', factor: 1024 ** 4 }],
  ['KIB', { unit: 'bytes', factor: 1024 }],
  ['MIB', { unit: 'bytes', factor: 1024 ** 2 }],
  ['GIB', { unit: 'bytes', factor: 1024 ** 3 }],
  ['TIB', { unit: 'bytes', factor: 1024 ** 4 }],
  ['c', { unit: 'counter', factor: 1 }],
]);

export interface NormalisedPerfDatum {
  label: string;
  value: number;
  /** A {@link PerfUnit}, or the UOM as printed when the guidelines do not define it. */
  unit: PerfUnit | (string & {});
  /** False when the UOM is not one the guidelines define: value and unit are as printed. */
  known: boolean;
  warn?: ThresholdRange;
  crit?: ThresholdRange;
  min?: number;
  max?: number;
}

function lookupUnit(uom: string): { unit: PerfUnit; factor: number } | undefined {
  // byte prefixes are printed in any case in the wild (kB, Kb, MiB); time units are not
  return UNITS.get(uom) ?? (/^[kmgt]i?b$/i.test(uom) ? UNITS.get(uom.toUpperCase()) : undefined);
}

function scaleRange(range: ThresholdRange | undefined, factor: number): ThresholdRange | undefined {
  if (!range || factor === 1) return range;
  const scaled = { start: range.start * factor, end: range.end * factor, inside: range.inside };
  return { ...scaled, text: formatRange(scaled) };
}

/**
 * Converts a value (and its thresholds, min and max) to base units: ms → seconds,
 * KB → bytes (×1024), % stays 0–100 with unit `percent`, c → `counter`.
 * Returns undefined for `U` (no value to report).
 */
export function normalisePerfDatum(d: PerfDatum): NormalisedPerfDatum | undefined {
  if (d.value === null) return undefined;
  const known = lookupUnit(d.uom);
  const factor = known?.factor ?? 1;
  const out: NormalisedPerfDatum = { label: d.label, value: d.value * factor, unit: known ? known.unit : d.uom, known: Boolean(known) };
  const warn = scaleRange(d.warn, factor);
  const crit = scaleRange(d.crit, factor);
  if (warn) out.warn = warn;
  if (crit) out.crit = crit;
  if (d.min !== undefined) out.min = d.min * factor;
  if (d.max !== undefined) out.max = d.max * factor;
  return out;
}
