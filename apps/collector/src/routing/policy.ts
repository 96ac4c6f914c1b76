import { z } from 'zod';
import { durationField, WEEKDAYS, type WeeklySpan } from '#rounds/common';
import { timeOfDay, timeZoneName } from '#rounds/plugins';
import { instantField, nameField } from '../alerting/fields.js';
import { formatMatcher, matcherField, type Matcher } from '../alerting/matchers.js';
import { SEVERITIES, type Severity } from '../alerting/alerts.js';

/**
 * Notification policies (Alertmanager's routes with PagerDuty's escalation steps): an ordered
 * list; the first policy whose labels, severities and time condition hold takes the alert, and
 * one with `continue` lets later ones take it too. No policy: the default route.
 */

/** Whom a step notifies: a channel (stored by id), an on-call schedule (by name, resolved when the step is sent), or every enabled channel. */
export type RouteTarget = { channel: string } | { schedule: string } | { allChannels: true };

export interface EscalationStep {
  /** After the alert fired; the first step may be 0 (at once). */
  afterMs: number;
  targets: RouteTarget[];
}

/** A weekly span written out, or the routing settings' working hours (or the time outside them). */
export type TimeCondition = { timeZone: string; days: WeeklySpan['days']; from: string; to: string } | { active: 'working-hours' | 'off-hours' };

export interface PolicyRules {
  matchers: Matcher[];
  /** Empty: every severity. */
  severities: Severity[];
  time: TimeCondition | null;
  continue: boolean;
  steps: EscalationStep[];
}

export interface NotificationPolicy extends PolicyRules {
  id: string;
  name: string;
  /** 0-based place in the list. */
  position: number;
}

export interface RoutingSettings {
  /** What an alert no policy takes goes to; `null`: every enabled channel at once (what installs had before policies). */
  defaultRoute: EscalationStep[] | null;
  /** What `active: "working-hours"` means. */
  workingHours: WeeklySpan;
}

export const DEFAULT_WORKING_HOURS: WeeklySpan = Object.freeze({
  timeZone: 'UTC',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const,
  start: '08:00',
  end: '18:00',
});
export const DEFAULT_ROUTING: RoutingSettings = Object.freeze({ defaultRoute: null, workingHours: DEFAULT_WORKING_HOURS });

const weekdays = () =>
  z
    .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }), { error: 'must be a list of weekdays, e.g. ["mon", "tue"]' })
    .min(1, 'needs at least one weekday, e.g. ["mon"]')
    .transform((days) => WEEKDAYS.filter((d) => days.includes(d)));

const target = z.union(
  [
    z.strictObject({ channel: nameField('a channel id or name', 200) }),
    z.strictObject({ schedule: nameField('an on-call schedule name', 200) }),
    z.strictObject({ allChannels: z.literal(true) }),
  ],
  { error: 'must be {"channel": "<id or name>"}, {"schedule": "<name>"} or {"allChannels": true}' },
);

/** Steps in order of `after`, each later than the one before (a tie would be one step written twice). */
export const stepsField = () =>
  z
    .array(z.strictObject({ after: durationField({ max: 7 * 86_400_000 }), targets: z.array(target).min(1, 'needs at least one target') }), {
      error: 'must be a list of steps like [{"after": "0s", "targets": [{"channel": "ops-mail"}]}]',
    })
    .min(1, 'needs at least one step')
    .max(10, 'must have at most 10 steps')
    .superRefine((steps, ctx) => {
      for (let i = 1; i < steps.length; i++)
        if (steps[i]!.after <= steps[i - 1]!.after)
          ctx.addIssue({ code: 'custom', path: [i, 'after'], message: `must be later than step ${i - 1}'s after (each step escalates after the one before)` });
    })
    .transform((steps): EscalationStep[] => steps.map((s) => ({ afterMs: s.after, targets: s.targets })));

const namedTime = z.strictObject({ active: z.enum(['working-hours', 'off-hours'], { error: 'must be working-hours or off-hours' }) });
const spanTime = z.strictObject({ timeZone: timeZoneName(), days: weekdays(), from: timeOfDay(), to: timeOfDay() });

/** Judged by the form it has (`active`, or a span), so that its errors name the field at fault rather than "matches neither". */
const timeCondition = z
  .record(z.string(), z.unknown(), { error: 'must be {"active": "working-hours" | "off-hours"} or {"timeZone", "days", "from", "to"}' })
  .transform((input, ctx): TimeCondition => {
    const parsed = ('active' in input ? namedTime : spanTime).safeParse(input);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message });
    return z.NEVER;
  });

/** A policy as the API takes it (create and replace); `position` absent: at the end. Channel names are resolved by PoliciesService. */
export const policyDto = z.strictObject({
  name: nameField('text', 200),
  position: z
    .number({ error: 'must be a whole number, 0 or more' })
    .int('must be a whole number, 0 or more')
    .min(0, 'must be a whole number, 0 or more')
    .optional(),
  matchers: z.array(matcherField(), { error: 'must be a list of matchers, e.g. ["site=\\"north\\""]' }).default([]),
  severities: z.array(z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` })).default([]),
  time: timeCondition.nullable().default(null),
  continue: z.boolean({ error: 'must be true or false' }).default(false),
  steps: stepsField(),
});
export type PolicyDto = z.output<typeof policyDto>;

/** The routing settings as the API takes them. */
export const routingSettingsDto = z.strictObject({
  defaultRoute: stepsField().nullable(),
  workingHours: spanTime.transform((w): WeeklySpan => ({ timeZone: w.timeZone, days: w.days, start: w.from, end: w.to })),
});
export type RoutingSettingsDto = z.output<typeof routingSettingsDto>;

/** `POST /notification-policies/explain`: which policies would take an alert with these labels and severity at `at` (default now). */
export const explainDto = z.strictObject({
  labels: z.record(z.string(), z.string({ error: 'must be text' }), { error: 'must be an object of label names to values' }),
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }),
  at: instantField().optional(),
});
export type ExplainDto = z.output<typeof explainDto>;

/** What a policy's rules look like stored and shown: matchers as text, `after` in milliseconds (accepted back as is). */
export interface StoredRules {
  matchers: string[];
  severities: Severity[];
  time: TimeCondition | null;
  continue: boolean;
  steps: { after: number; targets: RouteTarget[] }[];
}

export function storedRules(rules: PolicyRules): StoredRules {
  return {
    matchers: rules.matchers.map(formatMatcher),
    severities: rules.severities,
    time: rules.time,
    continue: rules.continue,
    steps: storedSteps(rules.steps),
  };
}

export function storedSteps(steps: readonly EscalationStep[]): { after: number; targets: RouteTarget[] }[] {
  return steps.map((s) => ({ after: s.afterMs, targets: s.targets }));
}

export const POLICY_SORT_KEYS = ['position', 'name'] as const;
