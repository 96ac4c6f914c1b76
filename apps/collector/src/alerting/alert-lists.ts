import { byNumber, byText, nameContains, type Matchers } from '../shared/dto.js';
import type { AlertView, RuleView } from './alert-views.js';
import type { Incident } from './incidents.js';
import type { ForecastStatus } from './engine-forecasts.js';
import type { INCIDENT_SORT_KEYS, IncidentsQuery } from '../history/history.dto.js';
import type {
  ALERT_SORT_KEYS,
  FORECAST_SORT_KEYS,
  ListForecastsQuery,
  ListAlertsQuery,
  ListRulesQuery,
  ListSilencesQuery,
  ListWindowsQuery,
  RULE_SORT_KEYS,
  SILENCE_SORT_KEYS,
  WINDOW_SORT_KEYS,
} from './alerting.dto.js';
import { SEVERITIES, type MaintenanceWindow, type Silence } from './index.js';

/**
 * The orders and filters of the alerting lists of the API (shared/dto.ts listPage): alerts,
 * rules, silences and maintenance windows, each held by the engine in memory.
 */

const SEVERITY_RANK = (s: string | null) => (s === null ? SEVERITIES.length : (SEVERITIES as readonly string[]).indexOf(s));
const STATE_RANK: Record<string, number> = { firing: 0, pending: 1, resolved: 2 };

/** `check` and `agent` name one as a person would: by name or by id. */
const names = (labels: Record<string, string>, kind: 'check' | 'agent', wanted: string) => labels[kind] === wanted || labels[`${kind}_id`] === wanted;

export const ALERT_ORDER: Record<(typeof ALERT_SORT_KEYS)[number], (a: AlertView, b: AlertView) => number> = {
  activeAt: byNumber((a) => a.activeAt),
  firedAt: byNumber((a) => a.firedAt),
  name: byText((a) => a.name),
  // Worst first, like the state orders of agents and checks.
  severity: (a, b) => SEVERITY_RANK(a.severity) - SEVERITY_RANK(b.severity),
  state: (a, b) => (STATE_RANK[a.state] ?? 3) - (STATE_RANK[b.state] ?? 3),
};

export const ALERT_FILTERS: Matchers<AlertView, ListAlertsQuery> = {
  state: (a, state) => a.state === state,
  severity: (a, severity) => a.severity === severity,
  check: (a, check) => names(a.labels, 'check', check),
  agent: (a, agent) => names(a.labels, 'agent', agent),
  name: (a, name) => nameContains(a.name, name),
  acknowledged: (a, acked) => (a.ack !== null) === (acked === 'true'),
};

export const RULE_ORDER: Record<(typeof RULE_SORT_KEYS)[number], (a: RuleView, b: RuleView) => number> = {
  // As written (the order PUT was given).
  position: () => 0,
  name: byText((r) => r.name),
  metric: byText((r) => r.metric),
  severity: (a, b) => SEVERITY_RANK(a.severity) - SEVERITY_RANK(b.severity),
};

export const RULE_FILTERS: Matchers<RuleView, ListRulesQuery> = {
  name: (r, name) => nameContains(r.name, name),
  metric: (r, metric) => r.metric === metric,
  severity: (r, severity) => r.severity === severity,
};

type SilenceView = Silence & { active: boolean };

export const SILENCE_ORDER: Record<(typeof SILENCE_SORT_KEYS)[number], (a: SilenceView, b: SilenceView) => number> = {
  // As added (the engine's order).
  position: () => 0,
  startsAt: byNumber((s) => s.startsAt),
  endsAt: byNumber((s) => s.endsAt),
  createdAt: byNumber((s) => s.createdAt),
};

export const SILENCE_FILTERS: Matchers<SilenceView, ListSilencesQuery> = {
  active: (s, active) => s.active === (active === 'true'),
  createdBy: (s, by) => s.createdBy.toLowerCase() === by.toLowerCase(),
};

type WindowView = MaintenanceWindow & { open: boolean; next: { start: number; end: number } | null };

export const WINDOW_ORDER: Record<(typeof WINDOW_SORT_KEYS)[number], (a: WindowView, b: WindowView) => number> = {
  position: () => 0,
  name: byText((w) => w.name),
  // Open ones, then by when they open next; windows that never open again last.
  next: (a, b) => byNumber((w: WindowView) => (w.open ? 0 : (w.next?.start ?? Number.MAX_SAFE_INTEGER)))(a, b),
};

export const WINDOW_FILTERS: Matchers<WindowView, ListWindowsQuery> = {
  name: (w, name) => nameContains(w.name, name),
  kind: (w, kind) => w.kind === kind,
  open: (w, open) => w.open === (open === 'true'),
};

export const FORECAST_ORDER: Record<(typeof FORECAST_SORT_KEYS)[number], (a: ForecastStatus, b: ForecastStatus) => number> = {
  // As the last round gave them.
  position: () => 0,
  rule: byText((f) => f.rule),
  series: byText((f) => f.series),
  // Soonest first; those that cross nowhere in sight last.
  crossesAt: (a, b) => byNumber((f: ForecastStatus) => f.crossesAt ?? Number.MAX_SAFE_INTEGER)(a, b),
};

export const FORECAST_FILTERS: Matchers<ForecastStatus, ListForecastsQuery> = {
  rule: (f, rule) => f.rule === rule,
  state: (f, state) => f.state === state,
  check: (f, check) => f.checkId === check,
};

export const INCIDENT_ORDER: Record<(typeof INCIDENT_SORT_KEYS)[number], (a: Incident, b: Incident) => number> = {
  startedAt: byNumber((i) => i.startedAt),
  durationMs: byNumber((i) => i.durationMs),
};

export const INCIDENT_FILTERS: Matchers<Incident, IncidentsQuery> = {
  severity: (i, severity) => i.severity === severity,
  open: (i, open) => (i.endedAt === null) === (open === 'true'),
  acknowledged: (i, acked) => (i.acknowledgedAt !== null) === (acked === 'true'),
};
