import type { CheckStatus } from '#rounds/common';
import { fingerprintOf, type Condition, type EngineStep, type Observation, type Severity } from './alerts.js';
import { applyResult, initialCheckState, statusOf, type CheckPolicy, type CheckStateData } from './check-state.js';
import { applyObservation, endAlerts } from './engine-lifecycle.js';
import { evaluateSamples, type MetricInput } from './engine-rules.js';
import type { EngineStore } from './engine-state.js';

export const CHECK_ALERT = 'CheckStatus';

/** One stored check result, as the poller hands it over. */
export interface CheckResultInput {
  agentId: string;
  checkId: string;
  /** CheckStatus or the stored number: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
  status: CheckStatus | number;
  reason: string;
  summary: string;
  metrics: readonly MetricInput[];
  /** When the check ran (epoch ms). */
  at: number;
  /** Display names for labels and summaries; the ids are used where they are missing. */
  agentName?: string;
  checkName?: string;
  plugin?: string;
  /** The check's tags with its agent's: labels of its alerts. */
  tags?: Record<string, string>;
}

export function checkAlertFingerprint(checkId: string): string {
  return fingerprintOf(['check', checkId]);
}

const CHECK_SEVERITY: Record<CheckStatus, Severity> = { OK: 'info', WARNING: 'warning', CRITICAL: 'critical', UNKNOWN: 'warning' };

/** Folds one result into its check's state and alert, then judges its samples by the rules. */
export function ingestResult(store: EngineStore, result: CheckResultInput, step: EngineStep): void {
  const state = store.checks.get(result.checkId) ?? initialCheckState(result.checkId, result.agentId);
  // Spooled results arrive in order; one older than what we have is a late duplicate.
  if (state.lastResultAt !== null && result.at < state.lastResultAt) return;
  store.checks.set(result.checkId, state);
  state.agentId = result.agentId;
  state.checkName = result.checkName ?? state.checkName;
  state.plugin = result.plugin ?? state.plugin;
  if (result.tags) state.tags = result.tags;
  state.agentName = store.agent(result.agentId, result.agentName).name;

  const policy = store.checkPolicy(result.checkId);
  const events = applyResult(state, { status: statusOf(result.status), reason: result.reason, summary: result.summary, at: result.at }, policy);

  const obs = checkObservation(store, state, policy);
  for (const e of events) {
    if (e.type === 'flapping_started' || e.type === 'flapping_stopped') {
      step.history.push({
        at: result.at,
        fingerprint: obs.fingerprint,
        name: obs.name,
        labels: { ...obs.labels },
        event: e.type,
        severity: store.alerts.get(obs.fingerprint)?.severity ?? null,
        detail: `${e.percentChange} % state change over the last ${policy.flap.window} results`,
      });
    }
  }
  const condition: Condition = state.hardStatus !== 'OK' ? 'firing' : state.status !== 'OK' ? 'pending' : 'inactive';
  applyObservation(store, obs, condition, result.at, step);

  evaluateSamples(store, state, checkLabels(state), result.metrics, result.at, step);
}

/** The check was deleted or disabled (or its agent removed): its alerts resolve and its state is dropped. */
export function dropCheck(store: EngineStore, checkId: string, step: EngineStep): void {
  store.checks.delete(checkId);
  store.checkPolicies.delete(checkId);
  endAlerts(store, (record) => record.source.type !== 'agent' && record.source.checkId === checkId, 'check removed', step);
}

function checkObservation(store: EngineStore, state: CheckStateData, policy: CheckPolicy): Observation {
  const labels = checkLabels(state);
  const failing = state.hardStatus !== 'OK' ? state.hardStatus : state.status;
  const severity = CHECK_SEVERITY[failing];
  const what = `${labels.check} on ${labels.agent}`;
  let summary: string;
  if (state.hardStatus !== 'OK' && state.status === 'OK') {
    summary = `${what} is ${state.hardStatus}, recovering (${state.successes}/${policy.successesBeforeRecovery} OK): ${state.problemSummary}`;
  } else if (state.hardStatus !== 'OK') {
    summary = `${what} is ${state.hardStatus}: ${state.problemSummary}`;
  } else if (state.status !== 'OK') {
    summary = `${what} is ${state.status} (soft, ${state.failures}/${policy.failuresBeforeHard}): ${state.problemSummary}`;
  } else {
    summary = `${what} is OK: ${state.summary}`;
  }
  return {
    fingerprint: checkAlertFingerprint(state.checkId),
    name: CHECK_ALERT,
    source: { type: 'check', agentId: state.agentId, checkId: state.checkId },
    labels: { ...labels, alertname: CHECK_ALERT, severity },
    severity,
    summary,
    reason: state.status === 'OK' ? state.reason : state.problemReason,
    value: null,
    status: failing,
    repeatMs: store.repeatOf(policy.repeatMs),
  };
}

/**
 * The labels every alert about this check carries, its rule alerts included (and what maintenance
 * windows match): its tags (`site="north"`), then the built-in labels, which a tag of the same
 * name does not override.
 */
export function checkLabels(state: Pick<CheckStateData, 'checkId' | 'agentId' | 'checkName' | 'agentName' | 'plugin' | 'tags'>): Record<string, string> {
  const labels: Record<string, string> = {
    ...state.tags,
    agent: state.agentName ?? state.agentId,
    agent_id: state.agentId,
    check: state.checkName ?? state.checkId,
    check_id: state.checkId,
  };
  if (state.plugin) labels.plugin = state.plugin;
  return labels;
}
