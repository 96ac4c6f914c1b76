import { fingerprintOf, type Condition, type EngineStep, type Observation } from './alerts.js';
import type { CheckStateData } from './check-state.js';
import { applyObservation, observationOf } from './engine-lifecycle.js';
import type { EngineStore } from './engine-state.js';
import type { Labels } from './matchers.js';
import { compare, isForecast, selects, type Rule, type ThresholdRule } from './rules.js';

/** The `reason` of a forecast rule's alerts (a threshold rule's is `threshold`). */
export const FORECAST_REASON = 'forecast';

export interface MetricInput {
  name: string;
  value: number;
  unit?: string;
  labels?: Readonly<Record<string, string>>;
}

/** Labels the engine sets; a metric label with one of these names is kept as `exported_<name>`. */
const RESERVED_LABELS = new Set(['alertname', 'severity', 'agent', 'agent_id', 'check', 'check_id', 'plugin', 'metric']);

export function ruleAlertFingerprint(rule: string, agentId: string, checkId: string, metric: string, labels: Labels = {}): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return fingerprintOf(['rule', rule, agentId, checkId, metric, sorted]);
}

/** Judges one result's samples by every rule that selects their series; `checkLabels` are the check's own. */
export function evaluateSamples(
  store: EngineStore,
  check: CheckStateData,
  checkLabels: Labels,
  metrics: readonly MetricInput[],
  at: number,
  step: EngineStep,
): void {
  for (const metric of metrics) {
    if (!Number.isFinite(metric.value)) continue;
    const labels = seriesLabels(checkLabels, metric);
    for (const rule of store.rules) {
      if (!isForecast(rule) && selects(rule, metric.name, labels)) evaluateRule(store, rule, check, metric, labels, at, step);
    }
  }
}

/**
 * After the rules were replaced: alerts of a rule that is gone, or whose series it no longer
 * selects or whose last value no longer crosses its threshold, resolve now; the others take
 * the rule's new severity and repeat. Nothing waits for the next sample, which may be minutes away.
 */
export function rejudgeRuleAlerts(store: EngineStore, step: EngineStep): void {
  const now = store.clock.now();
  const byName = new Map(store.rules.map((r) => [r.name, r]));
  for (const record of [...store.alerts.values()]) {
    if (record.source.type !== 'rule' || record.state === 'resolved') continue;
    const rule = byName.get(record.source.rule);
    // A forecast alert keeps its state until the next forecast round re-judges it with the new horizon or threshold.
    const holds =
      rule &&
      (isForecast(rule)
        ? record.reason === FORECAST_REASON
        : record.reason !== FORECAST_REASON && record.value !== null && compare(record.value, rule.op, rule.value));
    const still = rule && selects(rule, record.source.metric, record.labels) && holds;
    const obs: Observation = rule
      ? { ...observationOf(record), severity: rule.severity, labels: { ...record.labels, severity: rule.severity }, repeatMs: store.repeatOf(rule.repeatMs) }
      : observationOf(record);
    const condition: Condition = still ? (record.state === 'firing' ? 'firing' : 'pending') : 'inactive';
    if (!still) obs.summary = rule ? `rule ${record.source.rule} changed and no longer matches` : `rule ${record.source.rule} was removed`;
    applyObservation(store, obs, condition, now, step);
  }
}

function evaluateRule(store: EngineStore, rule: ThresholdRule, check: CheckStateData, metric: MetricInput, labels: Labels, at: number, step: EngineStep): void {
  const fingerprint = ruleAlertFingerprint(rule.name, check.agentId, check.checkId, metric.name, metric.labels);
  const existing = store.alerts.get(fingerprint);
  let condition: Condition = 'inactive';
  if (compare(metric.value, rule.op, rule.value)) {
    // `for` counts from the episode's start, so a pending alert keeps its age across samples.
    const since = existing && existing.state !== 'resolved' ? existing.activeAt : at;
    condition = existing?.state === 'firing' || at - since >= rule.forMs ? 'firing' : 'pending';
  }
  const where = `${labels.check} on ${labels.agent}`;
  applyObservation(
    store,
    ruleObservation(store, rule, check, metric, labels, {
      summary:
        condition === 'inactive'
          ? `${seriesName(metric)} of ${where} is ${metric.value}, no longer ${rule.op} ${rule.value}`
          : `${seriesName(metric)} of ${where} is ${metric.value} (${rule.op} ${rule.value}${rule.description ? `: ${rule.description}` : ''})`,
      reason: 'threshold',
      value: metric.value,
    }),
    condition,
    at,
    step,
  );
}

/** What a rule says about one series (`labels`: the series' labels) — threshold and forecast rules alike. */
export function ruleObservation(
  store: EngineStore,
  rule: Rule,
  check: Pick<CheckStateData, 'agentId' | 'checkId'>,
  metric: Pick<MetricInput, 'name' | 'labels'>,
  labels: Labels,
  said: Pick<Observation, 'summary' | 'reason' | 'value'>,
): Observation {
  return {
    fingerprint: ruleAlertFingerprint(rule.name, check.agentId, check.checkId, metric.name, metric.labels),
    name: rule.name,
    source: { type: 'rule', rule: rule.name, agentId: check.agentId, checkId: check.checkId, metric: metric.name },
    labels: { ...labels, alertname: rule.name, severity: rule.severity },
    severity: rule.severity,
    ...said,
    status: null,
    repeatMs: store.repeatOf(rule.repeatMs),
  };
}

/** The check's labels plus the metric's own (renamed to `exported_<name>` where they clash) and `metric`. */
export function seriesLabels(checkLabels: Labels, metric: Pick<MetricInput, 'name' | 'labels'>): Labels {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric.labels ?? {})) labels[RESERVED_LABELS.has(k) ? `exported_${k}` : k] = v;
  return { ...labels, ...checkLabels, metric: metric.name };
}

export function seriesName(metric: Pick<MetricInput, 'name' | 'labels'>): string {
  const entries = Object.entries(metric.labels ?? {});
  return entries.length ? `${metric.name}{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}` : metric.name;
}
