import type { AuditTarget } from '../audit/audit.types.js';
import { formatDuration, formatMatcher, isForecast, type AlertSnapshot, type MuteReason, type Rule, type Silence, type ThresholdRule } from './index.js';

/** An alert as the API shows it: what it is, where it stands, and why it is quiet if it is. */
export interface AlertView {
  fingerprint: string;
  name: string;
  state: AlertSnapshot['state'];
  severity: AlertSnapshot['severity'];
  labels: Record<string, string>;
  summary: string;
  reason: string;
  value: number | null;
  status: AlertSnapshot['status'];
  source: AlertSnapshot['source'];
  activeAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
  ack: AlertSnapshot['ack'];
  /** Receivers were told it fires (and have not been told it resolved). */
  notified: boolean;
  lastNotifiedAt: number | null;
  mutedBy: MuteReason[];
}

/** A rule in the form PUT /alert-rules takes (so a GET can be edited and sent back). */
export type RuleView = ThresholdRuleView | ForecastRuleView;

interface RuleViewCommon {
  name: string;
  metric: string;
  matchers: string[];
  severity: Rule['severity'];
  repeat?: string;
  description?: string;
}

export interface ThresholdRuleView extends RuleViewCommon {
  op: ThresholdRule['op'];
  value: number;
  for: string;
}

export interface ForecastRuleView extends RuleViewCommon {
  kind: 'forecast';
  window: string;
  horizon: string;
  threshold: number;
}

export function alertView(a: AlertSnapshot, mutedBy: MuteReason[]): AlertView {
  return {
    fingerprint: a.fingerprint,
    name: a.name,
    state: a.state,
    severity: a.severity,
    labels: { ...a.labels },
    summary: a.summary,
    reason: a.reason,
    value: a.value,
    status: a.status,
    source: a.source,
    activeAt: a.activeAt,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt,
    ack: a.ack,
    notified: a.notifiedSeverity !== null,
    lastNotifiedAt: a.lastNotifiedAt,
    mutedBy,
  };
}

export function alertTarget(fingerprint: string, name: string | undefined): AuditTarget {
  return { kind: 'alert', id: fingerprint, name: name ?? null };
}

/** A silence has no name: its matchers say what it silences. */
export function silenceTarget(silence: Silence): AuditTarget {
  return { kind: 'silence', id: silence.id, name: silence.matchers.map(formatMatcher).join(', ') };
}

export function ruleView(rule: Rule): RuleView {
  const common: RuleViewCommon = {
    name: rule.name,
    metric: rule.metric,
    matchers: rule.matchers.map(formatMatcher),
    severity: rule.severity,
    ...(rule.repeatMs === null ? {} : { repeat: formatDuration(rule.repeatMs) }),
    ...(rule.description === null ? {} : { description: rule.description }),
  };
  if (isForecast(rule)) {
    const { name, metric, matchers, ...rest } = common;
    return {
      kind: 'forecast',
      name,
      metric,
      matchers,
      window: formatDuration(rule.windowMs),
      horizon: formatDuration(rule.horizonMs),
      threshold: rule.threshold,
      ...rest,
    };
  }
  const { name, metric, matchers, ...rest } = common;
  return { name, metric, matchers, op: rule.op, value: rule.value, for: formatDuration(rule.forMs), ...rest };
}
