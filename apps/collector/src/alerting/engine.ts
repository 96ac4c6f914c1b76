import { randomUUID } from 'node:crypto';
import type { CheckStatus, Clock } from '#rounds/common';
import {
  AlertNotFoundError,
  acknowledge,
  emptyStep,
  fingerprintOf,
  observe,
  reconcile,
  snapshot,
  unacknowledge,
  type AlertRecord,
  type AlertSnapshot,
  type Condition,
  type EngineStep,
  type MuteReason,
  type Observation,
  type Severity,
} from './alerts.js';
import {
  applyResult,
  initialCheckState,
  resolvePolicy,
  statusOf,
  type CheckPolicy,
  type CheckPolicyOverride,
  type CheckStateData,
} from './check-state.js';
import { isActive, windowsMuting, type MaintenanceWindow } from './maintenance.js';
import { matchesAll, type Labels } from './matchers.js';
import { compare, selects, type Rule } from './rules.js';
import { createSilence, silencesMuting, type Silence, type SilenceRequest } from './silences.js';

/** Reminders while firing, unless a rule or check says otherwise. */
export const DEFAULT_REPEAT_MS = 15 * 60_000;

/** Expired silences stay listed this long (for "recently expired"), then the engine drops them. */
export const SILENCE_RETENTION_MS = 7 * 86_400_000;

export const CHECK_ALERT = 'CheckStatus';
export const AGENT_ALERT = 'AgentUnreachable';

/** Labels the engine sets; a metric label with one of these names is kept as `exported_<name>`. */
const RESERVED_LABELS = new Set(['alertname', 'severity', 'agent', 'agent_id', 'check', 'check_id', 'plugin', 'metric']);

export interface MetricInput {
  name: string;
  value: number;
  unit?: string;
  labels?: Readonly<Record<string, string>>;
}

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
}

export interface AgentEvent {
  agentId: string;
  agentName?: string;
  /** Defaults to the clock's now. */
  at?: number;
  /** Why it is unreachable (the last poll error). */
  error?: string;
}

export interface AgentStateData {
  agentId: string;
  name: string | null;
  reachable: boolean;
  /** When it last became reachable or unreachable. */
  since: number | null;
  error: string | null;
}

/** The format of {@link AlertEngineState}; a saved state of another version is refused on load. */
export const ENGINE_STATE_VERSION = 1;

/** Everything the engine knows, as plain JSON: what a persistence layer stores and restores. */
export interface AlertEngineState {
  version: typeof ENGINE_STATE_VERSION;
  checks: CheckStateData[];
  /** Per-check overrides of the check policy, by check id. */
  checkPolicies: Record<string, CheckPolicyOverride>;
  agents: AgentStateData[];
  /** Pending, firing, and resolved alerts whose "resolved" has not been sent yet. */
  alerts: AlertRecord[];
  rules: Rule[];
  silences: Silence[];
  maintenance: MaintenanceWindow[];
}

export interface AlertEngineOptions {
  clock: Clock;
  /** Reminder interval while firing; default 15 minutes; 0: no reminders. */
  repeatMs?: number;
  /** Defaults for every check; see DEFAULT_CHECK_POLICY. */
  checkPolicy?: CheckPolicyOverride;
  rules?: readonly Rule[];
  /** Ids for silences created without one. */
  newId?: () => string;
}

export function checkAlertFingerprint(checkId: string): string {
  return fingerprintOf(['check', checkId]);
}

export function agentAlertFingerprint(agentId: string): string {
  return fingerprintOf(['agent', agentId]);
}

export function ruleAlertFingerprint(rule: string, agentId: string, checkId: string, metric: string, labels: Labels = {}): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return fingerprintOf(['rule', rule, agentId, checkId, metric, sorted]);
}

const CHECK_SEVERITY: Record<CheckStatus, Severity> = { OK: 'info', WARNING: 'warning', CRITICAL: 'critical', UNKNOWN: 'warning' };

/**
 * The state-and-alert engine: folds check results and agent reachability into check
 * states and alerts, and says which notifications are due. Pure and clock-driven: it does
 * no I/O and sets no timers; every call returns an {@link EngineStep} (notification intents
 * for an outbox, history lines) and the caller calls {@link tick} every few seconds so that
 * reminders, acknowledgement expiry and the end of silences and maintenance take effect.
 */
export class AlertEngine {
  private readonly clock: Clock;
  private readonly repeatMs: number;
  private readonly basePolicy: CheckPolicy;
  private readonly newId: () => string;
  private readonly checks = new Map<string, CheckStateData>();
  private readonly policies = new Map<string, CheckPolicyOverride>();
  private readonly agents = new Map<string, AgentStateData>();
  private readonly active = new Map<string, AlertRecord>();
  private ruleList: Rule[] = [];
  private silenceList: Silence[] = [];
  private windowList: MaintenanceWindow[] = [];

  constructor(options: AlertEngineOptions) {
    this.clock = options.clock;
    this.repeatMs = options.repeatMs ?? DEFAULT_REPEAT_MS;
    this.basePolicy = resolvePolicy(options.checkPolicy);
    this.newId = options.newId ?? randomUUID;
    this.ruleList = structuredClone([...(options.rules ?? [])]);
  }

  /** Restores an engine from {@link toJSON}'s output; the options' rules are ignored in favour of the state's. */
  static fromJSON(state: AlertEngineState, options: AlertEngineOptions): AlertEngine {
    if (state?.version !== ENGINE_STATE_VERSION) {
      throw new Error(
        `alert engine state version ${String(state?.version)} is not supported (expected ${ENGINE_STATE_VERSION}): it was written by another Rounds version`,
      );
    }
    const s = structuredClone(state);
    const engine = new AlertEngine({ ...options, rules: s.rules });
    for (const c of s.checks) engine.checks.set(c.checkId, c);
    for (const [id, p] of Object.entries(s.checkPolicies)) engine.policies.set(id, p);
    for (const a of s.agents) engine.agents.set(a.agentId, a);
    for (const a of s.alerts) engine.active.set(a.fingerprint, a);
    engine.silenceList = s.silences;
    engine.windowList = s.maintenance;
    return engine;
  }

  toJSON(): AlertEngineState {
    return structuredClone(this.state());
  }

  /**
   * toJSON() as text, without the deep copy: what is persisted after each change. With
   * 20,000 checks the state is ~8 MB and the copy alone took twice as long as the text.
   */
  serialize(): string {
    return JSON.stringify(this.state());
  }

  /** Restores an engine from {@link serialize}'s output. */
  static deserialize(text: string, options: AlertEngineOptions): AlertEngine {
    return AlertEngine.fromJSON(JSON.parse(text) as AlertEngineState, options);
  }

  /** The live state (not a copy): for serialising at once, never to hand out. */
  private state(): AlertEngineState {
    return {
      version: ENGINE_STATE_VERSION,
      checks: [...this.checks.values()],
      checkPolicies: Object.fromEntries(this.policies),
      agents: [...this.agents.values()],
      alerts: [...this.active.values()],
      rules: this.ruleList,
      silences: this.silenceList,
      maintenance: this.windowList,
    };
  }

  // ---- inputs ----------------------------------------------------------------------

  /** Folds check results (in the order given) into check states and alerts. */
  ingest(results: CheckResultInput | readonly CheckResultInput[]): EngineStep {
    const step = emptyStep();
    for (const result of Array.isArray(results) ? (results as readonly CheckResultInput[]) : [results as CheckResultInput]) {
      this.ingestOne(result, step);
    }
    return this.settle(step);
  }

  /** The agent stopped answering: one AgentUnreachable alert; its checks' alerts are muted meanwhile. */
  agentUnreachable(event: AgentEvent): EngineStep {
    const step = emptyStep();
    const at = event.at ?? this.clock.now();
    const agent = this.agent(event.agentId, event.agentName);
    if (agent.reachable || agent.since === null) {
      agent.reachable = false;
      agent.since = at;
    }
    agent.error = event.error ?? null;
    this.observeAgent(agent, 'firing', at, step);
    return this.settle(step);
  }

  agentReachable(event: AgentEvent): EngineStep {
    const step = emptyStep();
    const at = event.at ?? this.clock.now();
    const agent = this.agent(event.agentId, event.agentName);
    if (!agent.reachable || agent.since === null) {
      agent.reachable = true;
      agent.since = at;
    }
    agent.error = null;
    this.observeAgent(agent, 'inactive', at, step);
    return this.settle(step);
  }

  /** Lets time act: reminders, acknowledgements that expire, silences and windows that end. */
  tick(): EngineStep {
    const now = this.clock.now();
    this.silenceList = this.silenceList.filter((s) => s.endsAt + SILENCE_RETENTION_MS > now);
    return this.settle(emptyStep());
  }

  // ---- operator actions ------------------------------------------------------------

  /** Stops reminders (and a held "firing") until `expiresAt`, or until the alert resolves or changes severity. */
  acknowledge(fingerprint: string, ack: { by: string; comment: string; expiresAt?: number | null }): EngineStep {
    const step = emptyStep();
    acknowledge(this.mustFind(fingerprint), ack, this.clock.now(), step.history);
    return this.settle(step);
  }

  unacknowledge(fingerprint: string, by: string): EngineStep {
    const step = emptyStep();
    unacknowledge(this.mustFind(fingerprint), by, this.clock.now(), step.history);
    return this.settle(step);
  }

  addSilence(request: SilenceRequest): EngineStep & { silence: Silence } {
    const silence = createSilence(request, this.clock.now(), this.newId);
    this.silenceList = [...this.silenceList.filter((s) => s.id !== silence.id), silence];
    return { ...this.settle(emptyStep()), silence: structuredClone(silence) };
  }

  /** Ends a silence now; alerts it held back are notified if they are still firing. */
  expireSilence(id: string): EngineStep {
    const now = this.clock.now();
    const silence = this.silenceList.find((s) => s.id === id);
    if (!silence) throw new Error(`there is no silence ${id}: it may have expired and been removed — reload the list`);
    if (silence.endsAt > now) silence.endsAt = Math.max(now, silence.startsAt);
    return this.settle(emptyStep());
  }

  /** Adds a window, or replaces the one with the same id. */
  putMaintenanceWindow(window: MaintenanceWindow): EngineStep {
    this.windowList = [...this.windowList.filter((w) => w.id !== window.id), structuredClone(window)];
    return this.settle(emptyStep());
  }

  removeMaintenanceWindow(id: string): EngineStep {
    this.windowList = this.windowList.filter((w) => w.id !== id);
    return this.settle(emptyStep());
  }

  // ---- configuration ---------------------------------------------------------------

  /**
   * Replaces the rules. Alerts of a rule that is gone, or whose series it no longer selects
   * or whose last value no longer crosses its threshold, resolve now; the others take the
   * rule's new severity and repeat.
   */
  setRules(rules: readonly Rule[]): EngineStep {
    const step = emptyStep();
    const now = this.clock.now();
    this.ruleList = structuredClone([...rules]);
    const byName = new Map(this.ruleList.map((r) => [r.name, r]));
    for (const record of [...this.active.values()]) {
      if (record.source.type !== 'rule' || record.state === 'resolved') continue;
      const rule = byName.get(record.source.rule);
      const still = rule && selects(rule, record.source.metric, record.labels) && record.value !== null && compare(record.value, rule.op, rule.value);
      const obs: Observation = rule
        ? { ...this.observationOf(record), severity: rule.severity, labels: { ...record.labels, severity: rule.severity }, repeatMs: this.repeatOf(rule.repeatMs) }
        : this.observationOf(record);
      const condition: Condition = still ? (record.state === 'firing' ? 'firing' : 'pending') : 'inactive';
      if (!still) obs.summary = rule ? `rule ${record.source.rule} changed and no longer matches` : `rule ${record.source.rule} was removed`;
      this.put(record.fingerprint, observe(record, obs, condition, now, step.history));
    }
    return this.settle(step);
  }

  /** One check's overrides of the check policy, or null when it follows the defaults. */
  checkPolicyOverride(checkId: string): CheckPolicyOverride | null {
    const override = this.policies.get(checkId);
    return override === undefined ? null : structuredClone(override);
  }

  /** Sets (or with `null` clears) one check's overrides of the check policy. */
  setCheckPolicy(checkId: string, override: CheckPolicyOverride | null): void {
    if (override === null) this.policies.delete(checkId);
    else this.policies.set(checkId, structuredClone(override));
  }

  /** The check was deleted or disabled: its alerts resolve and its state is dropped. */
  forgetCheck(checkId: string): EngineStep {
    const step = emptyStep();
    this.dropCheck(checkId, step);
    return this.settle(step);
  }

  /** The agent was removed: its checks are forgotten and its unreachable alert resolves. */
  forgetAgent(agentId: string): EngineStep {
    const step = emptyStep();
    for (const c of [...this.checks.values()]) if (c.agentId === agentId) this.dropCheck(c.checkId, step);
    for (const record of [...this.active.values()]) {
      if (record.source.agentId === agentId && record.source.type !== 'agent') {
        this.put(record.fingerprint, observe(record, { ...this.observationOf(record), summary: 'agent removed' }, 'inactive', this.clock.now(), step.history));
      }
    }
    const agent = this.agents.get(agentId);
    if (agent) {
      this.observeAgent(agent, 'inactive', this.clock.now(), step, 'agent removed');
      this.agents.delete(agentId);
    }
    return this.settle(step);
  }

  // ---- queries ---------------------------------------------------------------------

  /** Pending and firing alerts, and resolved ones whose "resolved" is still to be sent; firing and most severe first. */
  alerts(): AlertSnapshot[] {
    const stateRank = { firing: 0, pending: 1, resolved: 2 } as const;
    const severityRank = { critical: 0, warning: 1, info: 2 } as const;
    return [...this.active.values()]
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
    const record = this.active.get(fingerprint);
    return record && snapshot(record);
  }

  /** Why this alert's notifications are held back right now (empty: they are not). */
  mutedBy(fingerprint: string): MuteReason[] {
    const record = this.mustFind(fingerprint);
    const reasons = this.muteReasons(record, this.clock.now());
    if (record.ack) reasons.push({ type: 'acknowledged', by: record.ack.by, expiresAt: record.ack.expiresAt });
    return reasons;
  }

  /** The agents the engine holds state for (a copy of the ids: forgetting one while iterating is safe). */
  knownAgentIds(): string[] {
    return [...this.agents.keys()];
  }

  /** The checks the engine holds state for, with their agents — without copying the whole state as toJSON() does. */
  knownChecks(): { checkId: string; agentId: string }[] {
    return [...this.checks.values()].map((c) => ({ checkId: c.checkId, agentId: c.agentId }));
  }

  checkState(checkId: string): Readonly<CheckStateData> | undefined {
    const c = this.checks.get(checkId);
    return c && structuredClone(c);
  }

  /** The policy a check is judged by: the engine's defaults with the check's overrides. */
  checkPolicy(checkId: string): CheckPolicy {
    return resolvePolicy(this.policies.get(checkId), this.basePolicy);
  }

  agentState(agentId: string): Readonly<AgentStateData> | undefined {
    const a = this.agents.get(agentId);
    return a && structuredClone(a);
  }

  rules(): Rule[] {
    return structuredClone(this.ruleList);
  }

  silences(): Silence[] {
    return structuredClone(this.silenceList);
  }

  maintenanceWindows(): MaintenanceWindow[] {
    return structuredClone(this.windowList);
  }

  // ---- internals -------------------------------------------------------------------

  private ingestOne(result: CheckResultInput, step: EngineStep): void {
    const state = this.checks.get(result.checkId) ?? initialCheckState(result.checkId, result.agentId);
    // Spooled results arrive in order; one older than what we have is a late duplicate.
    if (state.lastResultAt !== null && result.at < state.lastResultAt) return;
    this.checks.set(result.checkId, state);
    state.agentId = result.agentId;
    state.checkName = result.checkName ?? state.checkName;
    state.plugin = result.plugin ?? state.plugin;
    const agent = this.agent(result.agentId, result.agentName);
    state.agentName = agent.name;

    const policy = this.checkPolicy(result.checkId);
    const events = applyResult(state, { status: statusOf(result.status), reason: result.reason, summary: result.summary, at: result.at }, policy);

    const obs = this.checkObservation(state, policy);
    for (const e of events) {
      if (e.type === 'flapping_started' || e.type === 'flapping_stopped') {
        step.history.push({
          at: result.at,
          fingerprint: obs.fingerprint,
          name: obs.name,
          labels: { ...obs.labels },
          event: e.type,
          severity: this.active.get(obs.fingerprint)?.severity ?? null,
          detail: `${e.percentChange} % state change over the last ${policy.flap.window} results`,
        });
      }
    }
    const condition: Condition = state.hardStatus !== 'OK' ? 'firing' : state.status !== 'OK' ? 'pending' : 'inactive';
    this.put(obs.fingerprint, observe(this.active.get(obs.fingerprint), obs, condition, result.at, step.history));

    const base = this.baseLabels(state);
    for (const metric of result.metrics) {
      if (!Number.isFinite(metric.value)) continue;
      const labels = seriesLabels(base, metric);
      for (const rule of this.ruleList) {
        if (selects(rule, metric.name, labels)) this.evaluateRule(rule, state, metric, labels, result.at, step);
      }
    }
  }

  private evaluateRule(rule: Rule, check: CheckStateData, metric: MetricInput, labels: Labels, at: number, step: EngineStep): void {
    const fingerprint = ruleAlertFingerprint(rule.name, check.agentId, check.checkId, metric.name, metric.labels);
    const existing = this.active.get(fingerprint);
    let condition: Condition = 'inactive';
    if (compare(metric.value, rule.op, rule.value)) {
      const since = existing && existing.state !== 'resolved' ? existing.activeAt : at;
      condition = existing?.state === 'firing' || at - since >= rule.forMs ? 'firing' : 'pending';
    }
    const where = `${labels.check} on ${labels.agent}`;
    const obs: Observation = {
      fingerprint,
      name: rule.name,
      source: { type: 'rule', rule: rule.name, agentId: check.agentId, checkId: check.checkId, metric: metric.name },
      labels: { ...labels, alertname: rule.name, severity: rule.severity },
      severity: rule.severity,
      summary:
        condition === 'inactive'
          ? `${seriesName(metric)} of ${where} is ${metric.value}, no longer ${rule.op} ${rule.value}`
          : `${seriesName(metric)} of ${where} is ${metric.value} (${rule.op} ${rule.value}${rule.description ? `: ${rule.description}` : ''})`,
      reason: 'threshold',
      value: metric.value,
      status: null,
      repeatMs: this.repeatOf(rule.repeatMs),
    };
    this.put(fingerprint, observe(existing, obs, condition, at, step.history));
  }

  private checkObservation(state: CheckStateData, policy: CheckPolicy): Observation {
    const base = this.baseLabels(state);
    const failing = state.hardStatus !== 'OK' ? state.hardStatus : state.status;
    const severity = CHECK_SEVERITY[failing];
    const what = `${base.check} on ${base.agent}`;
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
      labels: { ...base, alertname: CHECK_ALERT, severity },
      severity,
      summary,
      reason: state.status === 'OK' ? state.reason : state.problemReason,
      value: null,
      status: failing,
      repeatMs: this.repeatOf(policy.repeatMs),
    };
  }

  private observeAgent(agent: AgentStateData, condition: Condition, at: number, step: EngineStep, detail?: string): void {
    const name = agent.name ?? agent.agentId;
    const obs: Observation = {
      fingerprint: agentAlertFingerprint(agent.agentId),
      name: AGENT_ALERT,
      source: { type: 'agent', agentId: agent.agentId },
      labels: { alertname: AGENT_ALERT, agent: name, agent_id: agent.agentId, severity: 'critical' },
      severity: 'critical',
      summary: detail ?? (condition === 'inactive' ? `agent ${name} answers again` : `agent ${name} is unreachable${agent.error ? `: ${agent.error}` : ''}`),
      reason: 'unreachable',
      value: null,
      status: null,
      repeatMs: this.repeatMs,
    };
    this.put(obs.fingerprint, observe(this.active.get(obs.fingerprint), obs, condition, at, step.history));
  }

  private dropCheck(checkId: string, step: EngineStep): void {
    const now = this.clock.now();
    this.checks.delete(checkId);
    this.policies.delete(checkId);
    for (const record of [...this.active.values()]) {
      if (record.source.type !== 'agent' && record.source.checkId === checkId) {
        this.put(record.fingerprint, observe(record, { ...this.observationOf(record), summary: 'check removed' }, 'inactive', now, step.history));
      }
    }
  }

  /** Sends what is due for every alert and forgets the ones that are done. */
  private settle(step: EngineStep): EngineStep {
    const now = this.clock.now();
    // Whether a window is open does not depend on the alert: work out the zone math once.
    const open = this.windowList.filter((w) => isActive(w, now));
    for (const record of [...this.active.values()]) {
      const muted = record.state === 'firing' ? this.muteReasons(record, now, open) : [];
      const keep = reconcile(record, now, muted, this.isFlapping(record), step);
      if (!keep) this.active.delete(record.fingerprint);
    }
    return step;
  }

  private muteReasons(record: AlertRecord, now: number, openWindows?: readonly MaintenanceWindow[]): MuteReason[] {
    const reasons: MuteReason[] = [];
    const windows = openWindows ? openWindows.filter((w) => matchesAll(w.matchers, record.labels)) : windowsMuting(this.windowList, record.labels, now);
    for (const w of windows) reasons.push({ type: 'maintenance', id: w.id, name: w.name });
    for (const s of silencesMuting(this.silenceList, record.labels, now)) {
      reasons.push({ type: 'silence', id: s.id, createdBy: s.createdBy, comment: s.comment });
    }
    if (this.isFlapping(record) && record.source.type === 'check') reasons.push({ type: 'flapping', checkId: record.source.checkId });
    if (record.source.type !== 'agent' && this.agents.get(record.source.agentId)?.reachable === false) {
      reasons.push({ type: 'agent_unreachable', agentId: record.source.agentId });
    }
    return reasons;
  }

  private isFlapping(record: AlertRecord): boolean {
    return record.source.type === 'check' && this.checks.get(record.source.checkId)?.flapping === true;
  }

  private put(fingerprint: string, record: AlertRecord | undefined): void {
    if (record) this.active.set(fingerprint, record);
    else this.active.delete(fingerprint);
  }

  private mustFind(fingerprint: string): AlertRecord {
    const record = this.active.get(fingerprint);
    if (!record) throw new AlertNotFoundError(fingerprint);
    return record;
  }

  private agent(agentId: string, name: string | undefined): AgentStateData {
    let agent = this.agents.get(agentId);
    if (!agent) {
      agent = { agentId, name: null, reachable: true, since: null, error: null };
      this.agents.set(agentId, agent);
    }
    if (name) agent.name = name;
    return agent;
  }

  private baseLabels(state: CheckStateData): Record<string, string> {
    const labels: Record<string, string> = {
      agent: state.agentName ?? state.agentId,
      agent_id: state.agentId,
      check: state.checkName ?? state.checkId,
      check_id: state.checkId,
    };
    if (state.plugin) labels.plugin = state.plugin;
    return labels;
  }

  private observationOf(record: AlertRecord): Observation {
    const { fingerprint, name, source, labels, severity, summary, reason, value, status, repeatMs } = record;
    return { fingerprint, name, source, labels, severity, summary, reason, value, status, repeatMs };
  }

  private repeatOf(override: number | null): number {
    return override ?? this.repeatMs;
  }
}

/** The check's labels plus the metric's own (renamed to `exported_<name>` where they clash) and `metric`. */
function seriesLabels(base: Labels, metric: MetricInput): Labels {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric.labels ?? {})) labels[RESERVED_LABELS.has(k) ? `exported_${k}` : k] = v;
  return { ...labels, ...base, metric: metric.name };
}

function seriesName(metric: MetricInput): string {
  const entries = Object.entries(metric.labels ?? {});
  return entries.length ? `${metric.name}{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}` : metric.name;
}
