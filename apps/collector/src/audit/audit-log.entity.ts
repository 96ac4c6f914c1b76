import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/**
 * One change in the audit log. Append-only: rows are inserted by `appendAudit` and never
 * updated or deleted (the database refuses both, see the migration). `id` is the row's
 * position in the chain, assigned by the appender (the head's id + 1), so the ids have no
 * gaps and a missing id is a deleted row; `hash` covers the row and `prev_hash` (see audit-chain.ts).
 */
@Entity({ name: 'audit_log' })
export class AuditLogEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Index('idx_audit_log_at')
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  at!: number;

  @Column({ type: 'text' })
  actor!: string;

  @Column({ type: 'varchar', length: 16 })
  source!: string;

  @Column({ type: 'text', nullable: true })
  address!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Index('idx_audit_log_action')
  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ name: 'target_kind', type: 'varchar', length: 32 })
  targetKind!: string;

  @Index('idx_audit_log_target_id')
  @Column({ name: 'target_id', type: 'text', nullable: true })
  targetId!: string | null;

  @Column({ name: 'target_name', type: 'text', nullable: true })
  targetName!: string | null;

  /** JSON text, secrets redacted; null when there was nothing before (a create). Hashed as stored. */
  @Column({ name: 'before_json', type: 'text', nullable: true })
  beforeJson!: string | null;

  /** JSON text, secrets redacted; null when nothing is left (a delete). Hashed as stored. */
  @Column({ name: 'after_json', type: 'text', nullable: true })
  afterJson!: string | null;

  @Column({ name: 'prev_hash', type: 'varchar', length: 64 })
  prevHash!: string;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}
