import { acknowledge, emptyStep, snapshot, unacknowledge, type AlertSnapshot, type EngineStep, type MuteReason } from './alerts.js';
import { type CheckPolicy, type CheckPolicyOverride, type CheckStateData } from './check-state.js';
import { removeAgent, setReachable, type AgentEvent } from './engine-agents.js';
import { dependencyMutes, type Dependencies, type DependencyRef } from './engine-dependencies.js';
import { dropCheck, ingestResult, type CheckResultInput } from './engine-checks.js';
import { muteReasons, settle } from './engine-lifecycle.js';
import { rejudgeRuleAlerts } from './engine-rules.js';
import { forecastTargets, judgeForecasts, type ForecastInput, type ForecastStatus, type SeriesRef } from './engine-forecasts.js';
import { EngineStore, type AgentStateData, type AlertEngineOptions, type AlertEngineState } from './engine-state.js';
import type { MaintenanceWindow } from './maintenance.js';
import type { Rule } from './rules.js';
import { createSilence, type Silence, type SilenceRequest } from './silences.js';

// The engine's public face: its parts' inputs, state types and fingerprints are imported from here.
export { AGENT_ALERT, agentAlertFingerprint, type AgentEvent } from './engine-agents.js';
export { findCycle, nodeKey, type Dependencies, type DependencyRef, type NamedRef, type ParentVerdict } from './engine-dependencies.js';
export { CHECK_ALERT, checkAlertFingerprint, type CheckResultInput } from './engine-checks.js';
export { FORECAST_REASON, ruleAlertFingerprint, type MetricInput } from './engine-rules.js';
export { type ForecastInput, type ForecastStatus, type SeriesRef } from './engine-forecasts.js';
export { DEFAULT_REPEAT_MS, ENGINE_STATE_VERSION, type AgentStateData, type AlertEngineOptions, type AlertEngineState } from './engine-state.js';

/** Expired silences stay listed this long (for "recently expired"), then the engine drops them. */
export const SILENCE_RETENTION_MS = 7 * 86_400_000;

/**
 * The state-and-alert engine: folds check results and agent reachability into check
 * states and alerts, and says which notifications are due. Pure and clock-driven: it does
 * no I/O and sets no timers; every call returns an {@link EngineStep} (notification intents
 * for an outbox, history lines) and the caller calls {@link tick} every few seconds so that
 * reminders, acknowledgement expiry and the end of silences and maintenance take effect.
 */
export class AlertEngine {
  private readonly store: EngineStore;

  constructor(options: AlertEngineOptions) {
    this.store = new EngineStore(options);
  }

  /** Restores an engine from {@link toJSON}'s output; the options' rules are ignored in favour of the state's. */
  static fromJSON(state: AlertEngineState, options: AlertEngineOptions): AlertEngine {
    const engine = new AlertEngine({ ...options, rules: [] });
    engine.store.load(state);
    return engine;
  }

  toJSON(): AlertEngineState {
    return structuredClone(this.store.live());
  }

  /**
   * toJSON() as text, without the deep copy: what is persisted after each change. With
   * 20,000 checks the state is ~8 MB and the copy alone took twice as long as the text.
   */
  serialize(): string {
    return JSON.stringify(this.store.live());
  }

  /** Restores an engine from {@link serialize}'s output. */
  static deserialize(text: string, options: AlertEngineOptions): AlertEngine {
    return AlertEngine.fromJSON(JSON.parse(text) as AlertEngineState, options);
  }

  // ---- inputs ----------------------------------------------------------------------

  /** Folds check results (in the order given) into check states and alerts. */
  ingest(results: CheckResultInput | readonly CheckResultInput[]): EngineStep {
    const step = emptyStep();
    for (const result of Array.isArray(results) ? (results as readonly CheckResultInput[]) : [results as CheckResultInput]) {
      ingestResult(this.store, result, step);
    }
    return settle(this.store, step);
  }

  /** The agent stopped answering: one AgentUnreachable alert; its checks' alerts are muted meanwhile. */
  agentUnreachable(event: AgentEvent): EngineStep {
    const step = emptyStep();
    setReachable(this.store, event, false, step);
    return settle(this.store, step);
  }

  agentReachable(event: AgentEvent): EngineStep {
    const step = emptyStep();
    setReachable(this.store, event, true, step);
    return settle(this.store, step);
  }

  /** Lets time act: reminders, acknowledgements that expire, silences and windows that end. */
  tick(): EngineStep {
    const now = this.store.clock.now();
    this.store.silences = this.store.silences.filter((s) => s.endsAt + SILENCE_RETENTION_MS > now);
    return settle(this.store, emptyStep());
  }

  /**
   * One forecast round (the owner runs one every minute or so, with each watched series' recent
   * points): trends that reach their rule's threshold within its horizon fire, the others
   * resolve, and so do forecast alerts of series the round left out.
   */
  judgeForecasts(inputs: readonly ForecastInput[]): EngineStep {
    const step = emptyStep();
    judgeForecasts(this.store, inputs, step);
    return settle(this.store, step);
  }

  /** The forecast rules' series among these, each with the rule that watches it: what a round needs points of. */
  forecastTargets<S extends SeriesRef>(series: readonly S[]): { rule: string; windowMs: number; series: S }[] {
    return forecastTargets(this.store, series).map(({ rule, series: s }) => ({ rule: rule.name, windowMs: rule.windowMs, series: s }));
  }

  /** What the last forecast round said per rule and series, "not enough points" included. */
  forecasts(): ForecastStatus[] {
    return structuredClone(this.store.forecasts);
  }

  // ---- operator actions ------------------------------------------------------------

  /** Stops reminders (and a held "firing") until `expiresAt`, or until the alert resolves or changes severity. */
  acknowledge(fingerprint: string, ack: { by: string; comment: string; expiresAt?: number | null }): EngineStep {
    const step = emptyStep();
    acknowledge(this.store.mustFind(fingerprint), ack, this.store.clock.now(), step.history);
    return settle(this.store, step);
  }

  unacknowledge(fingerprint: string, by: string): EngineStep {
    const step = emptyStep();
    unacknowledge(this.store.mustFind(fingerprint), by, this.store.clock.now(), step.history);
    return settle(this.store, step);
  }

  addSilence(request: SilenceRequest): EngineStep & { silence: Silence } {
    const silence = createSilence(request, this.store.clock.now(), this.store.newId);
    this.store.silences = [...this.store.silences.filter((s) => s.id !== silence.id), silence];
    return { ...settle(this.store, emptyStep()), silence: structuredClone(silence) };
  }

  /** Ends a silence now; alerts it held back are notified if they are still firing. */
  expireSilence(id: string): EngineStep {
    const now = this.store.clock.now();
    const silence = this.store.silences.find((s) => s.id === id);
    if (!silence) throw new Error(`there is no silence ${id}: it may have expired and been removed — reload the list`);
    if (silence.endsAt > now) silence.endsAt = Math.max(now, silence.startsAt);
    return settle(this.store, emptyStep());
  }

  /** Adds a window, or replaces the one with the same id. */
  putMaintenanceWindow(window: MaintenanceWindow): EngineStep {
    this.store.maintenance = [...this.store.maintenance.filter((w) => w.id !== window.id), structuredClone(window)];
    return settle(this.store, emptyStep());
  }

  removeMaintenanceWindow(id: string): EngineStep {
    this.store.maintenance = this.store.maintenance.filter((w) => w.id !== id);
    return settle(this.store, emptyStep());
  }

  // ---- configuration ---------------------------------------------------------------

  /**
   * Replaces the rules. Alerts of a rule that is gone, or whose series it no longer selects
   * or whose last value no longer crosses its threshold, resolve now; the others take the
   * rule's new severity and repeat.
   */
  setRules(rules: readonly Rule[]): EngineStep {
    const step = emptyStep();
    this.store.rules = structuredClone([...rules]);
    rejudgeRuleAlerts(this.store, step);
    return settle(this.store, step);
  }

  /**
   * Replaces every check's and agent's parents (by `check:<id>` / `agent:<id>`). Not part of
   * {@link toJSON}: the inventory is their source, and its owner sets them again after a restore.
   * Alerts that a parent no longer holds back are announced now if they still fire.
   */
  setDependencies(dependencies: Dependencies): EngineStep {
    this.store.dependencies = new Map([...dependencies].map(([k, v]) => [k, v.map((r) => ({ ...r }))]));
    return settle(this.store, emptyStep());
  }

  /**
   * What holds a check's or agent's new alerts back now, from what it depends on (its agent
   * included): what the check and alert views show as "suppressed by …".
   */
  suppressedBy(node: DependencyRef): MuteReason[] {
    const agentId = node.kind === 'check' ? (this.store.checks.get(node.id)?.agentId ?? null) : null;
    return dependencyMutes(this.store, node, agentId);
  }

  /** One check's overrides of the check policy, or null when it follows the defaults. */
  checkPolicyOverride(checkId: string): CheckPolicyOverride | null {
    const override = this.store.checkPolicies.get(checkId);
    return override === undefined ? null : structuredClone(override);
  }

  /** Sets (or with `null` clears) one check's overrides of the check policy. */
  setCheckPolicy(checkId: string, override: CheckPolicyOverride | null): void {
    if (override === null) this.store.checkPolicies.delete(checkId);
    else this.store.checkPolicies.set(checkId, structuredClone(override));
  }

  /** The check was deleted or disabled: its alerts resolve and its state is dropped. */
  forgetCheck(checkId: string): EngineStep {
    const step = emptyStep();
    dropCheck(this.store, checkId, step);
    return settle(this.store, step);
  }

  /** The agent was removed: its checks are forgotten and its unreachable alert resolves. */
  forgetAgent(agentId: string): EngineStep {
    const step = emptyStep();
    removeAgent(this.store, agentId, step);
    return settle(this.store, step);
  }

  // ---- queries ---------------------------------------------------------------------

  /** Pending and firing alerts, and resolved ones whose "resolved" is still to be sent; firing and most severe first. */
  alerts(): AlertSnapshot[] {
    const stateRank = { firing: 0, pending: 1, resolved: 2 } as const;
    const severityRank = { critical: 0, warning: 1, info: 2 } as const;
    return [...this.store.alerts.values()]
      .sort(
        (a, b) =>
          stateRank[a.state] - stateRank[b.state] ||
          severityRank[a.severity] - severityRank[b.severity] ||
          a.activeAt - b.activeAt ||
          (a.fingerprint < b.fingerprint ? -1 : 1),
      )
      .map(snapshot);
  }

  alert(fingerprint: string): AlertSnapshot | undefined {
    const record = this.store.alerts.get(fingerprint);
    return record && snapshot(record);
  }

  /** Why this alert's notifications are held back right now (empty: they are not). */
  mutedBy(fingerprint: string): MuteReason[] {
    const record = this.store.mustFind(fingerprint);
    const reasons = muteReasons(this.store, record, this.store.clock.now());
    if (record.ack) reasons.push({ type: 'acknowledged', by: record.ack.by, expiresAt: record.ack.expiresAt });
    return reasons;
  }

  /** The agents the engine holds state for (a copy of the ids: forgetting one while iterating is safe). */
  knownAgentIds(): string[] {
    return [...this.store.agents.keys()];
  }

  /** The checks the engine holds state for, with their agents — without copying the whole state as toJSON() does. */
  knownChecks(): { checkId: string; agentId: string }[] {
    return [...this.store.checks.values()].map((c) => ({ checkId: c.checkId, agentId: c.agentId }));
  }

  checkState(checkId: string): Readonly<CheckStateData> | undefined {
    const c = this.store.checks.get(checkId);
    return c && structuredClone(c);
  }

  /** The policy a check is judged by: the engine's defaults with the check's overrides. */
  checkPolicy(checkId: string): CheckPolicy {
    return this.store.checkPolicy(checkId);
  }

  agentState(agentId: string): Readonly<AgentStateData> | undefined {
    const a = this.store.agents.get(agentId);
    return a && structuredClone(a);
  }

  rules(): Rule[] {
    return structuredClone(this.store.rules);
  }

  silences(): Silence[] {
    return structuredClone(this.store.silences);
  }

  maintenanceWindows(): MaintenanceWindow[] {
    return structuredClone(this.store.maintenance);
  }
}
