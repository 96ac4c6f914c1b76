import { z } from 'zod';

/** Label name → value. A label that is absent reads as "" (Prometheus semantics). */
export type Labels = Readonly<Record<string, string>>;

export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

/** One condition on one label; regexes are anchored (`=~"pacs-.*"` must match the whole value). */
export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;
const HELP = 'write label="value", label!="value", label=~"regex" or label!~"regex"';

/** Parses `agent="pacs-01"`, `mount!=/boot`, `check=~"PACS.*"`; returns what is wrong instead of throwing. */
export function parseMatcher(text: string): Matcher | string {
  const m = MATCHER.exec(text);
  if (!m) return `\`${text}\` is not a matcher: ${HELP}`;
  const [, label, op, raw] = m as unknown as [string, string, MatchOp, string];
  let value = raw;
  if (raw.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'string') throw new Error('not a string');
      value = parsed;
    } catch {
      return `\`${text}\` is not a matcher: its quoted value is not closed or has a bad escape`;
    }
  }
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(anchored(value));
    } catch (e) {
      const why = /: ([^:]+)$/.exec((e as Error).message)?.[1] ?? (e as Error).message;
      return `\`${text}\` is not a matcher: /${value}/ is not a valid regular expression (${why})`;
    }
  }
  return { label, op, value };
}

/** The canonical text of a matcher, which {@link parseMatcher} reads back to the same matcher. */
export function formatMatcher(m: Matcher): string {
  return `${m.label}${m.op}${JSON.stringify(m.value)}`;
}

function anchored(pattern: string): string {
  return `^(?:${pattern})$`;
}

// Patterns come from rules, silences and windows — a small set — so compile each once.
const compiled = new Map<string, RegExp>();

function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    if (compiled.size > 10_000) compiled.clear();
    re = new RegExp(anchored(pattern));
    compiled.set(pattern, re);
  }
  return re;
}

export function matches(m: Matcher, labels: Labels): boolean {
  const actual = labels[m.label] ?? '';
  switch (m.op) {
    case '=':
      return actual === m.value;
    case '!=':
      return actual !== m.value;
    case '=~':
      return regex(m.value).test(actual);
    case '!~':
      return !regex(m.value).test(actual);
  }
}

/** All matchers hold; an empty list matches everything. */
export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => matches(m, labels));
}

/** A matcher written as text in a config, parsed (and its regex checked) at validation. */
export function matcherField() {
  return z.string({ error: 'must be a matcher written as text, e.g. agent="pacs-01"' }).transform((text, ctx): Matcher => {
    const parsed = parseMatcher(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  });
}
