import { z } from 'zod';
import { validateWith, type Validation } from '#rounds/plugins';
import { SEVERITIES, type Severity } from './alerts.js';
import { required } from './fields.js';
import { durationField } from '#rounds/common';
import { matcherField, matchesAll, type Labels, type Matcher } from './matchers.js';

export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** A threshold rule as the engine uses it (and a persistence layer stores it). */
export interface Rule {
  /** Unique; the alert name of every alert the rule raises. */
  name: string;
  /** The stored metric's name, e.g. filesystem_used_ratio. */
  metric: string;
  /** On the series' labels: agent, check, plugin, agent_id, check_id and the metric's own labels. */
  matchers: Matcher[];
  op: Comparison;
  value: number;
  /** How long the condition must hold (by result time) before the alert fires; 0 fires at once. */
  forMs: number;
  severity: Severity;
  /** Reminder interval while firing; `null`: the engine's default; 0: never. */
  repeatMs: number | null;
  description: string | null;
}

const RULE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*$/;

/** One rule as written in a config file or sent to the API. */
export const ruleSchema = z
  .strictObject({
    name: z
      .string(required('must be text'))
      .regex(RULE_NAME, 'must start with a letter and use only letters, digits, "_", "." and "-" (at most 100 characters)'),
    metric: z.string(required('must be a metric name')).regex(METRIC_NAME, 'must be a metric name like filesystem_used_ratio (letters, digits, "_" and ":")'),
    matchers: z.array(matcherField(), { error: 'must be a list of matchers, e.g. ["agent=\\"pacs-01\\""]' }).default([]),
    op: z.enum(COMPARISONS, required(`must be one of ${COMPARISONS.join(' ')}`)),
    value: z.number(required('must be a number')),
    for: durationField().default(0),
    severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).default('warning'),
    repeat: durationField().optional(),
    description: z.string({ error: 'must be text' }).max(1000, 'must be at most 1000 characters').optional(),
  })
  .transform((r): Rule => ({
    name: r.name,
    metric: r.metric,
    matchers: r.matchers,
    op: r.op,
    value: r.value,
    forMs: r.for,
    severity: r.severity,
    repeatMs: r.repeat ?? null,
    description: r.description ?? null,
  }));

/** A list of rules; names must be unique. */
export const ruleListSchema = z.array(ruleSchema, { error: 'must be a list of rules' }).superRefine((rules, ctx) => {
  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    const first = seen.get(rule.name);
    if (first === undefined) seen.set(rule.name, i);
    else ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${rule.name}" is already the name of rule ${first}: rule names must be unique` });
  });
});

export function parseRule(input: unknown): Validation<Rule> {
  return validateWith(ruleSchema, input);
}

export function parseRules(input: unknown): Validation<Rule[]> {
  return validateWith(ruleListSchema, input);
}

export function compare(actual: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '>':
      return actual > threshold;
    case '>=':
      return actual >= threshold;
    case '<':
      return actual < threshold;
    case '<=':
      return actual <= threshold;
    case '==':
      return actual === threshold;
    case '!=':
      return actual !== threshold;
  }
}

/** True when the rule watches this series (by metric name and labels). */
export function selects(rule: Rule, metric: string, labels: Labels): boolean {
  return rule.metric === metric && matchesAll(rule.matchers, labels);
}

/** The rule as one line: `filesystem_used_ratio{mount="/"} > 0.9 for 10m`. */
export function describeRule(rule: Rule): string {
  const sel = rule.matchers.length ? `{${rule.matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(', ')}}` : '';
  return `${rule.metric}${sel} ${rule.op} ${rule.value}${rule.forMs ? ` for ${formatDuration(rule.forMs)}` : ''}`;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
