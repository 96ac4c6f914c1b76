import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import { CLOCK } from '../shared/tokens.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import { followLeader } from '../cluster/follow-leader.js';
import { storageFault } from '../storage/storage-fault.js';
import { DueLoop } from '../shared/due-loop.js';
import { NotificationRouter } from '../routing/notification-router.js';
import { ALERTING_OPTIONS, AlertingService, type AlertingOptions } from './alerting.service.js';

/** Longest sleep when nothing is due (a step scheduled meanwhile wakes the loop at once). */
const IDLE_MS = 60_000;
const RETRY_MS = 30_000;
const PRUNE_EVERY_MS = 3_600_000;
/** How long a settled timeline is kept (the outbox keeps its rows as long). */
const RETENTION_MS = 30 * 86_400_000;

/**
 * Sends escalation steps when they are due: a step whose alert still fires unacknowledged
 * (asked of the engine at that moment) is sent, any other is recorded as cancelled. The steps
 * are rows (routing/), so a restart picks the timeline up where it was. Runs while the engine
 * ticks (not in specs that tick by hand), on the leader only (several collectors on PostgreSQL).
 */
@Injectable()
export class EscalationWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Escalation');
  private readonly loop: DueLoop;
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly router: NotificationRouter,
    private readonly alerting: AlertingService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(ALERTING_OPTIONS) private readonly options?: Partial<AlertingOptions>,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {
    this.loop = new DueLoop(clock, () => this.round());
  }

  onApplicationBootstrap(): void {
    if ((this.options?.tickMs ?? 1) > 0)
      followLeader(
        this.cluster,
        () => this.start(),
        () => this.stop(),
      );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    this.unsubscribe ??= this.router.onScheduled(() => this.loop.kick());
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.loop.stop();
  }

  /** One round: settles every due step. The loop calls it; specs call it directly. */
  async escalateDue(): Promise<{ sent: number; cancelled: number }> {
    const total = { sent: 0, cancelled: 0 };
    for (;;) {
      const round = await this.router.escalateDue(this.clock.now(), (fingerprint, activeAt) => this.alerting.escalationVerdict(fingerprint, activeAt));
      total.sent += round.sent;
      total.cancelled += round.cancelled;
      if (!round.more) break;
    }
    if (total.sent > 0) this.alerting.kickOutbox();
    return total;
  }

  /** Settles what is due; answers how long to sleep before the next round. */
  private async round(): Promise<number> {
    let next = IDLE_MS;
    try {
      await this.escalateDue();
      const now = this.clock.now();
      if (now - this.lastPruneAt >= PRUNE_EVERY_MS) {
        this.lastPruneAt = now;
        await this.router.prune(now - RETENTION_MS);
      }
      const due = await this.router.nextDueAt();
      if (due !== null) next = Math.min(IDLE_MS, Math.max(0, due - this.clock.now()));
    } catch (e) {
      if (!storageFault(e)) this.log.error(`escalation round failed (retrying in 30 s): ${e instanceof Error ? e.message : String(e)}`);
      next = RETRY_MS;
    }
    return next;
  }
}
