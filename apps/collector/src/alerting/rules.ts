import { z } from 'zod';
import { validateWith, type Validation } from '#rounds/plugins';
import { SEVERITIES, type Severity } from './alerts.js';
import { required } from './fields.js';
import { durationField } from '#rounds/common';
import { matcherField, matchesAll, type Labels, type Matcher } from './matchers.js';

export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** A rule as the engine uses it (and a persistence layer stores it): a threshold on a sample, or a forecast of a trend. */
export type Rule = ThresholdRule | ForecastRule;

/** A threshold rule; `kind` is absent in rules saved before there were other kinds. */
export interface ThresholdRule {
  kind?: 'threshold';
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

const ruleName = () =>
  z.string(required('must be text')).regex(RULE_NAME, 'must start with a letter and use only letters, digits, "_", "." and "-" (at most 100 characters)');
const metricName = () =>
  z.string(required('must be a metric name')).regex(METRIC_NAME, 'must be a metric name like filesystem_used_ratio (letters, digits, "_" and ":")');
const matchersField = () => z.array(matcherField(), { error: 'must be a list of matchers, e.g. ["agent=\\"pacs-01\\""]' }).default([]);
const severityField = () => z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).default('warning');
const descriptionField = () => z.string({ error: 'must be text' }).max(1000, 'must be at most 1000 characters').optional();

/** A threshold rule as written in a config file or sent to the API (`kind` may be left out). */
export const thresholdRuleSchema = z
  .strictObject({
    kind: z.literal('threshold', { error: 'must be "threshold" or "forecast"' }).optional(),
    name: ruleName(),
    metric: metricName(),
    matchers: matchersField(),
    op: z.enum(COMPARISONS, required(`must be one of ${COMPARISONS.join(' ')}`)),
    value: z.number(required('must be a number')),
    for: durationField().default(0),
    severity: severityField(),
    repeat: durationField().optional(),
    description: descriptionField(),
  })
  .transform((r): ThresholdRule => ({
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

/** A forecast rule as written: `{kind: "forecast", name, metric, matchers?, window, horizon, threshold, severity?, repeat?, description?}`. */
export const forecastRuleSchema = z
  .strictObject({
    kind: z.literal('forecast'),
    name: ruleName(),
    metric: metricName(),
    matchers: matchersField(),
    window: durationField({ min: 60_000, max: 30 * 86_400_000 }),
    horizon: durationField({ min: 60_000, max: 365 * 86_400_000 }),
    threshold: z.number(required('must be the value that counts as full, e.g. 1.0 for a ratio, 100 for a percentage or a size in bytes')),
    severity: severityField(),
    repeat: durationField().optional(),
    description: descriptionField(),
  })
  .transform((r): ForecastRule => ({
    kind: 'forecast',
    name: r.name,
    metric: r.metric,
    matchers: r.matchers,
    windowMs: r.window,
    horizonMs: r.horizon,
    threshold: r.threshold,
    severity: r.severity,
    repeatMs: r.repeat ?? null,
    description: r.description ?? null,
  }));

/** One rule as written in a config file or sent to the API: its `kind` picks the schema (threshold when absent). */
export const ruleSchema = z.unknown().transform((input, ctx): Rule => {
  const forecast = typeof input === 'object' && input !== null && (input as { kind?: unknown }).kind === 'forecast';
  const parsed = (forecast ? forecastRuleSchema : thresholdRuleSchema).safeParse(input);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
  return z.NEVER;
});

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

/**
 * A forecast rule: alerts when the least-squares line through a series' points over `windowMs`
 * crosses `threshold` within `horizonMs` ("the disk is full within 48 h"); see forecast.ts.
 */
export interface ForecastRule {
  kind: 'forecast';
  name: string;
  metric: string;
  matchers: Matcher[];
  windowMs: number;
  horizonMs: number;
  /** The value that counts as full: 1.0 for a ratio, 100 for a percentage, a size in bytes. */
  threshold: number;
  severity: Severity;
  repeatMs: number | null;
  description: string | null;
}

export function isForecast(rule: Rule): rule is ForecastRule {
  return rule.kind === 'forecast';
}

/** True when the rule watches this series (by metric name and labels). */
export function selects(rule: Rule, metric: string, labels: Labels): boolean {
  return rule.metric === metric && matchesAll(rule.matchers, labels);
}

/** The rule as one line: `filesystem_used_ratio{mount="/"} > 0.9 for 10m`. */
export function describeRule(rule: Rule): string {
  if (isForecast(rule))
    return `${selector(rule)} reaches ${rule.threshold} within ${formatDuration(rule.horizonMs)} (trend over ${formatDuration(rule.windowMs)})`;
  return `${selector(rule)} ${rule.op} ${rule.value}${rule.forMs ? ` for ${formatDuration(rule.forMs)}` : ''}`;
}

function selector(rule: Rule): string {
  const sel = rule.matchers.length ? `{${rule.matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(', ')}}` : '';
  return `${rule.metric}${sel}`;
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
