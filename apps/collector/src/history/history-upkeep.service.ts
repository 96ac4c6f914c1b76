import { setImmediate as nextTurn } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import { followLeader } from '../cluster/follow-leader.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { RollupsRepository, TIERS, type RollupTier } from './rollups.repository.js';

/** Raw results rolled up per transaction: a few milliseconds of SQLite, so the result writer never waits long. */
const ROLLUP_CHUNK = 10_000;
/** Rows or buckets deleted per transaction, and transactions per pruning round (the rest waits for the next round). */
const PRUNE_BATCH = 2_000;
const PRUNE_BATCHES_PER_ROUND = 50;
const ROLLUP_EVERY_MS = 5_000;
const PRUNE_EVERY_MS = 60_000;

/** What one pruning round removed. */
export interface PruneReport {
  raw: number;
  minute: number;
  hour: number;
  /** Metric-series buckets of both tiers. */
  metricBuckets: number;
  /** State changes older than the hour buckets. */
  stateChanges: number;
}

/**
 * Keeps history in shape while the collector runs: rolls new raw results into the minute and hour
 * buckets every few seconds (and everything left over at start, after an outage), and prunes each
 * tier past its retention in small transactions with a turn of the event loop between them, so
 * the poller and the result writer keep their pace. Freed pages are reused by SQLite and, with
 * auto_vacuum=INCREMENTAL (new databases), given back to the file system. Several collectors on
 * PostgreSQL: the leader alone does it (one roll-up watermark, one pruner).
 */
@Injectable()
export class HistoryUpkeep implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('History');
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly rollups: RollupsRepository,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    // While storing fails (a full disk) upkeep waits: its own commits would say nothing of whether results can be stored.
    @Optional() private readonly storage?: StorageHealth,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {}

  onApplicationBootstrap(): void {
    followLeader(
      this.cluster,
      () => {
        if (this.timers.length > 0) return;
        this.queue(() => this.rollUp());
        this.timers = [
          setInterval(() => this.queue(() => this.rollUp()), ROLLUP_EVERY_MS).unref(),
          setInterval(() => this.queue(() => this.prune()), PRUNE_EVERY_MS).unref(),
        ];
      },
      () => this.stopTimers(),
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.stopTimers();
    await this.running;
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Rolls up everything past the watermark, a chunk per transaction; returns how many results. */
  async rollUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rolled } = await this.rollups.rollUp(ROLLUP_CHUNK);
      total += rolled;
      if (rolled < ROLLUP_CHUNK) return total;
      await nextTurn();
    }
  }

  /** One pruning round: each tier past its retention, in small transactions. */
  async prune(): Promise<PruneReport> {
    const now = this.clock.now();
    const { rawMs, minuteMs, hourMs } = this.config.retention;
    const [minute, hour] = TIERS as [RollupTier, RollupTier];
    const report = {
      raw: await this.inBatches((batch) => this.rollups.pruneRaw(now - rawMs, batch)),
      minute: await this.inBatches((batch) => this.rollups.pruneTier(minute, now - minuteMs, batch)),
      hour: await this.inBatches((batch) => this.rollups.pruneTier(hour, now - hourMs, batch)),
      metricBuckets:
        (await this.inBatches((batch) => this.rollups.pruneTier(minute, now - minuteMs, batch, true))) +
        (await this.inBatches((batch) => this.rollups.pruneTier(hour, now - hourMs, batch, true))),
      stateChanges: await this.inBatches((batch) => this.rollups.pruneStateChanges(now - hourMs, batch)),
    };
    if (report.raw + report.minute + report.hour + report.metricBuckets + report.stateChanges > 0) {
      await this.rollups.releaseFreePages(await this.rollups.freePages());
      this.log.debug(
        `pruned ${report.raw} raw results, ${report.minute} minute and ${report.hour} hour buckets, ${report.metricBuckets} metric buckets, ${report.stateChanges} state changes past their retention`,
      );
    }
    return report;
  }

  private async inBatches(prune: (batch: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (let i = 0; i < PRUNE_BATCHES_PER_ROUND; i++) {
      const n = await prune(PRUNE_BATCH);
      total += n;
      if (n < PRUNE_BATCH) break;
      await nextTurn();
    }
    return total;
  }

  /** One job at a time, none while storing fails; a failure is logged and the next tick tries again. */
  private queue(job: () => Promise<unknown>): void {
    this.running = this.running
      .then(() => (this.storage?.status().failing ? undefined : job()))
      .catch((e: unknown) => this.log.warn(`history upkeep: ${(e as Error).message}`));
  }
}
