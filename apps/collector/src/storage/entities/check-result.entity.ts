import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './transformers.js';

/** Nagios semantics: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export type StatusCode = 0 | 1 | 2 | 3;

@Entity({ name: 'check_results' })
@Index('idx_check_results_check_started', ['checkId', 'startedAt'])
export class CheckResultEntity {
  /** INTEGER (rowid alias) on SQLite, BIGSERIAL on PostgreSQL: raw results outgrow int4 in months. */
  @PrimaryColumn({ type: 'bigint', generated: 'increment', transformer: bigintAsNumber })
  id!: number;

  @Column({ name: 'check_id', type: 'varchar', length: 36 })
  checkId!: string;

  /** Denormalised from the check so per-agent queries and rollups need no join. */
  @Column({ name: 'agent_id', type: 'varchar', length: 36 })
  agentId!: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ name: 'started_at', type: 'bigint', transformer: bigintAsNumber })
  startedAt!: number;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  @Column({ type: 'smallint' })
  status!: StatusCode;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'text' })
  summary!: string;

  /** `[{name, value, unit, labels?}]` as JSON. */
  @Column({ name: 'metrics_json', type: 'text' })
  metricsJson!: string;
}
