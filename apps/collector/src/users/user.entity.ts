import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

export const USER_ROLES = ['admin', 'operator', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * A person who signs in to the admin UI. Names are unique regardless of case (a unique index
 * on lower(name), see the migration): "Admin" and "admin" would otherwise be two accounts that
 * look like one in the audit log.
 */
@Entity({ name: 'users' })
export class UserEntity {
  /** crypto.randomUUID(), assigned in code so SQLite and PostgreSQL behave alike. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: UserRole;

  /** `scrypt$N$r$p$salt$hash` (users/passwords.ts); never shown, logged or audited. */
  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'must_change_password', type: 'boolean', default: false })
  mustChangePassword!: boolean;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /** The TOTP shared secret once 2FA is set up, sealed like agent tokens (storage/secret-box.ts); null without 2FA. */
  @Column({ name: 'totp_secret', type: 'text', nullable: true })
  totpSecret!: string | null;

  /** The time step of the last TOTP code accepted: that code and earlier ones are refused from then on. */
  @Column({ name: 'totp_last_step', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  totpLastStep!: number | null;

  /** JSON array of the unused backup codes' SHA-256 hashes (hex); null without 2FA. */
  @Column({ name: 'backup_codes', type: 'text', nullable: true })
  backupCodes!: string | null;

  /** Failed sign-ins in a row, for the lockout that comes with HTTP sign-in. */
  @Column({ name: 'failed_sign_ins', type: 'integer', default: 0 })
  failedSignIns!: number;

  @Column({ name: 'locked_until', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lockedUntil!: number | null;

  @Column({ name: 'last_sign_in_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastSignInAt!: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}
