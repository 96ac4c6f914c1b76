import { randomUUID } from 'node:crypto';
import type { Clock } from '#rounds/common';
import { AlertNotFoundError, type AlertRecord } from './alerts.js';
import { resolvePolicy, type CheckPolicy, type CheckPolicyOverride, type CheckStateData } from './check-state.js';
import type { Dependencies } from './engine-dependencies.js';
import type { ForecastStatus } from './engine-forecasts.js';
import type { MaintenanceWindow } from './maintenance.js';
import type { Rule } from './rules.js';
import type { Silence } from './silences.js';

/** Reminders while firing, unless a rule or check says otherwise. */
export const DEFAULT_REPEAT_MS = 15 * 60_000;

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

/**
 * What an `AlertEngine` holds in memory, shared by the engine's parts (check ingestion, rule
 * alerts, agent reachability, the alert lifecycle). Its fields carry the names of their
 * {@link AlertEngineState} counterparts, so that state and saved state read alike.
 */
export class EngineStore {
  readonly clock: Clock;
  readonly repeatMs: number;
  readonly basePolicy: CheckPolicy;
  readonly newId: () => string;
  readonly checks = new Map<string, CheckStateData>();
  readonly checkPolicies = new Map<string, CheckPolicyOverride>();
  readonly agents = new Map<string, AgentStateData>();
  /** By fingerprint. */
  readonly alerts = new Map<string, AlertRecord>();
  rules: Rule[];
  /** Set by the owner from the inventory (not saved with the state: the inventory is its source). */
  dependencies: Dependencies = new Map();
  /** What the last forecast round said per rule and series (not saved: the next round says it again). */
  forecasts: ForecastStatus[] = [];
  silences: Silence[] = [];
  maintenance: MaintenanceWindow[] = [];

  constructor(options: AlertEngineOptions) {
    this.clock = options.clock;
    this.repeatMs = options.repeatMs ?? DEFAULT_REPEAT_MS;
    this.basePolicy = resolvePolicy(options.checkPolicy);
    this.newId = options.newId ?? randomUUID;
    this.rules = structuredClone([...(options.rules ?? [])]);
  }

  /** Takes over a saved state, rules included; the state is copied, so the caller keeps its own. */
  load(saved: AlertEngineState): void {
    if (saved?.version !== ENGINE_STATE_VERSION) {
      throw new Error(
        `alert engine state version ${String(saved?.version)} is not supported (expected ${String(ENGINE_STATE_VERSION)}): it was written by another Rounds version`,
      );
    }
    const s = structuredClone(saved);
    for (const c of s.checks) this.checks.set(c.checkId, c);
    for (const [id, p] of Object.entries(s.checkPolicies)) this.checkPolicies.set(id, p);
    for (const a of s.agents) this.agents.set(a.agentId, a);
    for (const a of s.alerts) this.alerts.set(a.fingerprint, a);
    this.rules = s.rules;
    this.silences = s.silences;
    this.maintenance = s.maintenance;
  }

  /** The live state (not a copy): for serialising at once, never to hand out. */
  live(): AlertEngineState {
    return {
      version: ENGINE_STATE_VERSION,
      checks: [...this.checks.values()],
      checkPolicies: Object.fromEntries(this.checkPolicies),
      agents: [...this.agents.values()],
      alerts: [...this.alerts.values()],
      rules: this.rules,
      silences: this.silences,
      maintenance: this.maintenance,
    };
  }

  /** The policy a check is judged by: the engine's defaults with the check's overrides. */
  checkPolicy(checkId: string): CheckPolicy {
    return resolvePolicy(this.checkPolicies.get(checkId), this.basePolicy);
  }

  /** A rule's or check's reminder interval, or the engine's where it has none. */
  repeatOf(override: number | null): number {
    return override ?? this.repeatMs;
  }

  /** An agent's entry, made on first sight (a result or a reachability event); `name` renames it. */
  agent(agentId: string, name: string | undefined): AgentStateData {
    let agent = this.agents.get(agentId);
    if (!agent) {
      agent = { agentId, name: null, reachable: true, since: null, error: null };
      this.agents.set(agentId, agent);
    }
    if (name) agent.name = name;
    return agent;
  }

  mustFind(fingerprint: string): AlertRecord {
    const record = this.alerts.get(fingerprint);
    if (!record) throw new AlertNotFoundError(fingerprint);
    return record;
  }
}
