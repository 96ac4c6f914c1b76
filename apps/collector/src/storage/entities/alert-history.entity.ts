import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from './transformers.js';

/**
 * One line of alert history, append-only: every transition of every alert, who
 * acknowledged what, and each notification sent or held back (and why).
 */
@Entity({ name: 'alert_history' })
@Index('idx_alert_history_fingerprint', ['fingerprint', 'at'])
export class AlertHistoryEntity {
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Index('idx_alert_history_at')
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  at!: number;

  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  @Column({ name: 'alert_name', type: 'text' })
  alertName!: string;

  /** A history event of the engine (`firing`, `acknowledged`, …), or `notified` / `muted` for notifications. */
  @Column({ type: 'varchar', length: 32 })
  transition!: string;

  @Column({ type: 'text', nullable: true })
  by!: string | null;

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  /** Labels, severity, detail, notification key and mute reasons: whatever the line carries. */
  @Column({ name: 'details_json', type: 'text' })
  detailsJson!: string;
}
