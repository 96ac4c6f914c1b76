import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './transformers.js';

export const CHANNEL_TYPES = ['smtp', 'telegram', 'webhook', 'alertmanager'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Where notifications go: one transport and its validated config. */
@Entity({ name: 'notification_channels' })
export class NotificationChannelEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: ChannelType;

  /**
   * The config as validated against the type's schema. Its secret fields (SMTP password, bot
   * token, webhook URL, HMAC secret, …) are sealed in place (`enc:v1:…`) by ChannelsRepository
   * and opened on read (notifications/channel-secrets.ts): the collector must present them on
   * every send. Every API response, page and log line shows them redacted.
   */
  @Column({ name: 'config_json', type: 'text' })
  configJson!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  /** Last delivery or test failure, secrets scrubbed; cleared by the next success. */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'last_success_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastSuccessAt!: number | null;

  /** First failure since the last success; set means the channel is shown as failing. */
  @Column({ name: 'failing_since', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  failingSince!: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}
