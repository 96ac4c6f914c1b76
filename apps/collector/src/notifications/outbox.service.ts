import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { NotificationChannelEntity, NotificationOutboxEntity } from '../storage/entities/index.js';
import { ChannelsRepository } from './channels.repository.js';
import { OutboxRepository } from './outbox.repository.js';
import { CLOCK } from '../shared/tokens.js';
import { CHANNEL_JSON_SCHEMAS, scrubSecrets, secretValues, validateChannelConfig, type ChannelConfig } from './channel-config.js';
import { formatDuration, NOTIFICATION_KINDS, type NotificationMessage } from './message.js';
import { NotifierError } from './notifier.js';
import { Notifiers } from './notifiers.js';
import { storageFault } from '../storage/storage-fault.js';
import { DueLoop } from '../shared/due-loop.js';

export const OUTBOX_OPTIONS = Symbol('OUTBOX_OPTIONS');

export interface OutboxOptions {
  /** Rows taken per round. */
  batch: number;
  /** Deadline of one send. */
  sendTimeoutMs: number;
  /** How long a taken row is reserved; a crash mid-send retries it after this. Must exceed sendTimeoutMs. */
  leaseMs: number;
  /** First retry delay, doubled per failed attempt up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Attempts before a notification is given up on ("dead"). */
  maxAttempts: number;
  /** Longest sleep of the loop when nothing is due (enqueue wakes it at once). */
  idlePollMs: number;
  /** How long sent and dead rows are kept (their keys keep enqueue idempotent meanwhile). */
  retentionMs: number;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = Object.freeze({
  batch: 50,
  sendTimeoutMs: 30_000,
  leaseMs: 120_000,
  baseBackoffMs: 30_000,
  maxBackoffMs: 3_600_000,
  // 30 s, 1, 2, 4, 8, 16, 32 min, then hourly: about 13 hours of trying.
  maxAttempts: 20,
  idlePollMs: 60_000,
  retentionMs: 30 * 86_400_000,
});

const PRUNE_EVERY_MS = 3_600_000;

/** Delay before the next attempt after `failures` failed ones: 30 s, 1 min, 2 min, … capped at 1 h. */
export function backoffMs(failures: number, options: Pick<OutboxOptions, 'baseBackoffMs' | 'maxBackoffMs'> = DEFAULT_OUTBOX_OPTIONS): number {
  return Math.min(options.maxBackoffMs, options.baseBackoffMs * 2 ** Math.max(0, failures - 1));
}

export interface DeliveryReport {
  claimed: number;
  sent: number;
  /** Failed and scheduled for a retry. */
  retrying: number;
  /** Failed for the last time. */
  dead: number;
  /** Not attempted: channel disabled, unreadable payload. */
  dropped: number;
}

/**
 * The persisted outbox: every notification is stored (one row per channel, unique key)
 * before anything is sent, and delivered by one loop with retries and exponential backoff.
 * A restart between enqueue and delivery delivers it after the restart; enqueueing the same
 * notification again stores nothing. Delivery is at least once: a crash after the peer
 * accepted a message but before the row was marked sent repeats it, with the same key
 * (webhook `X-Rounds-Key`, mail Message-ID, the same Alertmanager labels) for the receiver
 * to drop.
 */
@Injectable()
export class OutboxService {
  private readonly log = new Logger('Outbox');
  private readonly options: OutboxOptions;
  private readonly loop: DueLoop;
  private lastPruneAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly channels: ChannelsRepository,
    private readonly notifiers: Notifiers,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(OUTBOX_OPTIONS) options?: Partial<OutboxOptions>,
  ) {
    this.options = { ...DEFAULT_OUTBOX_OPTIONS, ...(options ?? {}) };
    this.loop = new DueLoop(clock, () => this.round());
  }

  /**
   * Stores the notification for the given channels (default: every enabled channel) and
   * wakes the loop. Idempotent per `message.key`; returns the outbox keys that were new.
   */
  async enqueue(message: NotificationMessage, channelIds?: readonly string[]): Promise<string[]> {
    const targets = channelIds ?? (await this.channels.findAll({ enabled: true })).map((c) => c.id);
    const fresh = await this.outbox.enqueue(
      targets.map((channelId) => ({ key: outboxKey(message.key, channelId), channelId, payload: message })),
      this.clock.now(),
    );
    if (fresh.length > 0) this.kick();
    return fresh;
  }

  /** One round: takes the due rows and tries each once. The loop calls it; tests call it directly. */
  async deliverDue(): Promise<DeliveryReport> {
    const report: DeliveryReport = { claimed: 0, sent: 0, retrying: 0, dead: 0, dropped: 0 };
    const rows = await this.outbox.claimDue(this.clock.now(), this.options.batch, this.options.leaseMs);
    report.claimed = rows.length;
    const byChannel = new Map<string, NotificationOutboxEntity[]>();
    for (const row of rows) byChannel.set(row.channelId, [...(byChannel.get(row.channelId) ?? []), row]);
    // Channels in parallel (one slow relay must not hold up Telegram); each channel in order.
    await Promise.all(
      [...byChannel].map(async ([channelId, channelRows]) => {
        const channel = await this.channels.findById(channelId);
        await this.deliverToChannel(channel, channelRows, report);
      }),
    );
    return report;
  }

  private async deliverToChannel(channel: NotificationChannelEntity | null, rows: NotificationOutboxEntity[], report: DeliveryReport): Promise<void> {
    if (!channel) return; // deleted meanwhile: its rows went with it
    if (!channel.enabled) {
      for (const row of rows) {
        await this.outbox.record(row, { status: 'dropped', error: 'not sent: the channel was disabled before delivery' }, this.clock.now());
        report.dropped++;
      }
      return;
    }
    const parsedConfig = parseStoredConfig(channel);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const message = parsePayload(row.payloadJson);
      if (!message) {
        await this.outbox.record(row, { status: 'dropped', error: 'not sent: the stored notification is unreadable' }, this.clock.now());
        report.dropped++;
        continue;
      }
      let failure: { error: string; retryAfterMs?: number } | undefined;
      if ('error' in parsedConfig) {
        failure = { error: parsedConfig.error };
      } else {
        try {
          await this.notifiers.send(parsedConfig.channel, message, AbortSignal.timeout(this.options.sendTimeoutMs));
        } catch (e) {
          failure = {
            error: scrubSecrets(e instanceof Error ? e.message : String(e), parsedConfig.secrets),
            retryAfterMs: e instanceof NotifierError ? e.retryAfterMs : undefined,
          };
        }
      }
      if (!failure) {
        if (!(await this.outbox.record(row, { status: 'sent' }, this.clock.now()))) {
          this.log.warn(
            `notification ${row.key} was sent after its claim ran out (${formatDuration(this.options.leaseMs)}): another collector may send it again`,
          );
        }
        report.sent++;
        continue;
      }
      // What failed for one failed for the rows behind it too (a channel fails as a whole,
      // and order must hold): they age together rather than overtake it.
      for (const behind of rows.slice(i)) await this.fail(channel, behind, failure, report);
      return;
    }
  }

  private async fail(
    channel: NotificationChannelEntity,
    row: NotificationOutboxEntity,
    failure: { error: string; retryAfterMs?: number },
    report: DeliveryReport,
  ): Promise<void> {
    const now = this.clock.now();
    const attempts = row.attempts + 1;
    if (attempts >= this.options.maxAttempts) {
      await this.outbox.record(row, { status: 'dead', error: failure.error, nextAttemptAt: now }, now);
      report.dead++;
      this.log.error(`channel "${channel.name}" (${channel.type}): gave up on notification ${row.key} after ${attempts} attempts: ${failure.error}`);
      return;
    }
    const delay = Math.max(backoffMs(attempts, this.options), failure.retryAfterMs ?? 0);
    await this.outbox.record(row, { status: 'pending', error: failure.error, nextAttemptAt: now + delay }, now);
    report.retrying++;
    this.log.warn(
      `channel "${channel.name}" (${channel.type}): notification ${row.key} not delivered (attempt ${attempts} of ${this.options.maxAttempts}), retrying in ${formatDuration(delay)}: ${failure.error}`,
    );
  }

  /** Starts the delivery loop (at once: rows left from before a restart go out first). */
  start(): void {
    this.loop.start();
  }

  /** Stops the loop, waiting for a round in progress. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Something was enqueued: deliver now rather than at the next scheduled round. */
  kick(): void {
    this.loop.kick();
  }

  /** Delivers what is due; answers how long to sleep before the next round. */
  private async round(): Promise<number> {
    let next = this.options.idlePollMs;
    try {
      for (;;) {
        const report = await this.deliverDue();
        if (report.claimed < this.options.batch || !this.loop.active) break;
      }
      const now = this.clock.now();
      if (now - this.lastPruneAt >= PRUNE_EVERY_MS) {
        this.lastPruneAt = now;
        await this.outbox.prune(now - this.options.retentionMs);
      }
      const due = await this.outbox.nextDueAt();
      if (due !== null) next = Math.min(this.options.idlePollMs, Math.max(0, due - this.clock.now()));
    } catch (e) {
      // A failing database is reported once per episode by StorageHealth, not every round.
      if (!storageFault(e))
        this.log.error(
          `notification delivery round failed (retrying in ${formatDuration(this.options.baseBackoffMs)}): ${e instanceof Error ? e.message : String(e)}`,
        );
      next = this.options.baseBackoffMs;
    }
    return next;
  }
}

/** One outbox row per notification and channel. */
export function outboxKey(notificationKey: string, channelId: string): string {
  return `${notificationKey}@${channelId}`;
}

function parseStoredConfig(channel: NotificationChannelEntity): { channel: ChannelConfig; secrets: string[] } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(channel.configJson);
  } catch {
    return { error: 'the stored channel config is unreadable — save the channel again' };
  }
  const secrets = secretValues(CHANNEL_JSON_SCHEMAS[channel.type], raw);
  const v = validateChannelConfig(channel.type, raw);
  if (!v.ok) return { error: `the channel config is invalid (${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}) — fix it on the channel` };
  return { channel: v.value, secrets };
}

function parsePayload(json: string): NotificationMessage | undefined {
  try {
    const m = JSON.parse(json) as NotificationMessage;
    if (typeof m?.key !== 'string' || !NOTIFICATION_KINDS.includes(m.kind) || typeof m.since !== 'number') return undefined;
    return { ...m, labels: m.labels ?? {} };
  } catch {
    return undefined;
  }
}
