import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/**
 * Where a session stands: `password` must change its password first, `two-factor` has passed the
 * password and owes a TOTP or backup code, `enrol` must set up two-factor (its role requires it),
 * `full` is signed in. Each step up gets a new session id.
 */
export const SESSION_STAGES = ['password', 'two-factor', 'enrol', 'full'] as const;
export type SessionStage = (typeof SESSION_STAGES)[number];

/** A browser's sign-in, kept server-side. The cookie holds a random id; the table only its SHA-256. */
@Entity({ name: 'sessions' })
export class SessionEntity {
  /** SHA-256 (hex) of the cookie's value. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'varchar', length: 16 })
  stage!: SessionStage;

  /** The synchronizer token every state-changing request of this session must carry. */
  @Column({ name: 'csrf_token', type: 'varchar', length: 64 })
  csrfToken!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  /** Idle expiry counts from here; written at most once a minute, not on every request. */
  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintAsNumber })
  lastSeenAt!: number;

  /** Absolute expiry: created + 12 h, whatever the activity. */
  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintAsNumber })
  expiresAt!: number;

  @Column({ type: 'text', nullable: true })
  address!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  /** A TOTP secret being enrolled (sealed), until the user confirms it with a code. */
  @Column({ name: 'pending_totp_secret', type: 'text', nullable: true })
  pendingTotpSecret!: string | null;
}
