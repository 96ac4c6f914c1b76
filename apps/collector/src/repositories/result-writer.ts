import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  AgentEntity,
  CheckEntity,
  CheckResultEntity,
  CheckStateEntity,
  type StatusCode,
} from '../entities/index.js';
import { DATA_SOURCE } from './data-source.js';
import { chunk, forKeyShare, forUpdate, inTransaction } from './transaction.js';

export interface StoredMetric {
  name: string;
  value: number;
  unit: string;
  labels?: Record<string, string>;
}

export interface StoredResult {
  checkId: string;
  /** Spool sequence number; 0 for results that were never spooled (e.g. "check now"). */
  seq: number;
  /** Epoch milliseconds. */
  startedAt: number;
  durationMs: number;
  /** Nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
  status: StatusCode;
  reason: string;
  summary: string;
  metrics: StoredMetric[];
}

/** One poll's worth: the results and the acknowledgement that becomes valid once they are stored. */
export interface ResultBatch {
  agentId: string;
  results: StoredResult[];
  /** Highest seq stored once this batch commits; sent to the agent on the next poll. */
  ackSeq: number;
  spoolEpoch: string;
}

export interface ResultWriterOptions {
  /** How long the first pending write waits for others to share its transaction. */
  coalesceMs?: number;
  /** Pending results that start a transaction without waiting for `coalesceMs`. */
  coalesceResults?: number;
  /** Called after each committed transaction with its duration and the results it stored (the /metrics histogram). */
  onCommit?: (seconds: number, results: number) => void;
}

/** Nest token for {@link ResultWriterOptions}; optional. */
export const RESULT_WRITER_OPTIONS = Symbol('RESULT_WRITER_OPTIONS');

export interface ResultWriterCounters {
  /** write() calls accepted. */
  writes: number;
  /** Batches committed (each write() that resolved). */
  batches: number;
  /** Batches whose write() rejected because their transaction failed. */
  batchesFailed: number;
  /** Committed transactions; fewer than `batches` when writes were coalesced. */
  transactions: number;
  resultsWritten: number;
  /** Results for checks that no longer exist, or already stored under the agent's ack. */
  resultsSkipped: number;
  lastTransactionMs: number;
  lastTransactionResults: number;
}

export class ResultWriterClosedError extends Error {
  constructor() {
    super(
      'ResultWriter is closed (the collector is shutting down): these results were not stored; ' +
        'the agent keeps them spooled and hands them over again after the next start',
    );
    this.name = 'ResultWriterClosedError';
  }
}

interface Pending {
  batch: ResultBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface CommitOutcome {
  written: number;
  skipped: number;
}

const RESULT_COLUMNS = 10;
const STATE_COLUMNS = 11;

/**
 * The only writer of check_results, check_state and the agents' ack. A write resolves
 * when its results, the state they imply and the new ack are committed together, so the
 * poller never acknowledges a result that a crash could lose. Writes that arrive close
 * together share one transaction: on SQLite the cost is the commit, not the rows.
 */
@Injectable()
export class ResultWriter implements OnModuleDestroy {
  private readonly coalesceMs: number;
  private readonly coalesceResults: number;
  private readonly onCommit: (seconds: number, results: number) => void;
  private pending: Pending[] = [];
  private pendingResults = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private closed = false;
  private readonly stats: ResultWriterCounters = {
    writes: 0,
    batches: 0,
    batchesFailed: 0,
    transactions: 0,
    resultsWritten: 0,
    resultsSkipped: 0,
    lastTransactionMs: 0,
    lastTransactionResults: 0,
  };

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Optional() @Inject(RESULT_WRITER_OPTIONS) options: ResultWriterOptions = {},
  ) {
    this.coalesceMs = options.coalesceMs ?? 20;
    this.coalesceResults = options.coalesceResults ?? 500;
    this.onCommit = options.onCommit ?? (() => {});
  }

  get counters(): Readonly<ResultWriterCounters> {
    return { ...this.stats };
  }

  write(batch: ResultBatch): Promise<void> {
    if (this.closed) return Promise.reject(new ResultWriterClosedError());
    this.stats.writes += 1;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      this.pendingResults += batch.results.length;
      this.schedule();
    });
  }

  /** Resolves when everything written so far is committed or has failed (each write() reports its own error). */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.draining) await this.startDrain();
  }

  /** Commits what is pending, then refuses new writes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  private schedule(): void {
    // A running drain takes everything pending as soon as its transaction ends.
    if (this.draining) return;
    if (this.pendingResults >= this.coalesceResults) {
      void this.startDrain();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.startDrain();
      }, this.coalesceMs);
    }
  }

  private startDrain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
      // Writes that arrived after the loop's last look but before this callback.
      if (this.pending.length > 0) this.schedule();
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      this.pendingResults = 0;
      try {
        await this.commit(group.map((p) => p.batch));
        this.stats.batches += group.length;
        for (const p of group) p.resolve();
      } catch (error) {
        if (group.length === 1) {
          this.fail(group[0]!, error);
          continue;
        }
        // One bad batch must not take the others down with it: retry each on its own.
        for (const p of group) {
          try {
            await this.commit([p.batch]);
            this.stats.batches += 1;
            p.resolve();
          } catch (single) {
            this.fail(p, single);
          }
        }
      }
    }
  }

  private fail(p: Pending, error: unknown): void {
    this.stats.batchesFailed += 1;
    p.reject(error);
  }

  private async commit(batches: ResultBatch[]): Promise<void> {
    const started = performance.now();
    const outcome = await inTransaction(this.dataSource, (m) => this.store(m, batches));
    this.stats.transactions += 1;
    this.stats.resultsWritten += outcome.written;
    this.stats.resultsSkipped += outcome.skipped;
    this.stats.lastTransactionMs = performance.now() - started;
    this.stats.lastTransactionResults = outcome.written;
    this.onCommit(this.stats.lastTransactionMs / 1000, outcome.written);
  }

  private async store(m: EntityManager, batches: ResultBatch[]): Promise<CommitOutcome> {
    // Agents before checks: the lock order every other writer uses too (see ChecksRepository).
    const agents = await this.agentAcks(m, batches);
    const checkOwner = await this.checkOwners(m, batches);

    const rows: Omit<CheckResultEntity, 'id'>[] = [];
    const byCheck = new Map<string, StoredResult[]>();
    let skipped = 0;

    for (const batch of batches) {
      const agent = agents.get(batch.agentId);
      if (!agent) {
        skipped += batch.results.length;
        continue;
      }
      // Within one spool epoch, a seq at or below the stored ack is already in the
      // database (e.g. a poll retried after a slow commit): storing it again would
      // double-count. seq 0 marks results that were never spooled, never duplicates.
      const storedUpTo = agent.spoolEpoch === batch.spoolEpoch ? agent.ackSeq : 0;
      for (const r of batch.results) {
        if (checkOwner.get(r.checkId) !== batch.agentId || (r.seq > 0 && r.seq <= storedUpTo)) {
          skipped += 1;
          continue;
        }
        rows.push({
          checkId: r.checkId,
          agentId: batch.agentId,
          seq: r.seq,
          startedAt: r.startedAt,
          durationMs: r.durationMs,
          status: r.status,
          reason: r.reason,
          summary: r.summary,
          metricsJson: JSON.stringify(r.metrics),
        });
        const list = byCheck.get(r.checkId);
        if (list) list.push(r);
        else byCheck.set(r.checkId, [r]);
      }
      agent.ackSeq = agent.spoolEpoch === batch.spoolEpoch ? Math.max(agent.ackSeq, batch.ackSeq) : batch.ackSeq;
      agent.spoolEpoch = batch.spoolEpoch;
      agent.touched = true;
    }

    for (const part of chunk(rows, RESULT_COLUMNS)) {
      await m.createQueryBuilder().insert().into(CheckResultEntity).values(part).updateEntity(false).execute();
    }

    await this.upsertStates(m, byCheck);

    for (const [id, agent] of agents) {
      if (!agent.touched) continue;
      await m.update(AgentEntity, { id }, { ackSeq: agent.ackSeq, spoolEpoch: agent.spoolEpoch });
    }
    return { written: rows.length, skipped };
  }

  /** check id → owning agent id, for the checks that still exist. */
  private async checkOwners(m: EntityManager, batches: ResultBatch[]): Promise<Map<string, string>> {
    const ids = [...new Set(batches.flatMap((b) => b.results.map((r) => r.checkId)))];
    const owners = new Map<string, string>();
    for (const part of chunk(ids, 1)) {
      const checks = await forKeyShare(
        this.dataSource,
        m.createQueryBuilder(CheckEntity, 'c').select(['c.id', 'c.agentId']).where('c.id IN (:...ids)', { ids: part }),
      ).getMany();
      for (const c of checks) owners.set(c.id, c.agentId);
    }
    return owners;
  }

  private async agentAcks(
    m: EntityManager,
    batches: ResultBatch[],
  ): Promise<Map<string, { ackSeq: number; spoolEpoch: string; touched: boolean }>> {
    const ids = [...new Set(batches.map((b) => b.agentId))];
    const acks = new Map<string, { ackSeq: number; spoolEpoch: string; touched: boolean }>();
    for (const part of chunk(ids, 1)) {
      const agents = await forUpdate(
        this.dataSource,
        m
          .createQueryBuilder(AgentEntity, 'a')
          .select(['a.id', 'a.ackSeq', 'a.spoolEpoch'])
          .where('a.id IN (:...ids)', { ids: part }),
      ).getMany();
      for (const a of agents) acks.set(a.id, { ackSeq: a.ackSeq, spoolEpoch: a.spoolEpoch, touched: false });
    }
    return acks;
  }

  private async upsertStates(m: EntityManager, byCheck: Map<string, StoredResult[]>): Promise<void> {
    if (byCheck.size === 0) return;
    const existing = new Map<string, CheckStateEntity>();
    for (const part of chunk([...byCheck.keys()], 1)) {
      const states = await m
        .createQueryBuilder(CheckStateEntity, 's')
        .where('s.checkId IN (:...ids)', { ids: part })
        .getMany();
      for (const s of states) existing.set(s.checkId, s);
    }

    const next: CheckStateEntity[] = [];
    for (const [checkId, results] of byCheck) {
      const state = existing.get(checkId) ?? initialState(checkId);
      let changed = false;
      results.sort((a, b) => a.startedAt - b.startedAt || a.seq - b.seq);
      for (const r of results) {
        // A late result (older than what the state shows) is history, not news.
        if (state.lastResultAt !== null && r.startedAt < state.lastResultAt) continue;
        if (state.lastResultAt === null || r.status !== state.status) state.lastChangeAt = r.startedAt;
        state.consecutiveFailures = r.status === 0 ? 0 : state.consecutiveFailures + 1;
        if (r.status === 0) state.lastOkAt = r.startedAt;
        state.status = r.status;
        state.reason = r.reason;
        state.summary = r.summary;
        state.lastResultAt = r.startedAt;
        state.lastDurationMs = r.durationMs;
        state.lastSeq = r.seq;
        state.metricsJson = JSON.stringify(r.metrics);
        changed = true;
      }
      if (changed) next.push(state);
    }

    const overwrite = [
      'status',
      'reason',
      'summary',
      'last_result_at',
      'last_ok_at',
      'last_change_at',
      'consecutive_failures',
      'last_duration_ms',
      'last_seq',
      'metrics_json',
    ];
    for (const part of chunk(next, STATE_COLUMNS)) {
      await m
        .createQueryBuilder()
        .insert()
        .into(CheckStateEntity)
        .values(part)
        .orUpdate(overwrite, ['check_id'])
        .updateEntity(false)
        .execute();
    }
  }
}

function initialState(checkId: string): CheckStateEntity {
  const s = new CheckStateEntity();
  s.checkId = checkId;
  s.status = 3;
  s.reason = '';
  s.summary = '';
  s.lastResultAt = null;
  s.lastOkAt = null;
  s.lastChangeAt = null;
  s.consecutiveFailures = 0;
  s.lastDurationMs = null;
  s.lastSeq = 0;
  s.metricsJson = '[]';
  return s;
}
