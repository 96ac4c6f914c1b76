import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import { HealthRepository } from './health.repository.js';
import { STORAGE_FAULT_ADVICE, STORAGE_FAULT_KINDS, storageFault, type StorageFaultKind } from './storage-fault.js';
import { CLOCK } from '../shared/tokens.js';

/** How often free space is measured and the WAL checkpointed. */
const PROBE_MS = 15_000;

export interface StorageFailure {
  kind: StorageFaultKind;
  detail: string;
  /** When this episode began (epoch ms). */
  since: number;
  /** Failed transactions and checkpoints in this episode. */
  failures: number;
}

export interface StorageStatus {
  failing: StorageFailure | null;
  /** Failed transactions and checkpoints since start, by kind. */
  failuresByKind: Record<StorageFaultKind, number>;
  /** Episodes (failing → working again) since start, the current one included. */
  episodes: number;
  /** Bytes free on the SQLite file system at the last probe; undefined on PostgreSQL or before the first. */
  freeBytes: number | undefined;
}

/**
 * Whether the collector can store what it is handed. Every transaction reports its outcome
 * here: the first storage failure starts an episode (logged once, with what to do), the
 * next commit ends it (logged once). While failing, /healthz answers 503 and /metrics says
 * so; acks do not move, because the result writer resolves only on a commit.
 */
@Injectable()
export class StorageHealth implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Storage');
  private failing: StorageFailure | null = null;
  private episodes = 0;
  private freeBytes: number | undefined;
  private readonly failuresByKind = Object.fromEntries(STORAGE_FAULT_KINDS.map((k) => [k, 0])) as Record<StorageFaultKind, number>;
  private timer: unknown;
  private stopped = false;
  private readonly listeners: ((failing: StorageFailure | null) => void)[] = [];

  constructor(
    private readonly repository: HealthRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    repository.observeTransactions({ committed: () => this.committed(), failed: (error) => this.failed(error) });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.probe();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  /** Called when an episode starts (with it) and when it ends (with null). */
  onEpisode(listener: (failing: StorageFailure | null) => void): void {
    this.listeners.push(listener);
  }

  status(): StorageStatus {
    return { failing: this.failing && { ...this.failing }, failuresByKind: { ...this.failuresByKind }, episodes: this.episodes, freeBytes: this.freeBytes };
  }

  /** One sentence for /healthz and the log; undefined while storage works. */
  /** Asks the database now (a trivial query) and returns what keeps it from storing, if anything: /healthz. */
  async readiness(): Promise<string | undefined> {
    try {
      await this.repository.ping();
    } catch (e) {
      return `database: ${(e as Error).message}`;
    }
    return this.problem();
  }

  problem(): string | undefined {
    const f = this.failing;
    if (!f) return undefined;
    return (
      `storage failing since ${new Date(f.since).toISOString()} (${f.kind.replace('_', ' ')}: ${f.detail}; ${f.failures} failed writes): ` +
      `results are not acknowledged and stay on the agents — ${STORAGE_FAULT_ADVICE[f.kind]} for ${this.repository.location}; the collector resumes by itself`
    );
  }

  committed(): void {
    const f = this.failing;
    if (!f) return;
    this.failing = null;
    const seconds = Math.round((this.clock.now() - f.since) / 1000);
    this.log.log(`storage works again after ${seconds} s (${f.failures} failed writes): storing what the agents kept meanwhile`);
    for (const listener of this.listeners) listener(null);
  }

  failed(error: unknown): void {
    const fault = storageFault(error);
    if (!fault) return;
    this.failuresByKind[fault.kind] += 1;
    if (this.failing?.kind === fault.kind) {
      this.failing.failures += 1;
      this.failing.detail = fault.detail;
      return;
    }
    const starts = !this.failing;
    this.episodes += starts ? 1 : 0;
    this.failing = { kind: fault.kind, detail: fault.detail, since: this.failing?.since ?? this.clock.now(), failures: (this.failing?.failures ?? 0) + 1 };
    this.log.error(this.problem()!);
    void this.measureFreeSpace();
    if (starts) for (const listener of this.listeners) listener({ ...this.failing });
  }

  private async measureFreeSpace(): Promise<void> {
    try {
      this.freeBytes = await this.repository.freeBytes();
    } catch (e) {
      this.log.warn(`cannot measure free space of ${this.repository.location}: ${(e as Error).message}`);
    }
  }

  private async probe(): Promise<void> {
    await this.measureFreeSpace();
    try {
      await this.repository.checkpoint();
    } catch (e) {
      this.failed(e);
    }
    if (!this.stopped) this.timer = this.clock.setTimeout(() => void this.probe(), PROBE_MS);
  }
}
