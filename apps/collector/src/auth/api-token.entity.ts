import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/** A user's API token. The token itself is shown once; the table keeps its SHA-256 and a short prefix to recognise it by. */
@Entity({ name: 'api_tokens' })
export class ApiTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Whose token: it acts with that user's role, and stops working when the user is disabled. */
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  /** What the person called it ("grafana", "backup script"). */
  @Column({ type: 'text' })
  name!: string;

  /** SHA-256 (hex) of the whole token. */
  @Column({ type: 'varchar', length: 64 })
  hash!: string;

  /** The token's first characters (`rnd_` and six more), shown in lists. */
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  expiresAt!: number | null;

  /** Written at most once a minute per token, not on every call. */
  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastUsedAt!: number | null;

  @Column({ name: 'last_used_address', type: 'text', nullable: true })
  lastUsedAddress!: string | null;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  revokedAt!: number | null;
}
