import type { Clock } from '#rounds/common';
import type { AuditDraft } from '../audit/audit.types.js';
import { alertMessage } from '../notifications/alert-message.js';
import { outboxKey, type OutboxService } from '../notifications/outbox.service.js';
import { EngineStateConflict, type AlertingRepository, type NewHistoryLine } from './alerting.repository.js';
import { AlertEngine, ENGINE_STATE_VERSION, type AlertEngineOptions, type AlertEngineState, type EngineStep } from './index.js';

/** What one change of the engine produced, and what it answers its caller. */
export interface Step<T> {
  step: EngineStep;
  value: T;
  /** Commit even when the step produced nothing (configuration changed). */
  force?: boolean;
  /** The operator's change as the audit log records it: committed with the step, or not at all. */
  audit?: AuditDraft;
  /** Inbox rows (other collectors' poll events) this change took in: deleted with the state that includes them. */
  consumed?: readonly number[];
}

/** A group of changes applied to the engine, waiting for its commit. */
interface Applied {
  done: { job: PendingChange; value: unknown }[];
  step: EngineStep;
  audit: AuditDraft[];
  force: boolean;
  consumed: number[];
}

function absorb(into: Applied, more: Applied): void {
  into.done.push(...more.done);
  merge(into.step, more.step);
  into.audit.push(...more.audit);
  into.force ||= more.force;
  into.consumed.push(...more.consumed);
}

/** Commits tried on a state another collector keeps changing before the change fails. */
const MAX_ATTEMPTS = 5;

interface PendingChange {
  change: (engine: AlertEngine) => Step<unknown> | Promise<Step<unknown>>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface JournalOptions {
  engine: AlertEngineOptions;
  /** Least wall-clock ms between two writes of the engine state (see AlertingOptions.commitSpacingMs). */
  commitSpacingMs: number;
  /** Links in notifications (ROUNDS_PUBLIC_URL). */
  publicUrl: string | undefined;
  /** Maps an engine refusal to the error its caller gets (404, 409). */
  refusal: (e: unknown) => unknown;
  /**
   * Other collectors may change the stored state (docs/scaling.md): each group of changes first
   * loads it when its revision moved, so that an acknowledgement of an alert this copy has not
   * seen yet finds it. The commit's revision check covers the race that remains.
   */
  shared: boolean;
}

/**
 * The alert engine and its write-ahead discipline: every change runs after the earlier ones,
 * and what it decided — the engine state, history lines and outbox rows — is committed in one
 * transaction before anyone is told. A step that changed only counters is kept in memory
 * (`dirty`) and written with the next one.
 */
export class EngineJournal {
  /** The state as last committed (JSON text): what the engine goes back to when a commit fails. */
  private committed: string;
  /** Counters changed since the last write (no transition, nothing to say). */
  dirty = false;
  /** Alerting time of the last write. */
  savedAt = 0;
  /** Wall-clock time of the last state write (see JournalOptions.commitSpacingMs). */
  private writtenAt = 0;
  /** Changes waiting for the engine; taken together by the next drain and committed once. */
  private pending: PendingChange[] = [];
  private draining: Promise<void> | null = null;
  /** Inbox rows the engine has taken in whose state is not written yet (`dirty`): deleted with the next write. */
  private readonly consumed = new Set<number>();

  /** `revision`: the stored state's revision `current` was loaded at (see AlertingRepository.commit). */
  constructor(
    private current: AlertEngine,
    private revision: number,
    private readonly store: AlertingRepository,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
    private readonly options: JournalOptions,
  ) {
    this.committed = current.serialize();
  }

  /** Inbox rows taken in but not yet deleted: the leader's next read leaves them out. */
  get takenIn(): ReadonlySet<number> {
    return this.consumed;
  }

  /**
   * Loads the stored state when another collector changed it since this copy was loaded (a
   * non-leader's views; a leader after an acknowledgement made elsewhere). Waits for the
   * changes under way; what was only in memory (`dirty` counters, inbox rows taken in) is
   * dropped with the copy — the rows are read again. Returns whether it loaded.
   */
  async refresh(): Promise<boolean> {
    return this.locked(async () => {
      if ((await this.store.storedRevision()) === this.revision) return false;
      await this.reload();
      return true;
    });
  }

  /** The engine as of the last change (read-only use: views and queries). */
  get engine(): AlertEngine {
    return this.current;
  }

  /**
   * Runs one change of the engine after every earlier one and commits what it produced.
   * Changes that arrive while a commit is under way are applied together, in order, and
   * committed once: when 2,000 agents become unreachable in one poll round, the ~8 MB
   * state is written a handful of times, not 2,000. If the commit fails, the engine goes
   * back to the last committed state and every change of the group fails with it: what
   * they decided (a notification included) is decided again by the next input, never lost.
   */
  run<T>(change: (engine: AlertEngine) => Step<T> | Promise<Step<T>>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ change, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain().finally(() => (this.draining = null));
    });
  }

  /** Resolves when every change queued so far has been applied and committed (or has failed). */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Runs `work` with the journal to itself: earlier changes are committed first, later ones wait
   * until it ends. `work` changes the engine and calls `save` with what that produced, inside a
   * transaction of its own making (storage/transaction.ts oneTransaction), so that the engine
   * state commits with the rest of it. When `work` fails the engine goes back to the last
   * committed state, as after a failed commit.
   */
  async exclusive<T>(work: (engine: AlertEngine, save: (step: EngineStep, audit: readonly AuditDraft[]) => Promise<void>) => Promise<T>): Promise<T> {
    return this.locked(async () => {
      for (let attempt = 1; ; attempt++) {
        let saved = false;
        try {
          const value = await work(this.current, async (step, audit) => {
            await this.write(step, audit, []);
            saved = true;
          });
          // Only now is the transaction `save` wrote in committed.
          if (saved) {
            this.committed = this.current.serialize();
            this.revision += 1;
            this.dirty = false;
            this.outbox.kick();
          }
          return value;
        } catch (e) {
          this.restore();
          if (!(e instanceof EngineStateConflict) || attempt >= MAX_ATTEMPTS) throw e;
          await this.reload();
        }
      }
    });
  }

  /** Runs `work` with the journal to itself: earlier changes first, later ones after it. */
  private async locked<T>(work: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    while (this.draining) await this.draining;
    this.draining = held;
    try {
      return await work();
    } finally {
      this.draining = null;
      release();
      if (this.pending.length > 0) this.draining = this.drain().finally(() => (this.draining = null));
    }
  }

  /** Back to the last committed state (a commit or a change failed). */
  private restore(): void {
    this.current = AlertEngine.deserialize(this.committed, this.options.engine);
    this.dirty = false;
    // Rows taken in by the changes just dropped: read again.
    this.consumed.clear();
  }

  /** The stored state, as another collector may have changed it. */
  private async reload(): Promise<void> {
    const stored = await this.store.loadState();
    this.current = stored ? AlertEngine.fromJSON(stored.state as AlertEngineState, this.options.engine) : new AlertEngine(this.options.engine);
    this.committed = this.current.serialize();
    this.revision = stored?.revision ?? 0;
    this.dirty = false;
    this.consumed.clear();
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      let group = this.take();
      if (this.options.shared && (await this.store.storedRevision().catch(() => this.revision)) !== this.revision) await this.reload().catch(() => {});
      for (let attempt = 1; ; attempt++) {
        const applied = await this.apply(group);
        const writes = applied.force || applied.step.notifications.length > 0 || applied.step.history.length > 0;
        const wait = this.writtenAt + this.options.commitSpacingMs - Date.now();
        if (writes && wait > 0 && attempt === 1) {
          // Wall-clock, not the injected clock: this paces the disk, not alerting time.
          await new Promise((resolve) => setTimeout(resolve, wait));
          const later = this.take();
          absorb(applied, await this.apply(later));
          group = [...group, ...later];
        }
        try {
          await this.commit(applied);
        } catch (e) {
          this.restore();
          if (e instanceof EngineStateConflict && attempt < MAX_ATTEMPTS) {
            // Another collector changed the engine: make this group's changes again on its state.
            await this.reload();
            group = applied.done.map((d) => d.job);
            continue;
          }
          for (const { job } of applied.done) job.reject(e);
          break;
        }
        for (const { job, value } of applied.done) job.resolve(value);
        break;
      }
    }
  }

  private take(): PendingChange[] {
    const group = this.pending;
    this.pending = [];
    return group;
  }

  /** Applies each change in order; one that throws is refused on its own and left out. */
  private async apply(group: readonly PendingChange[]): Promise<Applied> {
    const applied: Applied = { done: [], step: emptyStep(), audit: [], force: false, consumed: [] };
    for (const job of group) {
      try {
        const outcome = await job.change(this.current);
        merge(applied.step, outcome.step);
        applied.force ||= outcome.force === true || outcome.audit !== undefined;
        if (outcome.audit) applied.audit.push(outcome.audit);
        if (outcome.consumed) applied.consumed.push(...outcome.consumed);
        applied.done.push({ job, value: outcome.value });
      } catch (e) {
        job.reject(this.options.refusal(e));
      }
    }
    return applied;
  }

  private async commit({ step, force, audit, consumed }: Applied): Promise<void> {
    for (const id of consumed) this.consumed.add(id);
    if (!force && step.notifications.length === 0 && step.history.length === 0) {
      this.dirty = true;
      return;
    }
    const { state, fresh } = await this.write(step, audit, [...this.consumed]);
    this.committed = state;
    this.revision += 1;
    this.dirty = false;
    this.consumed.clear();
    if (fresh.length > 0) this.outbox.kick();
  }

  /** Writes the engine state with the step's history lines, outbox rows and audit rows, and deletes the inbox rows it took in (one transaction, or the caller's). */
  private async write(step: EngineStep, audit: readonly AuditDraft[], consumed: readonly number[]): Promise<{ state: string; fresh: string[] }> {
    const now = this.clock.now();
    this.savedAt = now;
    this.writtenAt = Date.now();
    const state = this.current.serialize();
    const history: NewHistoryLine[] = step.history.map((h) => ({
      at: h.at,
      fingerprint: h.fingerprint,
      alertName: h.name,
      transition: h.event,
      by: h.by ?? null,
      comment: h.comment ?? null,
      details: {
        labels: h.labels,
        severity: h.severity,
        ...(h.from === undefined ? {} : { from: h.from }),
        ...(h.expiresAt === undefined ? {} : { expiresAt: h.expiresAt }),
        ...(h.detail === undefined ? {} : { detail: h.detail }),
      },
    }));
    for (const n of step.notifications) {
      history.push({
        at: n.at,
        fingerprint: n.alert.fingerprint,
        alertName: n.alert.name,
        transition: n.muted.length > 0 ? 'muted' : 'notified',
        details: {
          kind: n.kind,
          key: n.key,
          severity: n.alert.severity,
          labels: n.alert.labels,
          summary: n.alert.summary,
          ...(n.muted.length > 0 ? { mutedBy: n.muted } : {}),
        },
      });
    }
    const notifications = step.notifications
      .filter((n) => n.muted.length === 0)
      .map((n) => ({
        key: n.key,
        fingerprint: n.alert.fingerprint,
        activeAt: n.alert.activeAt,
        alertName: n.alert.name,
        payload: alertMessage(n, this.options.publicUrl),
      }));
    const fresh = await this.store.commit(
      { state: { version: ENGINE_STATE_VERSION, text: state }, history, notifications, outboxKey, audit, revision: this.revision, consumed },
      now,
    );
    return { state, fresh };
  }
}

export function emptyStep(): EngineStep {
  return { notifications: [], history: [] };
}

export function merge(into: EngineStep, step: EngineStep): EngineStep {
  into.notifications.push(...step.notifications);
  into.history.push(...step.history);
  return into;
}
