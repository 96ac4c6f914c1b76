import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './transformers.js';
import type { StatusCode } from './check-result.entity.js';

/** One row per check with its latest result: what the dashboard and /metrics read. */
@Entity({ name: 'check_state' })
export class CheckStateEntity {
  @PrimaryColumn({ name: 'check_id', type: 'varchar', length: 36 })
  checkId!: string;

  /** 3 (UNKNOWN) until the first result arrives. */
  @Column({ type: 'smallint', default: 3 })
  status!: StatusCode;

  @Column({ type: 'text', default: '' })
  reason!: string;

  @Column({ type: 'text', default: '' })
  summary!: string;

  /** `started_at` of the latest result. */
  @Column({ name: 'last_result_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastResultAt!: number | null;

  @Column({ name: 'last_ok_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastOkAt!: number | null;

  /** When `status` last took a different value. */
  @Column({ name: 'last_change_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastChangeAt!: number | null;

  /** Non-OK results in a row; the alerting rules derive soft/hard states from it. */
  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures!: number;

  @Column({ name: 'last_duration_ms', type: 'integer', nullable: true })
  lastDurationMs!: number | null;

  @Column({ name: 'last_seq', type: 'bigint', default: 0, transformer: bigintAsNumber })
  lastSeq!: number;

  @Column({ name: 'metrics_json', type: 'text', default: '[]' })
  metricsJson!: string;
}
