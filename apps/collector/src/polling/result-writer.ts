import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CheckStateEntity, type StatusCode } from '../storage/entities/index.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { inTransaction, isPostgres } from '../storage/transaction.js';
import { committedResults, type CommittedResult } from '../storage/committed-results.js';
import { bulkSql, num, upsertSuffix, type BulkSql } from '../storage/bulk-sql.js';
import { STATE_COLUMN_NAMES, stateFromRow, type StateRow } from '../storage/check-state-row.js';
import { currentLeases, fenced, type LeaseClaim, type LeaseLostError } from '../cluster/lease-fence.js';

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
  /**
   * The lease the agent was polled under (several collectors on PostgreSQL): the batch is refused
   * with a LeaseLostError unless it is still the agent's lease when the batch commits.
   */
  lease?: LeaseClaim;
}

export interface ResultWriterOptions {
  /**
   * How long the first pending write waits for others to share its transaction. 0 (the
   * default): none — group commit on the next event-loop turn; writes that arrive while a
   * transaction runs share the next one anyway.
   */
  coalesceMs?: number;
  /** Pending results that start a transaction without waiting for `coalesceMs`. */
  coalesceResults?: number;
  /** Called after each committed transaction with its duration and the results it stored (the /metrics histogram). */
  onCommit?: (seconds: number, results: number) => void;
  /** Called after each committed transaction, before its writes resolve, with the check states it wrote (the read model). */
  onStates?: (states: readonly CheckStateEntity[]) => void;
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
  states: CheckStateEntity[];
  /** The stored results with their ids, when known (SQLite), for the roll-ups. */
  committed: CommittedResult[];
  /** Batches refused because their lease was no longer current; the others committed. */
  refused: Map<ResultBatch, LeaseLostError>;
}

const RESULT_COLUMN_NAMES = ['check_id', 'agent_id', 'seq', 'started_at', 'duration_ms', 'status', 'reason', 'summary', 'metrics_json'] as const;
const STATE_UPSERT = upsertSuffix('check_id', STATE_COLUMN_NAMES.slice(1));
const STATE_CHANGE_COLUMN_NAMES = ['check_id', 'at', 'from_status', 'to_status', 'reason', 'summary'] as const;

/**
 * The only writer of check_results, check_state (with its history, state_changes) and the agents' ack. A write resolves
 * when its results, the state they imply and the new ack are committed together, so the
 * poller never acknowledges a result that a crash could lose. Writes that arrive close
 * together share one transaction: on SQLite the cost is the commit, not the rows.
 */
@Injectable()
export class ResultWriter implements BeforeApplicationShutdown {
  private readonly coalesceMs: number;
  private readonly coalesceResults: number;
  private readonly onCommit: (seconds: number, results: number) => void;
  private readonly onStates: (states: readonly CheckStateEntity[]) => void;
  private pending: Pending[] = [];
  private pendingResults = 0;
  private readonly sql: BulkSql;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private draining: Promise<void> | null = null;
  private closed = false;
  /**
   * SQLite only: the check states as this writer last committed them. It is their only writer
   * (a deleted check's row goes with it, and its results are skipped), so reading them back
   * before every transaction — a third of a transaction's time (bench: ingest) — tells it
   * nothing new. Several collectors share PostgreSQL (and its checks may move between them):
   * there the rows are read each time.
   */
  private readonly knownStates: Map<string, CheckStateEntity> | null;
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
    this.sql = bulkSql(dataSource);
    this.coalesceMs = options.coalesceMs ?? 0;
    this.coalesceResults = options.coalesceResults ?? 500;
    this.onCommit = options.onCommit ?? (() => {});
    this.onStates = options.onStates ?? (() => {});
    this.knownStates = isPostgres(dataSource) ? null : new Map();
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

  /** After the poller's onModuleDestroy has waited for the polls in flight (their results are stored, not refused). */
  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private schedule(): void {
    // Group commit: a running drain takes everything pending as soon as its transaction
    // ends; an idle writer starts on the next turn of the event loop, so writes issued
    // together share a transaction without anyone waiting on a timer.
    if (this.draining) return;
    if (this.pendingResults >= this.coalesceResults) {
      void this.startDrain();
    } else if (!this.timer) {
      this.timer = this.coalesceMs > 0 ? setTimeout(() => this.onTimer(), this.coalesceMs) : setImmediate(() => this.onTimer());
    }
  }

  private onTimer(): void {
    this.timer = null;
    void this.startDrain();
  }

  private startDrain(): Promise<void> {
    if (this.timer) {
      if (this.coalesceMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
      else clearImmediate(this.timer as NodeJS.Immediate);
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
        const refused = await this.commit(group.map((p) => p.batch));
        for (const p of group) this.settle(p, refused);
      } catch (error) {
        if (group.length === 1) {
          this.fail(group[0]!, error);
          continue;
        }
        // One bad batch must not take the others down with it: retry each on its own.
        for (const p of group) {
          try {
            this.settle(p, await this.commit([p.batch]));
          } catch (single) {
            this.fail(p, single);
          }
        }
      }
    }
  }

  /** Resolves a batch of a committed transaction, or rejects it when its lease was refused. */
  private settle(p: Pending, refused: Map<ResultBatch, LeaseLostError>): void {
    const lost = refused.get(p.batch);
    if (lost) {
      this.fail(p, lost);
    } else {
      this.stats.batches += 1;
      p.resolve();
    }
  }

  private fail(p: Pending, error: unknown): void {
    this.stats.batchesFailed += 1;
    p.reject(error);
  }

  private async commit(batches: ResultBatch[]): Promise<Map<ResultBatch, LeaseLostError>> {
    const started = performance.now();
    const outcome = await inTransaction(this.dataSource, (m) => this.store(m, batches));
    this.stats.transactions += 1;
    this.stats.resultsWritten += outcome.written;
    this.stats.resultsSkipped += outcome.skipped;
    this.stats.lastTransactionMs = performance.now() - started;
    this.stats.lastTransactionResults = outcome.written;
    this.onCommit(this.stats.lastTransactionMs / 1000, outcome.written);
    if (this.knownStates) for (const state of outcome.states) this.knownStates.set(state.checkId, state);
    this.onStates(outcome.states);
    committedResults(this.dataSource).committed(outcome.committed);
    return outcome.refused;
  }

  private async store(m: EntityManager, batches: ResultBatch[]): Promise<CommitOutcome> {
    // Agents before checks: the lock order every other writer uses too (see ChecksRepository).
    const agents = await this.agentAcks(m, batches);
    const refused = await this.refusedLeases(m, batches);
    const checkOwner = await this.checkOwners(m, batches);

    const rows: unknown[][] = [];
    const stored: { r: StoredResult; agentId: string }[] = [];
    const byCheck = new Map<string, { r: StoredResult; metricsJson: string }[]>();
    let skipped = 0;

    for (const batch of batches) {
      const agent = agents.get(batch.agentId);
      if (!agent || refused.has(batch)) {
        skipped += batch.results.length;
        continue;
      }
      // Within one spool epoch, a seq at or below the stored ack is already in the
      // database (e.g. a poll retried after a slow commit): storing it again would
      // double-count. seq 0 marks results that were never spooled, never duplicates.
      const storedUpTo = agent.spoolEpoch === batch.spoolEpoch ? agent.ackSeq : 0;
      for (const r of batch.results) {
        const owner = checkOwner.get(r.checkId);
        // Forgetting a deleted check's state is always safe (at worst it is read again).
        if (owner === undefined) this.knownStates?.delete(r.checkId);
        if (owner !== batch.agentId || (r.seq > 0 && r.seq <= storedUpTo)) {
          skipped += 1;
          continue;
        }
        const metricsJson = JSON.stringify(r.metrics);
        rows.push([r.checkId, batch.agentId, r.seq, r.startedAt, r.durationMs, r.status, r.reason, r.summary, metricsJson]);
        stored.push({ r, agentId: batch.agentId });
        const list = byCheck.get(r.checkId);
        if (list) list.push({ r, metricsJson });
        else byCheck.set(r.checkId, [{ r, metricsJson }]);
      }
      agent.ackSeq = agent.spoolEpoch === batch.spoolEpoch ? Math.max(agent.ackSeq, batch.ackSeq) : batch.ackSeq;
      agent.spoolEpoch = batch.spoolEpoch;
      agent.touched = true;
    }

    const base = await this.insertResults(m, rows);
    const states = await this.upsertStates(m, byCheck);
    const acks = [...agents].filter(([, a]) => a.touched).map(([id, a]) => [a.ackSeq, a.spoolEpoch, id]);
    await this.sql.updateEach(m, 'agents', ['ack_seq', 'spool_epoch'], 'id', acks);
    const committed =
      base === null
        ? []
        : stored.map(({ r, agentId }, i) => ({
            id: base + i + 1,
            checkId: r.checkId,
            agentId,
            startedAt: r.startedAt,
            status: r.status,
            durationMs: r.durationMs,
            metrics: r.metrics,
          }));
    return { written: rows.length, skipped, states, committed, refused };
  }

  /**
   * On SQLite a new row's id is one past the largest left in the table: once the newest rows are
   * gone (a check deleted with its results, or everything pruned after a week without results)
   * ids would start again below the roll-up watermark (history/rollups.repository.ts), and those
   * results would never be counted — then be pruned as counted. So ids are given here, past both
   * the largest id and the watermark. PostgreSQL's sequence never goes back. Returns the id before
   * the first (SQLite), or null.
   */
  private async insertResults(m: EntityManager, rows: unknown[][]): Promise<number | null> {
    if (rows.length === 0) return null;
    if (isPostgres(this.dataSource)) {
      await this.sql.insert(m, 'check_results', RESULT_COLUMN_NAMES, rows);
      return null;
    }
    const [top] = await this.sql.all<{ base: unknown }>(
      m,
      "SELECT max(coalesce((SELECT max(id) FROM check_results), 0), coalesce((SELECT last_result_id FROM rollup_progress WHERE name = 'results'), 0)) AS base",
      [],
    );
    const base = num(top?.base ?? 0);
    await this.sql.insert(
      m,
      'check_results',
      ['id', ...RESULT_COLUMN_NAMES],
      rows.map((row, i) => [base + i + 1, ...row]),
    );
    return base;
  }

  /** check id → owning agent id, for the checks that still exist. */
  private async checkOwners(m: EntityManager, batches: ResultBatch[]): Promise<Map<string, string>> {
    const ids = [...new Set(batches.flatMap((b) => b.results.map((r) => r.checkId)))];
    const checks = await this.sql.selectIn<{ id: string; agent_id: string }>(m, 'checks', ['id', 'agent_id'], 'id', ids, 'FOR KEY SHARE');
    return new Map(checks.map((c) => [c.id, c.agent_id]));
  }

  private async agentAcks(m: EntityManager, batches: ResultBatch[]): Promise<Map<string, { ackSeq: number; spoolEpoch: string; touched: boolean }>> {
    const ids = [...new Set(batches.map((b) => b.agentId))];
    const agents = await this.sql.selectIn<{ id: string; ack_seq: unknown; spool_epoch: string }>(
      m,
      'agents',
      ['id', 'ack_seq', 'spool_epoch'],
      'id',
      ids,
      'FOR UPDATE',
    );
    return new Map(agents.map((a) => [a.id, { ackSeq: num(a.ack_seq), spoolEpoch: a.spool_epoch, touched: false }]));
  }

  /**
   * The batches whose lease is no longer the agent's: read after the agent rows are locked, with
   * the lease rows FOR SHARE, so a takeover's commit cannot fall between the check and the write.
   * SQLite has one collector and no leases.
   */
  private async refusedLeases(m: EntityManager, batches: ResultBatch[]): Promise<Map<ResultBatch, LeaseLostError>> {
    const refused = new Map<ResultBatch, LeaseLostError>();
    const leased = batches.filter((b) => b.lease !== undefined);
    if (leased.length === 0 || !isPostgres(this.dataSource)) return refused;
    const current = await currentLeases(m, [...new Set(leased.map((b) => b.agentId))]);
    for (const batch of leased) {
      const lost = fenced(batch.agentId, batch.lease!, current);
      if (lost) refused.set(batch, lost);
    }
    return refused;
  }

  /**
   * Returns the states it wrote (those the results changed) — new objects: the known states
   * change only once the transaction has committed.
   */
  private async upsertStates(m: EntityManager, byCheck: Map<string, { r: StoredResult; metricsJson: string }[]>): Promise<CheckStateEntity[]> {
    if (byCheck.size === 0) return [];
    const existing = await this.currentStates(m, [...byCheck.keys()]);

    const next: CheckStateEntity[] = [];
    const changes: unknown[][] = [];
    for (const [checkId, results] of byCheck) {
      const before = existing.get(checkId);
      const state = before ? Object.assign(new CheckStateEntity(), before) : initialState(checkId);
      let changed = false;
      results.sort((a, b) => a.r.startedAt - b.r.startedAt || a.r.seq - b.r.seq);
      for (const { r, metricsJson } of results) {
        // A late result (older than what the state shows) is history, not news.
        if (state.lastResultAt !== null && r.startedAt < state.lastResultAt) continue;
        if (state.lastResultAt === null || r.status !== state.status) {
          state.lastChangeAt = r.startedAt;
          changes.push([checkId, r.startedAt, state.lastResultAt === null ? null : state.status, r.status, r.reason, r.summary]);
        }
        state.consecutiveFailures = r.status === 0 ? 0 : state.consecutiveFailures + 1;
        if (r.status === 0) state.lastOkAt = r.startedAt;
        state.status = r.status;
        state.reason = r.reason;
        state.summary = r.summary;
        state.lastResultAt = r.startedAt;
        state.lastDurationMs = r.durationMs;
        state.lastSeq = r.seq;
        state.metricsJson = metricsJson;
        changed = true;
      }
      if (changed) next.push(state);
    }

    await this.sql.insert(
      m,
      'check_state',
      STATE_COLUMN_NAMES,
      next.map((st) => [
        st.checkId,
        st.status,
        st.reason,
        st.summary,
        st.lastResultAt,
        st.lastOkAt,
        st.lastChangeAt,
        st.consecutiveFailures,
        st.lastDurationMs,
        st.lastSeq,
        st.metricsJson,
      ]),
      STATE_UPSERT,
    );
    await this.sql.insert(m, 'state_changes', STATE_CHANGE_COLUMN_NAMES, changes);
    return next;
  }

  /** The stored states of `checkIds` (those that have one): from memory where known, the rest read. */
  private async currentStates(m: EntityManager, checkIds: readonly string[]): Promise<Map<string, CheckStateEntity>> {
    const out = new Map<string, CheckStateEntity>();
    const unknown: string[] = [];
    for (const id of checkIds) {
      const known = this.knownStates?.get(id);
      if (known) out.set(id, known);
      else unknown.push(id);
    }
    if (unknown.length > 0) {
      const rows = await this.sql.selectIn<StateRow>(m, 'check_state', STATE_COLUMN_NAMES, 'check_id', unknown);
      for (const row of rows) out.set(row.check_id as string, stateFromRow(row));
    }
    return out;
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
