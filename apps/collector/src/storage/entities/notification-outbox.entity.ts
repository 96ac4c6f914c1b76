import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './transformers.js';

export const OUTBOX_STATUSES = ['pending', 'sent', 'dead'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** One notification for one channel, kept until delivered (or given up on). */
@Entity({ name: 'notification_outbox' })
@Index('idx_notification_outbox_due', ['status', 'nextAttemptAt'])
export class NotificationOutboxEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Notification key + channel: enqueueing the same notification twice stores it once. */
  @Column({ type: 'text', unique: true })
  key!: string;

  @Index('idx_notification_outbox_channel')
  @Column({ name: 'channel_id', type: 'varchar', length: 36 })
  channelId!: string;

  /** The NotificationMessage as JSON (never contains channel secrets). */
  @Column({ name: 'payload_json', type: 'text' })
  payloadJson!: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: OutboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'bigint', transformer: bigintAsNumber })
  nextAttemptAt!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'sent_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  sentAt!: number | null;
}
