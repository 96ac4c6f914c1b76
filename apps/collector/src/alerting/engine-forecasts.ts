import type { Condition, EngineStep } from './alerts.js';
import { checkLabels } from './engine-checks.js';
import { applyObservation, observationOf } from './engine-lifecycle.js';
import { FORECAST_REASON, ruleAlertFingerprint, ruleObservation, seriesLabels, seriesName } from './engine-rules.js';
import type { EngineStore } from './engine-state.js';
import { formatRate, formatValue, linearTrend, words, type TrendPoint } from './forecast.js';
import { isForecast, selects, type ForecastRule } from './rules.js';

/** A stored metric series a forecast rule may watch: one metric of one check with its own labels. */
export interface SeriesRef {
  checkId: string;
  metric: string;
  labels: Readonly<Record<string, string>>;
  unit: string;
}

/** One series' history handed to a forecast round: its points over (at least) the rule's window. */
export interface ForecastInput extends SeriesRef {
  rule: string;
  points: readonly TrendPoint[];
}

/** What the last forecast round said about one rule's series: what the rule list shows. */
/** What a forecast says of a series (the forecasts list filters by these). */
export const FORECAST_STATES = ['insufficient', 'steady', 'crossing'] as const;

export interface ForecastStatus {
  rule: string;
  checkId: string;
  agentId: string;
  /** `filesystem_used_bytes{mount="/data"} of disk on pacs-01` */
  series: string;
  /** `insufficient`: no alert, `why` says what is missing; `steady`: no crossing within the horizon; `crossing`: the alert fires. */
  state: (typeof FORECAST_STATES)[number];
  why: string;
  /** When the line reaches the threshold (crossing and steady with a crossing beyond the horizon), else null. */
  crossesAt: number | null;
  at: number;
}

/** Which of these series each forecast rule watches (by the series' labels, its check's included); checks without a state yet are left out. */
export function forecastTargets<S extends SeriesRef>(store: EngineStore, series: readonly S[]): { rule: ForecastRule; series: S }[] {
  const rules = store.rules.filter(isForecast);
  if (rules.length === 0) return [];
  const out: { rule: ForecastRule; series: S }[] = [];
  for (const s of series) {
    const check = store.checks.get(s.checkId);
    if (!check) continue;
    const labels = seriesLabels(checkLabels(check), { name: s.metric, labels: s.labels });
    for (const rule of rules) if (selects(rule, s.metric, labels)) out.push({ rule, series: s });
  }
  return out;
}

/**
 * One forecast round: every watched series' trend judged at the clock's now; a projection that
 * crosses the threshold within the horizon fires, one that leaves it (or has too few points)
 * resolves. The round is complete: a forecast alert whose series it left out resolves too.
 */
export function judgeForecasts(store: EngineStore, inputs: readonly ForecastInput[], step: EngineStep): void {
  const now = store.clock.now();
  const byName = new Map(store.rules.filter(isForecast).map((r) => [r.name, r]));
  const seen = new Set<string>();
  const statuses: ForecastStatus[] = [];
  for (const input of inputs) {
    const rule = byName.get(input.rule);
    const check = store.checks.get(input.checkId);
    if (!rule || !check) continue;
    const labels = seriesLabels(checkLabels(check), { name: input.metric, labels: input.labels });
    if (!selects(rule, input.metric, labels)) continue;
    const fingerprint = ruleAlertFingerprint(rule.name, check.agentId, check.checkId, input.metric, input.labels);
    seen.add(fingerprint);
    const verdict = linearTrend(input.points, rule.windowMs, rule.threshold, now);
    const series = `${seriesName({ name: input.metric, labels: input.labels })} of ${labels.check} on ${labels.agent}`;
    const full = formatValue(rule.threshold, input.unit);
    let condition: Condition = 'inactive';
    let summary: string;
    let status: ForecastStatus['state'];
    let crossesAt: number | null = null;
    if (verdict.kind === 'insufficient') {
      status = 'insufficient';
      summary = `${series}: no forecast, ${verdict.why}`;
    } else {
      const rate = formatRate(verdict.slopePerMs, input.unit);
      crossesAt = verdict.crossesInMs === null ? null : now + verdict.crossesInMs;
      if (verdict.crossesInMs !== null && verdict.crossesInMs <= rule.horizonMs) {
        condition = 'firing';
        status = 'crossing';
        summary = `${series} is full (${full}) in about ${words(verdict.crossesInMs)} at ${rate}${rule.description ? `: ${rule.description}` : ''}`;
      } else {
        status = 'steady';
        summary =
          verdict.crossesInMs === null
            ? `${series} is not heading for ${full} (${rate})`
            : `${series} reaches ${full} only in about ${words(verdict.crossesInMs)} at ${rate}, beyond the ${words(rule.horizonMs)} horizon`;
      }
    }
    statuses.push({ rule: rule.name, checkId: check.checkId, agentId: check.agentId, series, state: status, why: summary, crossesAt, at: now });
    applyObservation(
      store,
      ruleObservation(store, rule, check, { name: input.metric, labels: input.labels }, labels, {
        summary,
        reason: FORECAST_REASON,
        value: verdict.kind === 'trend' ? verdict.valueNow : null,
      }),
      condition,
      now,
      step,
    );
  }
  for (const record of [...store.alerts.values()]) {
    if (record.reason !== FORECAST_REASON || record.state === 'resolved' || seen.has(record.fingerprint)) continue;
    applyObservation(store, { ...observationOf(record), summary: 'the series is no longer forecast (its rule or check changed)' }, 'inactive', now, step);
  }
  store.forecasts = statuses;
}
