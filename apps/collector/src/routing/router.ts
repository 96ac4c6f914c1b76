import { describeWeeklySpan, weeklySpans, type WeeklySpan } from '#rounds/common';
import { formatMatcher, matches, type Labels } from '../alerting/matchers.js';
import type { Severity } from '../alerting/alerts.js';
import type { EscalationStep, NotificationPolicy, RoutingSettings, TimeCondition } from './policy.js';

/** The id and name under which the default route's steps are recorded. */
export const DEFAULT_ROUTE_ID = 'default';
export const DEFAULT_ROUTE_NAME = 'default route';

/** Every enabled channel at once: the default route when none is configured. */
const EVERY_CHANNEL: EscalationStep[] = [{ afterMs: 0, targets: [{ allChannels: true }] }];

/** A route an alert takes: a policy's steps, or the default route's. */
export interface Route {
  policyId: string;
  policyName: string;
  steps: EscalationStep[];
}

/** Why a policy took an alert or not, in words (the routing explanation shows it). */
export interface PolicyVerdict {
  policy: string;
  matched: boolean;
  why: string;
}

export interface Routing {
  routes: Route[];
  verdicts: PolicyVerdict[];
}

/**
 * The routes of an alert with `labels` and `severity` at `at`: policies in order, the first
 * that holds takes it and ends the walk unless it says `continue`; when none holds, the default
 * route. Pure and cheap (policies are in memory): called for every notification.
 */
export function selectRoutes(policies: readonly NotificationPolicy[], settings: RoutingSettings, labels: Labels, severity: Severity, at: number): Routing {
  const routes: Route[] = [];
  const verdicts: PolicyVerdict[] = [];
  let stoppedBy: string | undefined;
  for (const p of policies) {
    if (stoppedBy !== undefined) {
      verdicts.push({ policy: p.name, matched: false, why: `not considered: "${stoppedBy}" took the alert and does not continue` });
      continue;
    }
    const refusal = refusalOf(p, settings, labels, severity, at);
    if (refusal) {
      verdicts.push({ policy: p.name, matched: false, why: refusal });
      continue;
    }
    verdicts.push({ policy: p.name, matched: true, why: agreement(p, settings) });
    routes.push({ policyId: p.id, policyName: p.name, steps: p.steps });
    if (!p.continue) stoppedBy = p.name;
  }
  if (routes.length === 0) routes.push(defaultRoute(settings));
  return { routes, verdicts };
}

export function defaultRoute(settings: RoutingSettings): Route {
  return { policyId: DEFAULT_ROUTE_ID, policyName: DEFAULT_ROUTE_NAME, steps: settings.defaultRoute ?? EVERY_CHANNEL };
}

/** Why the policy does not take the alert (the first condition that fails), or undefined when it does. */
function refusalOf(p: NotificationPolicy, settings: RoutingSettings, labels: Labels, severity: Severity, at: number): string | undefined {
  const miss = p.matchers.find((m) => !matches(m, labels));
  if (miss) return `labels do not match ${formatMatcher(miss)}`;
  if (p.severities.length > 0 && !p.severities.includes(severity)) return `severity ${severity} is not ${p.severities.join(' or ')}`;
  if (p.time) {
    const { span, inside } = timeSpan(p.time, settings);
    if (within(span, at) !== inside) return `${inside ? 'outside' : 'inside'} ${describeTime(p.time, span)}`;
  }
  return undefined;
}

function agreement(p: NotificationPolicy, settings: RoutingSettings): string {
  const parts = [p.matchers.length > 0 ? `labels match ${p.matchers.map(formatMatcher).join(', ')}` : 'matches every alert'];
  if (p.severities.length > 0) parts.push(`severity is ${p.severities.join(' or ')}`);
  if (p.time) {
    const { span, inside } = timeSpan(p.time, settings);
    parts.push(`${inside ? 'inside' : 'outside'} ${describeTime(p.time, span)}`);
  }
  return parts.join('; ');
}

/** The weekly span a condition is about, and whether the alert must fall inside it (off-hours: outside the working hours). */
function timeSpan(time: TimeCondition, settings: RoutingSettings): { span: WeeklySpan; inside: boolean } {
  if ('active' in time) return { span: settings.workingHours, inside: time.active === 'working-hours' };
  return { span: { timeZone: time.timeZone, days: time.days, start: time.from, end: time.to }, inside: true };
}

function describeTime(time: TimeCondition, span: WeeklySpan): string {
  return `${'active' in time ? 'working hours ' : "the policy's hours "}${describeWeeklySpan(span)}`;
}

/** True when the zone's clocks read a time inside the span at `at` (the maintenance windows' arithmetic). */
function within(span: WeeklySpan, at: number): boolean {
  return weeklySpans(span, at, at + 1).length > 0;
}
