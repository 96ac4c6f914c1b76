import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import type { AgentState, StatusCode } from '../storage/entities/index.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultsRepository } from '../polling/results.repository.js';
import type { StoredMetric } from '../polling/result-writer.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';

/** What the agent reported about itself in its last Collect answer (AgentHealth on the wire). */
export interface AgentHealthView {
  rssBytes?: number;
  cpuSeconds?: number;
  spoolDepth?: number;
  spoolBytes?: number;
  pluginErrors?: number;
  uptimeSeconds?: number;
}

export interface AgentRow {
  name: string;
  state: AgentState;
  lastSeenAt: number | null;
  consecutiveFailures: number;
  dropped: number;
  health: AgentHealthView | null;
}

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
  metrics: StoredMetric[];
}

export interface StateSnapshot {
  /** Epoch ms of the refresh that produced it. */
  takenAt: number;
  agents: AgentRow[];
  /** Enabled checks only, ordered by agent then check name. */
  checks: CheckRow[];
}

const MAX_REFRESH_MS = 5000;
const HEALTH_FIELDS = ['rssBytes', 'cpuSeconds', 'spoolDepth', 'spoolBytes', 'pluginErrors', 'uptimeSeconds'] as const;

/**
 * The current state of agents and checks for /metrics, refreshed from the agents, checks
 * and check_state tables every poll interval (at most every 5 s) by three queries, and
 * read by scrapes without touching the database: a scrape every second by several
 * Prometheus servers costs the database nothing extra.
 */
@Injectable()
export class StateCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('StateCache');
  private latest: StateSnapshot | null = null;
  private inFlight: Promise<StateSnapshot> | null = null;
  private timer: unknown;
  private stopped = false;
  /** Refreshes that failed (the previous snapshot stays in use). */
  refreshErrors = 0;
  /**
   * Parsed metrics by check, with the result they came from: between two refreshes most
   * checks have no new result, and parsing 20,000 JSON arrays every 5 s was most of a refresh.
   */
  private parsed = new Map<string, { at: number | null; seq: number; metrics: StoredMetric[] }>();

  constructor(
    private readonly agents: AgentsRepository,
    private readonly checks: ChecksRepository,
    private readonly results: ResultsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(COLLECTOR_CONFIG) private readonly config: Pick<CollectorConfig, 'pollIntervalMs'>,
  ) {}

  get refreshMs(): number {
    return Math.min(this.config.pollIntervalMs, MAX_REFRESH_MS);
  }

  onApplicationBootstrap(): void {
    this.tick();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  /** The latest snapshot; only the very first scrape (before any refresh finished) waits for the database. */
  async current(): Promise<StateSnapshot> {
    return this.latest ?? this.refresh();
  }

  /** Reads the tables once; concurrent callers share the same read. */
  refresh(): Promise<StateSnapshot> {
    this.inFlight ??= this.load()
      .then((snapshot) => (this.latest = snapshot))
      .finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private tick(): void {
    void this.refresh()
      .catch((e: unknown) => {
        this.refreshErrors += 1;
        this.log.warn(`cannot refresh the metrics state from the database: ${(e as Error).message} — /metrics serves the previous values`);
      })
      .finally(() => {
        if (!this.stopped) this.timer = this.clock.setTimeout(() => this.tick(), this.refreshMs);
      });
  }

  private async load(): Promise<StateSnapshot> {
    const takenAt = this.clock.now();
    const [agents, checks, states] = await Promise.all([this.agents.findAllLean(), this.checks.listSummaries(), this.results.stateFor()]);
    const agentName = new Map(agents.map((a) => [a.id, a.name]));
    const stateOf = new Map(states.map((s) => [s.checkId, s]));
    const rows: CheckRow[] = [];
    const parsed = new Map<string, { at: number | null; seq: number; metrics: StoredMetric[] }>();
    for (const c of checks) {
      const agent = agentName.get(c.agentId);
      if (!c.enabled || agent === undefined) continue;
      const s = stateOf.get(c.id);
      const hasResult = s !== undefined && s.lastResultAt !== null;
      let metrics: StoredMetric[] = [];
      if (hasResult) {
        const known = this.parsed.get(c.id);
        const fresh = known && known.at === s.lastResultAt && known.seq === s.lastSeq ? known : { at: s.lastResultAt, seq: s.lastSeq, metrics: parseMetrics(s.metricsJson) };
        parsed.set(c.id, fresh);
        metrics = fresh.metrics;
      }
      rows.push({
        agent,
        check: c.name,
        plugin: c.plugin,
        status: hasResult ? s.status : null,
        lastResultAt: s?.lastResultAt ?? null,
        lastOkAt: s?.lastOkAt ?? null,
        consecutiveFailures: s?.consecutiveFailures ?? 0,
        lastDurationMs: s?.lastDurationMs ?? null,
        metrics,
      });
    }
    this.parsed = parsed;
    rows.sort((a, b) => compare(a.agent, b.agent) || compare(a.check, b.check));
    return {
      takenAt,
      agents: agents
        .map((a) => ({
          name: a.name,
          state: a.state,
          lastSeenAt: a.lastSeenAt,
          consecutiveFailures: a.consecutiveFailures,
          dropped: a.dropped,
          health: parseHealth(a.healthJson),
        }))
        .sort((a, b) => compare(a.name, b.name)),
      checks: rows,
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseMetrics(json: string): StoredMetric[] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (m): m is StoredMetric =>
        typeof m === 'object' && m !== null && typeof m.name === 'string' && typeof m.value === 'number' && typeof m.unit === 'string',
    );
  } catch {
    return [];
  }
}

function parseHealth(json: string | null): AgentHealthView | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null) return null;
    const health: AgentHealthView = {};
    for (const field of HEALTH_FIELDS) {
      const v = (value as Record<string, unknown>)[field];
      if (typeof v === 'number' && Number.isFinite(v)) health[field] = v;
    }
    return health;
  } catch {
    return null;
  }
}
