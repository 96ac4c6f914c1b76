import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { StorageHealth, type StorageFailure } from '../storage/storage-health.service.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import { ChannelsService } from './channels.service.js';
import type { NotificationMessage } from './message.js';

/**
 * Tells the notification channels when the collector cannot store results. The alert
 * engine and its outbox keep their state in the very database that fails, so this alert
 * goes past them: sent at once to every enabled channel once storing has failed for
 * `storageAlertAfterMs`, and "resolved" when it works again. One attempt each — the
 * /healthz answer, the metric and Prometheus' RoundsCollectorStorageFailing remain.
 *
 * Several collectors on PostgreSQL: only the one that led when storing began to fail tells (a
 * database outage fails them all alike, and by the time the alert is due every one of them has
 * let go of its leases, so "the leader now" would be nobody).
 */
@Injectable()
export class StorageAlerts implements OnApplicationShutdown {
  private readonly log = new Logger('StorageAlerts');
  private timer: unknown;
  private fired: StorageFailure | null = null;
  /** The last broadcast, for shutdown and tests. */
  sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly health: StorageHealth,
    private readonly channels: ChannelsService,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {
    health.onEpisode((failing) => (failing ? this.started() : this.ended()));
  }

  async onApplicationShutdown(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    await this.sending;
  }

  private started(): void {
    this.clock.clearTimeout(this.timer);
    if (!this.cluster.isLeader()) return;
    this.timer = this.clock.setTimeout(() => {
      const failing = this.health.status().failing;
      if (!failing) return;
      this.fired = failing;
      this.send(this.message('firing', failing));
    }, this.config.storageAlertAfterMs);
  }

  private ended(): void {
    this.clock.clearTimeout(this.timer);
    const fired = this.fired;
    if (!fired) return;
    this.fired = null;
    this.send({ ...this.message('resolved', fired), resolvedAt: this.clock.now() });
  }

  private message(kind: 'firing' | 'resolved', failing: StorageFailure): NotificationMessage {
    return {
      key: `storage:${failing.since}:${kind}`,
      kind,
      severity: 'critical',
      title: kind === 'firing' ? 'Rounds collector cannot store results' : 'Rounds collector stores results again',
      since: failing.since,
      reason: failing.kind,
      summary:
        kind === 'firing'
          ? (this.health.problem() ?? failing.detail)
          : `Storing works again; the results the agents kept meanwhile are being stored. The failure was: ${failing.detail}`,
      ...(this.config.publicUrl ? { url: this.config.publicUrl } : {}),
      labels: { alertname: 'RoundsCollectorStorageFailing', severity: 'critical' },
    };
  }

  private send(message: NotificationMessage): void {
    this.sending = this.sending.then(async () => {
      try {
        for (const outcome of await this.channels.broadcast(message)) {
          if (outcome.error) this.log.warn(`channel "${outcome.channel}": the ${message.kind} storage notification was not delivered: ${outcome.error}`);
        }
      } catch (e) {
        this.log.warn(`cannot send the ${message.kind} storage notification: ${(e as Error).message}`);
      }
    });
  }
}
