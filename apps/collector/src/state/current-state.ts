import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { CollectorConfig } from '../config/env.js';
import type { StoredMetric } from '../polling/result-writer.js';
import type { AgentEntity, AgentState, CheckEntity, CheckStateEntity, StatusCode } from '../storage/entities/index.js';
import { PluginRegistry } from '#rounds/plugins';
import { COLLECTOR_CONFIG, PLUGIN_REGISTRY } from '../shared/tokens.js';
import { StateRepository, type StateRows } from './state.repository.js';
import { parseDescription, parseHealth, parseMetrics, type AgentHealthView, type Declarations } from './stored-json.js';
import { effectiveTags, parseTags, type Tags } from '../shared/tags.js';
import { resolveCheckRef } from '../inventory/check-ref.js';

export type { AgentHealthView, Declarations } from './stored-json.js';

/**
 * An agent in the read model: its row, its health parsed once per poll instead of once per
 * reader, and the metric declarations of the plugins it described (custom ones included).
 */
export interface AgentRecord {
  readonly agent: AgentEntity;
  health: AgentHealthView | null;
  declared: ReadonlyMap<string, Declarations>;
  /** Config schemas with secrets of the plugins it described (see ParsedDescription). */
  secretSchemas: ReadonlyMap<string, unknown>;
}

/** A check in the read model: its definition, its current state (null before the first result) and that state's metrics, parsed once. */
export interface CheckRecord {
  readonly check: CheckEntity;
  state: CheckStateEntity | null;
  metrics: StoredMetric[];
}

/**
 * Whether a check's latest result still says something about now. A result is stale when
 * its agent is not UP (the agent may have stopped measuring, or we stopped hearing) or when
 * no newer one arrived for two intervals and a poll: a green from yesterday is not a green.
 */
export interface Freshness {
  stale: boolean;
  /** ms since the latest result started; null before the first. */
  ageMs: number | null;
  agentState: AgentState;
}

/** Agent rows for /metrics, in name order. */
export interface AgentRow {
  name: string;
  state: AgentState;
  lastSeenAt: number | null;
  consecutiveFailures: number;
  dropped: number;
  health: AgentHealthView | null;
}

/** Enabled checks for /metrics, in agent then check name order. */
export interface CheckRow {
  agent: string;
  check: string;
  plugin: string;
  /** null until the first result arrives. */
  status: StatusCode | null;
  lastResultAt: number | null;
  lastOkAt: number | null;
  consecutiveFailures: number;
  lastDurationMs: number | null;
  intervalMs: number;
  agentState: AgentState;
  metrics: StoredMetric[];
  /** What the plugin declares it reports (as the agent described it, else the built-in's); null when unknown. */
  declared: Declarations | null;
}

/** An immutable view of the whole model at one version; readers that render all of it share one per version. */
export interface StateSnapshot {
  version: number;
  agents: AgentRow[];
  checks: CheckRow[];
}

/** A poll's news about an agent: its state, counters, health, what it described. */
export type AgentPatch = Partial<
  Pick<
    AgentEntity,
    | 'state'
    | 'lastSeenAt'
    | 'lastError'
    | 'consecutiveFailures'
    | 'ackSeq'
    | 'spoolEpoch'
    | 'agentAssignmentVersion'
    | 'dropped'
    | 'healthJson'
    | 'descriptionJson'
  >
>;

/** The agent fields only polls change (the description is written to the database before the read model hears of it). */
export const POLLED_FIELDS = [
  'state',
  'lastSeenAt',
  'lastError',
  'consecutiveFailures',
  'ackSeq',
  'spoolEpoch',
  'agentAssignmentVersion',
  'dropped',
  'healthJson',
] as const satisfies readonly (keyof AgentPatch)[];

/**
 * The one read model of current state: agents, checks, the checks' states and their latest
 * metrics, in memory. Loaded once at start; from then on fed by what changes it — the result
 * writer's commits ({@link statesCommitted}), the poller's agent transitions
 * ({@link agentPolled}), inventory changes ({@link refreshAgent}) — never by a timer re-reading
 * the database. /metrics, the status page and the API lists read it; every change bumps
 * {@link version}, so a reader can keep what it rendered until the next change.
 */
@Injectable()
export class CurrentState implements OnModuleInit {
  private readonly log = new Logger('CurrentState');
  private readonly agents = new Map<string, AgentRecord>();
  private readonly checks = new Map<string, CheckRecord>();
  private readonly checksOfAgent = new Map<string, Set<string>>();
  private memo: StateSnapshot | null = null;
  /** Bumped by every change; starts at 1 once loaded. */
  version = 0;
  /** Bumped when agents or checks are (re)read, not by polls or results: what derives from definitions alone (dependencies) follows it. */
  inventoryVersion = 0;
  private sortedChecks: { version: number; records: readonly CheckRecord[] } | null = null;

  constructor(
    private readonly repository: StateRepository,
    @Inject(COLLECTOR_CONFIG) private readonly config: Pick<CollectorConfig, 'pollIntervalMs'>,
    @Inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
  ) {}

  /** Built-in plugins' declarations by plugin, for agents that have not described theirs. */
  private readonly builtins = new Map<string, Declarations | null>();
  /** Declaration maps shared by the agents that describe the same plugin alike. */
  private readonly interned = new Map<string, Declarations>();

  async onModuleInit(): Promise<void> {
    const started = performance.now();
    this.replaceAll(await this.repository.loadAll());
    this.log.log(`read model loaded: ${this.agents.size} agents, ${this.checks.size} checks in ${Math.round(performance.now() - started)} ms`);
  }

  // ---- feeding --------------------------------------------------------------------

  replaceAll(rows: StateRows): void {
    this.agents.clear();
    this.checks.clear();
    this.checksOfAgent.clear();
    this.put(rows);
    this.changed();
  }

  /**
   * Re-reads one agent with its checks after its inventory changed; forgets it when it is gone.
   * What polls and commits brought in while the read was under way is newer than the read and
   * is kept: this process's poller is the only writer of those fields.
   */
  async refreshAgent(agentId: string): Promise<void> {
    const rows = await this.repository.loadAgent(agentId);
    const before = this.agents.get(agentId);
    if (before && rows.agents[0]) {
      const polled: AgentPatch = {};
      for (const field of POLLED_FIELDS) (polled as Record<string, unknown>)[field] = before.agent[field];
      Object.assign(rows.agents[0], polled);
    }
    const newer = new Map<string, CheckStateEntity>();
    for (const id of this.checksOfAgent.get(agentId) ?? []) {
      const state = this.checks.get(id)?.state;
      if (state) newer.set(id, state);
    }
    rows.states = rows.states.map((s) => {
      const mine = newer.get(s.checkId);
      return mine && (mine.lastResultAt ?? 0) > (s.lastResultAt ?? 0) ? mine : s;
    });
    for (const [id, state] of newer) if (!rows.states.some((s) => s.checkId === id)) rows.states.push(state);
    this.dropAgent(agentId);
    this.put(rows);
    this.changed();
  }

  /**
   * Brings the model in line with the agents table's ids and assignment versions (read by the
   * poller's agent sync anyway): agents added, removed or with checks changed by another
   * process (the CLI) are re-read. Changes made through this collector match already.
   */
  async reconcile(versions: readonly { id: string; assignmentVersion: string }[]): Promise<void> {
    const present = new Set<string>();
    for (const { id, assignmentVersion } of versions) {
      present.add(id);
      if (this.agents.get(id)?.agent.assignmentVersion !== assignmentVersion) await this.refreshAgent(id);
    }
    for (const id of [...this.agents.keys()]) {
      if (present.has(id)) continue;
      this.dropAgent(id);
      this.changed();
    }
  }

  /** A poll's outcome for the agent (UP with health and ack, or a failure count and error). */
  agentPolled(agentId: string, patch: AgentPatch): void {
    const record = this.agents.get(agentId);
    if (!record) return;
    Object.assign(record.agent, patch);
    if (patch.healthJson !== undefined) record.health = parseHealth(patch.healthJson);
    if (patch.descriptionJson !== undefined) this.described(record.agent, patch.descriptionJson, record);
    this.changed();
  }

  /** States committed by the result writer (already ordered: a late result never overwrites a newer state). */
  statesCommitted(states: readonly CheckStateEntity[]): void {
    if (states.length === 0) return;
    for (const s of states) {
      const record = this.checks.get(s.checkId);
      if (!record) continue;
      record.state = s;
      record.metrics = parseMetrics(s.metricsJson);
    }
    this.changed();
  }

  // ---- reading --------------------------------------------------------------------

  agent(id: string): AgentRecord | undefined {
    return this.agents.get(id);
  }

  /** By id, then by name (what a person types). */
  findAgent(idOrName: string): AgentRecord | undefined {
    const byId = this.agents.get(idOrName);
    if (byId) return byId;
    for (const record of this.agents.values()) if (record.agent.name === idOrName) return record;
    return undefined;
  }

  /** Every agent, in name order. */
  listAgents(): AgentRecord[] {
    return [...this.agents.values()].sort((a, b) => compare(a.agent.name, b.agent.name));
  }

  check(id: string): CheckRecord | undefined {
    return this.checks.get(id);
  }

  /** A check as a person names it (inventory/check-ref.ts), by id without a look at the rest. */
  findCheck(ref: string): CheckRecord {
    const byId = this.checks.get(ref);
    if (byId) return byId;
    const found = resolveCheckRef(
      ref,
      [...this.checks.values()].map((r) => r.check),
      [...this.agents.values()].map((r) => r.agent),
    );
    return this.checks.get(found.id)!;
  }

  /** Checks (of one agent, or all), in agent name then check name order. */
  listChecks(agentId?: string): CheckRecord[] {
    // Every check in order is what the pages ask for on each request: sorted once per version of the model.
    if (agentId === undefined) {
      if (this.sortedChecks?.version !== this.version) this.sortedChecks = { version: this.version, records: this.sortChecks([...this.checks.keys()]) };
      return [...this.sortedChecks.records];
    }
    return this.sortChecks([...(this.checksOfAgent.get(agentId) ?? [])]);
  }

  private sortChecks(ids: string[]): CheckRecord[] {
    const records = ids.map((id) => this.checks.get(id)!);
    return records.sort((a, b) => compare(this.agentName(a.check.agentId), this.agentName(b.check.agentId)) || compare(a.check.name, b.check.name));
  }

  agentIds(): Set<string> {
    return new Set(this.agents.keys());
  }

  enabledCheckIds(): Set<string> {
    const ids = new Set<string>();
    for (const [id, record] of this.checks) if (record.check.enabled) ids.add(id);
    return ids;
  }

  checkCount(agentId: string): number {
    return this.checksOfAgent.get(agentId)?.size ?? 0;
  }

  agentName(agentId: string): string {
    return this.agents.get(agentId)?.agent.name ?? agentId;
  }

  /**
   * A check's tags: its agent's with its own over them (shared/tags.ts). Asked for every result the
   * alerting engine takes: parsed again only when either JSON text changed.
   */
  tagsOf(check: CheckEntity): Tags {
    const agent = this.agents.get(check.agentId)?.agent.tagsJson;
    const seen = this.tagsMemo.get(check.id);
    if (seen && seen.agent === agent && seen.own === check.tagsJson) return seen.tags;
    const tags = effectiveTags(parseTags(agent), parseTags(check.tagsJson));
    this.tagsMemo.set(check.id, { agent, own: check.tagsJson, tags });
    return tags;
  }

  private readonly tagsMemo = new Map<string, { agent: string | undefined; own: string; tags: Tags }>();

  freshness(record: CheckRecord, now: number): Freshness {
    const agentState = this.agents.get(record.check.agentId)?.agent.state ?? 'UNKNOWN';
    return freshness(record.state?.lastResultAt ?? null, record.check.intervalMs, agentState, this.config.pollIntervalMs, now);
  }

  /** Stale enabled checks of the snapshot's rows at `now` (see {@link Freshness}). */
  isStale(row: CheckRow, now: number): boolean {
    return freshness(row.lastResultAt, row.intervalMs, row.agentState, this.config.pollIntervalMs, now).stale;
  }

  /** The whole model as rows, built once per version (every /metrics scrape between two changes shares it). */
  snapshot(): StateSnapshot {
    if (this.memo?.version === this.version) return this.memo;
    const agents: AgentRow[] = this.listAgents().map(({ agent, health }) => ({
      name: agent.name,
      state: agent.state,
      lastSeenAt: agent.lastSeenAt,
      consecutiveFailures: agent.consecutiveFailures,
      dropped: agent.dropped,
      health,
    }));
    const checks: CheckRow[] = [];
    for (const { check, state, metrics } of this.listChecks()) {
      const declared = this.agents.get(check.agentId)?.declared.get(check.plugin) ?? this.builtin(check.plugin);
      if (!check.enabled || !this.agents.has(check.agentId)) continue;
      const hasResult = state !== null && state.lastResultAt !== null;
      checks.push({
        agent: this.agentName(check.agentId),
        check: check.name,
        plugin: check.plugin,
        status: hasResult ? state.status : null,
        lastResultAt: state?.lastResultAt ?? null,
        lastOkAt: state?.lastOkAt ?? null,
        consecutiveFailures: state?.consecutiveFailures ?? 0,
        lastDurationMs: state?.lastDurationMs ?? null,
        intervalMs: check.intervalMs,
        agentState: this.agents.get(check.agentId)!.agent.state,
        metrics: hasResult ? metrics : [],
        declared,
      });
    }
    this.memo = { version: this.version, agents, checks };
    return this.memo;
  }

  // ---- internals ------------------------------------------------------------------

  private put({ agents, checks, states }: StateRows): void {
    this.inventoryVersion += 1;
    for (const agent of agents) {
      const record: AgentRecord = { agent, health: parseHealth(agent.healthJson), declared: new Map(), secretSchemas: new Map() };
      this.described(agent, agent.descriptionJson, record);
      this.agents.set(agent.id, record);
      if (!this.checksOfAgent.has(agent.id)) this.checksOfAgent.set(agent.id, new Set());
    }
    const stateOf = new Map(states.map((s) => [s.checkId, s]));
    for (const check of checks) {
      const state = stateOf.get(check.id) ?? null;
      this.checks.set(check.id, { check, state, metrics: state ? parseMetrics(state.metricsJson) : [] });
      let ids = this.checksOfAgent.get(check.agentId);
      if (!ids) this.checksOfAgent.set(check.agentId, (ids = new Set()));
      ids.add(check.id);
    }
  }

  /** Keeps an agent's Describe answer compact, its declarations parsed (see {@link ParsedDescription}). */
  private described(agent: AgentEntity, descriptionJson: string | null, record: AgentRecord): void {
    const parsed = parseDescription(descriptionJson, this.interned);
    agent.descriptionJson = parsed.compactJson;
    record.declared = parsed.declared;
    record.secretSchemas = parsed.secretSchemas;
  }

  /** The config schema of a plugin with secrets as `agentId` described it (custom plugins); undefined when it has none. */
  secretSchema(agentId: string, plugin: string): unknown {
    return this.agents.get(agentId)?.secretSchemas.get(plugin);
  }

  private builtin(plugin: string): Declarations | null {
    let declared = this.builtins.get(plugin);
    if (declared === undefined) {
      const list = this.registry.metricDeclarations(plugin);
      declared = list ? new Map(list.map((d) => [d.name, d])) : null;
      this.builtins.set(plugin, declared);
    }
    return declared;
  }

  private dropAgent(agentId: string): void {
    this.inventoryVersion += 1;
    for (const id of this.checksOfAgent.get(agentId) ?? []) {
      this.checks.delete(id);
      this.tagsMemo.delete(id);
    }
    this.checksOfAgent.delete(agentId);
    this.agents.delete(agentId);
  }

  private changed(): void {
    this.version += 1;
  }
}

function freshness(lastResultAt: number | null, intervalMs: number, agentState: AgentState, pollIntervalMs: number, now: number): Freshness {
  const ageMs = lastResultAt === null ? null : Math.max(0, now - lastResultAt);
  const overdue = ageMs !== null && ageMs > 2 * intervalMs + pollIntervalMs;
  return { stale: ageMs !== null && (agentState !== 'UP' || overdue), ageMs, agentState };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
