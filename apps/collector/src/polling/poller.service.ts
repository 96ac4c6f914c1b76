import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { Scheduler, boundResult, nextOnCadence, type BoundedField, type Clock } from '#rounds/common';
import type { CheckSpec, CollectResponse } from '#rounds/common/wire';
import type { AgentEntity, StatusCode } from '../storage/entities/index.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { AgentCallError, AgentClientPool } from '../inventory/agent-client.pool.js';
import { ResultWriter, type StoredResult } from './result-writer.js';
import { storageFault } from '../storage/storage-fault.js';
import type { CollectorConfig } from '../config/env.js';
import { endpointOf } from '../inventory/agents.service.js';
import { CurrentState } from '../state/current-state.js';
import { CLOCK, COLLECTOR_CONFIG, POLL_EVENTS, POLL_OBSERVER } from '../shared/tokens.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import { LeaseLostError, type LeaseClaim } from '../cluster/lease-fence.js';

/** How often the poller looks for agents added or removed (by the API, the CLI or another process). */
const AGENT_SYNC_MS = 5000;

/** First contact (TLS probe, channel, Describe) costs far more than a poll: space first polls this far apart. */
const FIRST_POLL_SPACING_MS = 20;

/**
 * A poll interval's share that agents taken over from another collector may be spread over, at
 * most: a takeover must poll them within two poll intervals of the old holder's death, and with
 * the default lease timing (ttl one interval, renewed every half) the lease took up to 1.5
 * intervals of that. A few agents start at once (FIRST_POLL_SPACING_MS apart), thousands over
 * half an interval.
 */
const TAKEOVER_SPREAD_SHARE = 0.5;

export interface PollStats {
  polls: number;
  pollErrors: Record<string, number>;
  lastLagMs: number;
  maxLagMs: number;
  resultsReceived: number;
}

/** What the poller tells the metrics (timings the counters in {@link PollStats} cannot give). */
export interface PollObserver {
  /** One poll ended after `seconds`; `errorCode` is the AgentCallError code when it failed. */
  pollFinished(seconds: number, errorCode?: string): void;
  /** A poll started `lateByMs` after it was due (waiting for a free slot or a busy event loop). */
  pollLate(lateByMs: number): void;
  /** A received result was over the limits in `fields` and was cut before it was stored. */
  resultTruncated(fields: readonly BoundedField[]): void;
}

/** An agent as the poller names it in {@link PollEvents}. */
export interface PolledAgent {
  id: string;
  name: string;
}

/** A stored result with the name and plugin of its check, as the alert engine needs them. */
export interface NamedResult extends StoredResult {
  checkName: string;
  plugin: string;
}

/**
 * What the poller tells the alert engine. Called without waiting: the listener keeps the
 * order of its calls and must not throw.
 */
export interface PollEvents {
  /** Results of one poll were committed (in the agent's order), of the agent's enabled checks. */
  resultsStored(agent: PolledAgent, results: readonly NamedResult[]): void;
  /** A poll failed and the agent is DOWN (on every such poll, not only the first). */
  agentDown(agent: PolledAgent, error: string): void;
  /** The agent answered after being DOWN or not polled yet; after its results were reported. */
  agentUp(agent: PolledAgent): void;
}

/**
 * The collector's rounds: one scheduler (time-ordered queue, one timer) polls every
 * agent with bounded concurrency and a deadline per call. A poll hands over the check
 * set when its version changed, drains results after the stored ack, stores them,
 * and only then moves the ack — so nothing the agent measured is lost. An agent that
 * stops answering is DOWN after `downAfter` failed polls and is then polled with
 * exponential backoff until it answers again.
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly log = new Logger('Poller');
  private readonly scheduler: Scheduler;
  private syncTimer: unknown;
  private stopped = false;
  private readonly described = new Set<string>();
  readonly stats: PollStats = { polls: 0, pollErrors: {}, lastLagMs: 0, maxLagMs: 0, resultsReceived: 0 };

  constructor(
    private readonly agents: AgentsRepository,
    private readonly checks: ChecksRepository,
    private readonly pool: AgentClientPool,
    private readonly writer: ResultWriter,
    private readonly state: CurrentState,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(POLL_OBSERVER) private readonly observer?: PollObserver,
    @Optional() @Inject(POLL_EVENTS) private readonly events?: PollEvents,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {
    this.scheduler = new Scheduler(clock, config.pollConcurrency, (lag) => {
      this.stats.lastLagMs = lag;
      this.stats.maxLagMs = Math.max(this.stats.maxLagMs, lag);
      this.observer?.pollLate(lag);
    });
    // Agents gained are polled at once, those lost are dropped at once — not at the next sync.
    cluster.onLeasesChange?.(() => {
      if (!this.stopped) this.applyLeases(0, this.config.pollIntervalMs * TAKEOVER_SPREAD_SHARE);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.syncAgents();
  }

  /**
   * Stops polling and waits for the polls in flight, in the first shutdown hook: their results
   * are stored before the ResultWriter closes (beforeApplicationShutdown), not refused by it.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.syncTimer);
    await this.scheduler.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.onModuleDestroy();
    await this.writer.close();
    this.pool.closeAll();
  }

  get queueDepth(): number {
    return this.scheduler.backlog;
  }

  /** Agents this collector polls: all of them on SQLite, those whose lease it holds on PostgreSQL. */
  get agentsPolled(): number {
    return this.scheduledIds.size;
  }

  /** Polls an agent as soon as a slot is free (after enrolment or a check change). */
  pollSoon(agentId: string): void {
    this.scheduler.add(agentId, this.clock.now(), (lateBy) => this.poll(agentId, lateBy));
  }

  /** Schedules agents that appeared and forgets those that are gone; runs every few seconds. */
  async syncAgents(): Promise<void> {
    try {
      const all = await this.agents.listVersions();
      await this.state.reconcile(all);
      this.known = all.map((a) => a.id);
      // Spread first polls so a restart does not poll everything at once. The spread is also
      // the cadence from then on (each agent keeps its phase), so a few agents start within
      // 2 s and thousands are spread over up to one interval (~20 ms apart).
      this.applyLeases(2000, this.config.pollIntervalMs);
    } catch (e) {
      this.log.error(`cannot read the agent list: ${(e as Error).message}`);
    }
    if (!this.stopped) this.syncTimer = this.clock.setTimeout(() => void this.syncAgents(), AGENT_SYNC_MS);
  }

  /** Every agent, as the last sync read them. */
  private known: string[] = [];
  private readonly scheduledIds = new Set<string>();

  /**
   * Polls the known agents whose lease this collector holds (all of them on SQLite) and forgets
   * the rest. New ones start spread over FIRST_POLL_SPACING_MS each, at least `minSpreadMs`, at
   * most `maxSpreadMs`.
   */
  private applyLeases(minSpreadMs: number, maxSpreadMs: number): void {
    const held = this.known.filter((id) => this.cluster.leaseOf(id) !== null);
    const fresh = held.filter((id) => !this.scheduler.has(id));
    const spread = Math.min(maxSpreadMs, Math.max(minSpreadMs, fresh.length * FIRST_POLL_SPACING_MS));
    for (const id of fresh) {
      const jitter = Math.floor(Math.random() * spread);
      this.scheduler.add(id, this.clock.now() + jitter, (lateBy) => this.poll(id, lateBy));
    }
    const keep = new Set(held);
    for (const id of this.scheduledIds) if (!keep.has(id)) this.forget(id);
    for (const id of held) this.scheduledIds.add(id);
  }

  /** Stops polling an agent (gone, or its lease held elsewhere) and closes its channel. */
  private forget(agentId: string): void {
    this.scheduler.remove(agentId);
    this.scheduledIds.delete(agentId);
    this.pool.drop(agentId);
  }

  /** The lease a poll of `agentId` runs under: undefined on SQLite (no leases), null when this collector does not hold it. */
  private leaseFor(agentId: string): LeaseClaim | undefined | null {
    const epoch = this.cluster.leaseOf(agentId);
    if (epoch === null) return null;
    return this.cluster.shared ? { collector: this.cluster.collectorId, epoch } : undefined;
  }

  private async poll(agentId: string, lateBy: number): Promise<number | undefined> {
    const plannedAt = this.clock.now() - lateBy;
    const lease = this.leaseFor(agentId);
    if (lease === null) {
      this.forget(agentId);
      return undefined;
    }
    const agent = await this.agents.findForPoll(agentId);
    if (!agent) return undefined;
    const started = this.clock.now();
    this.stats.polls++;
    let response: CollectResponse;
    try {
      response = await this.collect(agent);
    } catch (e) {
      // Its lease went to another collector while the call was under way: the poller forgot it and
      // the pool closed its channel under the call. Not the agent's failure (the new holder polls it).
      if (lease !== undefined && this.cluster.leaseOf(agentId) === null) return undefined;
      const error = e instanceof AgentCallError ? e : new AgentCallError(`agent ${agent.name}: ${(e as Error).message}`, 'protocol');
      this.stats.pollErrors[error.code] = (this.stats.pollErrors[error.code] ?? 0) + 1;
      this.observer?.pollFinished((this.clock.now() - started) / 1000, error.code);
      const failed = await this.agents.recordPollFailure(agent.id, { at: this.clock.now(), error: error.message, downAfter: this.config.downAfter }, lease);
      if (failed) this.state.agentPolled(agent.id, failed);
      const state = failed?.state ?? null;
      if (state === 'DOWN') this.events?.agentDown({ id: agent.id, name: agent.name }, error.message);
      if (state === 'DOWN' && agent.state !== 'DOWN') this.log.warn(`agent ${agent.name} is DOWN: ${error.message}`);
      else if (state !== 'DOWN') this.log.warn(`poll failed (${agent.consecutiveFailures + 1}/${this.config.downAfter}): ${error.message}`);
      return started + this.backoff(agent.consecutiveFailures + 1);
    }
    try {
      const wasUp = agent.state === 'UP';
      const stored = this.named(await this.store(agent, response, lease));
      if (stored.length > 0) this.events?.resultsStored({ id: agent.id, name: agent.name }, stored);
      if (!wasUp) {
        this.log.log(`agent ${agent.name} is UP (${agent.host}:${agent.port})`);
        this.events?.agentUp({ id: agent.id, name: agent.name });
      }
      if (!this.described.has(agent.id)) await this.describe(agent);
      this.observer?.pollFinished((this.clock.now() - started) / 1000);
      return response.more ? this.clock.now() : nextOnCadence(plannedAt, this.config.pollIntervalMs, this.clock.now());
    } catch (e) {
      if (e instanceof LeaseLostError) {
        // Another collector polls it now; not the agent's failure, nor the database's.
        this.log.log(`stopped polling agent ${agent.name}: ${e.message}`);
        this.forget(agent.id);
        return undefined;
      }
      // The agent answered; storing failed on our side (database, shutdown). That must not make
      // the agent look DOWN. Nothing was acknowledged, so the agent hands the results over again.
      this.stats.pollErrors['storage'] = (this.stats.pollErrors['storage'] ?? 0) + 1;
      this.observer?.pollFinished((this.clock.now() - started) / 1000, 'storage');
      // A failing database is logged once per episode by StorageHealth, not once per poll.
      if (!this.stopped && !storageFault(e)) {
        this.log.error(`cannot store the results of agent ${agent.name}: ${(e as Error).message} — they stay on the agent and are fetched again`);
      }
      return this.stopped ? undefined : started + this.config.pollIntervalMs;
    }
  }

  /** Normal interval until the agent is DOWN, then doubling per failed poll up to the cap. */
  private backoff(failures: number): number {
    const beyond = Math.max(0, failures - this.config.downAfter);
    return Math.min(this.config.pollIntervalMs * 2 ** Math.min(beyond, 20), Math.max(this.config.maxBackoffMs, this.config.pollIntervalMs));
  }

  /**
   * The poll's call. A token rotation may have retired the token this poll read a moment before
   * (its first call with the new token makes the old one void on the agent): when the agent
   * refuses the token and a newer one is stored, the poll asks once more with that one.
   */
  private async collect(agent: AgentEntity): Promise<CollectResponse> {
    try {
      return await this.collectWith(agent);
    } catch (e) {
      if (!(e instanceof AgentCallError) || e.code !== 'unauthenticated') throw e;
      const fresh = await this.agents.findForPoll(agent.id);
      if (!fresh || fresh.token === agent.token) throw e;
      return this.collectWith({ ...agent, token: fresh.token });
    }
  }

  private async collectWith(agent: AgentEntity): Promise<CollectResponse> {
    const sendChecks = agent.agentAssignmentVersion !== agent.assignmentVersion;
    const checks: CheckSpec[] = sendChecks
      ? (await this.checks.findEnabledByAgent(agent.id)).map((c) => ({
          id: c.id,
          plugin: c.plugin,
          configJson: c.configJson,
          intervalMs: c.intervalMs,
          timeoutMs: c.timeoutMs,
        }))
      : [];
    return this.pool.collect(
      endpointOf(agent),
      {
        ackSeq: agent.ackSeq,
        spoolEpoch: agent.spoolEpoch,
        assignmentVersion: agent.assignmentVersion,
        hasChecks: sendChecks,
        checks,
        maxResults: this.config.pollBatch,
      },
      this.config.pollTimeoutMs,
    );
  }

  private async store(agent: AgentEntity, response: CollectResponse, lease: LeaseClaim | undefined): Promise<StoredResult[]> {
    const results: StoredResult[] = response.results.map((r) => ({
      checkId: r.checkId,
      seq: r.seq,
      startedAt: r.startedAtMs,
      durationMs: r.durationMs,
      status: clampStatus(r.status),
      reason: r.reason,
      summary: r.summary,
      metrics: r.metrics,
    }));
    // A check the agent refused never produces results: its refusal becomes its state.
    for (const rejection of response.rejected) {
      results.push({
        checkId: rejection.checkId,
        seq: 0,
        startedAt: this.clock.now(),
        durationMs: 0,
        status: 3,
        reason: 'config_error',
        summary: `refused by agent ${agent.name}: ${rejection.error}`,
        metrics: [],
      });
    }
    // The agent's runner already keeps to the limits; an older or hostile agent may not.
    for (let i = 0; i < results.length; i++) {
      const bounded = boundResult(results[i]!);
      if (bounded.cut.length === 0) continue;
      results[i] = bounded.result;
      this.observer?.resultTruncated(bounded.cut);
      this.noteTruncated(agent, bounded.result.checkId, bounded.cut);
    }
    const sameEpoch = response.spoolEpoch === agent.spoolEpoch;
    const lastSeq = response.results.length > 0 ? response.results[response.results.length - 1]!.seq : sameEpoch ? agent.ackSeq : 0;
    this.stats.resultsReceived += response.results.length;
    await this.writer.write({ agentId: agent.id, results, ackSeq: lastSeq, spoolEpoch: response.spoolEpoch, ...(lease ? { lease } : {}) });
    const polled = await this.agents.recordPollSuccess(
      agent.id,
      {
        at: this.clock.now(),
        spoolEpoch: response.spoolEpoch,
        agentAssignmentVersion: response.assignmentVersion,
        dropped: response.dropped,
        health: response.health ?? null,
      },
      lease,
    );
    if (polled) this.state.agentPolled(agent.id, polled);
    return results;
  }

  /** The results of enabled checks with their names from the read model (no look-up per batch). */
  private named(results: readonly StoredResult[]): NamedResult[] {
    const named: NamedResult[] = [];
    for (const r of results) {
      const check = this.state.check(r.checkId)?.check;
      // Deleted or disabled meanwhile: the writer skipped it, or the alert engine forgets it.
      if (check?.enabled) named.push({ ...r, checkName: check.name, plugin: check.plugin });
    }
    return named;
  }

  private readonly truncationLogged = new Set<string>();

  /** One warning per agent and check while the collector runs: a hostile plugin must not flood the log too. */
  private noteTruncated(agent: AgentEntity, checkId: string, fields: readonly BoundedField[]): void {
    const key = `${agent.id}/${checkId}`;
    if (this.truncationLogged.has(key) || this.truncationLogged.size >= 10_000) return;
    this.truncationLogged.add(key);
    this.log.warn(
      `agent ${agent.name} sent results of check ${checkId.slice(0, 64)} over the result limits (${fields.join(', ')}): ` +
        'they are stored cut to the limits — update rounds-agent there, whose runner keeps to them (README: Limits)',
    );
  }

  private async describe(agent: AgentEntity): Promise<void> {
    try {
      const description = await this.pool.describe(endpointOf(agent), this.config.pollTimeoutMs);
      const descriptionJson = JSON.stringify(description);
      await this.agents.update(agent.id, { descriptionJson });
      this.state.agentPolled(agent.id, { descriptionJson });
      this.described.add(agent.id);
    } catch (e) {
      this.log.warn(`cannot describe agent ${agent.name}: ${(e as Error).message}`);
    }
  }
}

function clampStatus(status: number): StatusCode {
  return (status >= 0 && status <= 3 ? status : 3) as StatusCode;
}
