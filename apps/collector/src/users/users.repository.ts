import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../storage/data-source.js';
import { secretBoxOf } from '../storage/secret-box.js';
import { inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { Audited } from '../audit/audit.types.js';
import { UserEntity } from './user.entity.js';

/** The columns an operator's command changes; sign-in bookkeeping gets its own methods with HTTP sign-in. */
export type UserPatch = Partial<
  Pick<UserEntity, 'role' | 'passwordHash' | 'mustChangePassword' | 'disabled' | 'failedSignIns' | 'lockedUntil' | 'totpLastStep' | 'backupCodes'>
> & {
  /** Only ever cleared here (reset-2fa); a secret is set sealed by {@link UsersRepository.enableTwoFactor}. */
  totpSecret?: null;
};

/** How errors name a user's TOTP secret (sealed like agent tokens). */
export function totpSecretLabel(user: Pick<UserEntity, 'name'>): string {
  return `the two-factor secret of user "${user.name}"`;
}

@Injectable()
export class UsersRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async count(): Promise<number> {
    return this.dataSource.getRepository(UserEntity).count();
  }

  async findAll(): Promise<UserEntity[]> {
    return this.dataSource.getRepository(UserEntity).createQueryBuilder('u').orderBy('lower(u.name)', 'ASC').getMany();
  }

  async findById(id: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  /** Case-insensitive, like the unique index on lower(name). */
  async findByName(name: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).createQueryBuilder('u').where('lower(u.name) = lower(:name)', { name }).getOne();
  }

  /** `audit`: the audit row, appended in the same transaction. */
  async create(user: UserEntity, audit: Audited<UserEntity>): Promise<UserEntity> {
    await inTransaction(this.dataSource, async (m) => {
      await m.insert(UserEntity, user);
      await appendAudit(m, audit(user), user.createdAt);
    });
    return user;
  }

  /** The user's TOTP secret in clear, or null without two-factor sign-in. */
  totpSecretOf(user: UserEntity): string | null {
    return user.totpSecret === null ? null : secretBoxOf(this.dataSource).open(user.totpSecret, totpSecretLabel(user));
  }

  /** Seals a value with this database's key (a TOTP secret waiting in a session until the user confirms it). */
  seal(plaintext: string): string {
    return secretBoxOf(this.dataSource).seal(plaintext);
  }

  /** Opens what {@link seal} sealed; `what` names it in errors. */
  open(sealed: string, what: string): string {
    return secretBoxOf(this.dataSource).open(sealed, what);
  }

  /**
   * Sets up two-factor sign-in: the secret (sealed here), the step of the code that confirmed it
   * (so that code is spent) and the backup codes' hashes — only if the user has none yet, so two
   * browsers confirming at once cannot leave one holding a secret that is not the stored one.
   */
  async enableTwoFactor(
    user: UserEntity,
    change: { secret: string; step: number; backupCodes: string },
    now: number,
    audit: Audited<UserEntity>,
  ): Promise<boolean> {
    const totpSecret = this.seal(change.secret);
    return inTransaction(this.dataSource, async (m) => {
      const { affected } = await m
        .createQueryBuilder()
        .update(UserEntity)
        .set({ totpSecret, totpLastStep: change.step, backupCodes: change.backupCodes, updatedAt: now })
        .where('id = :id AND totp_secret IS NULL', { id: user.id })
        .execute();
      if (!affected) return false;
      await appendAudit(m, audit(Object.assign(new UserEntity(), user, { totpSecret, totpLastStep: change.step, backupCodes: change.backupCodes })), now);
      return true;
    });
  }

  /**
   * Spends the TOTP time step `step`: true when no code of this step or a later one was accepted
   * before. One conditional UPDATE, so two requests with the same code cannot both pass.
   */
  async acceptTotpStep(userId: string, step: number): Promise<boolean> {
    const { affected } = await this.dataSource
      .createQueryBuilder()
      .update(UserEntity)
      .set({ totpLastStep: step })
      .where('id = :id AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < :step)', { id: userId, step })
      .execute();
    return (affected ?? 0) > 0;
  }

  /**
   * Replaces the stored backup codes if they are still `expected` (compare-and-set): spending a
   * code twice at once, one of the two finds the list changed and fails.
   */
  async replaceBackupCodes(user: UserEntity, expected: string | null, next: string, now: number, audit: Audited<UserEntity>): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const query = m
        .createQueryBuilder()
        .update(UserEntity)
        .set({ backupCodes: next, updatedAt: now })
        .where('id = :id AND totp_secret IS NOT NULL', { id: user.id });
      const { affected } = await (
        expected === null ? query.andWhere('backup_codes IS NULL') : query.andWhere('backup_codes = :expected', { expected })
      ).execute();
      if (!affected) return false;
      await appendAudit(m, audit(Object.assign(new UserEntity(), user, { backupCodes: next })), now);
      return true;
    });
  }

  /** Applies `patch` to the stored user and returns the result; the audit row sees the user before and after. */
  async update(
    user: UserEntity,
    patch: UserPatch,
    now: number,
    audit: (before: UserEntity, after: UserEntity) => ReturnType<Audited<UserEntity>>,
    options: { endSessions?: boolean } = {},
  ): Promise<UserEntity> {
    const after: UserEntity = Object.assign(new UserEntity(), user, patch, { updatedAt: now });
    await inTransaction(this.dataSource, async (m) => {
      await m.update(UserEntity, { id: user.id }, { ...patch, updatedAt: now });
      // A reset or a disabled account signs the user out everywhere, in the same transaction (sessions: auth/session.entity.ts).
      if (options.endSessions) await m.createQueryBuilder().delete().from('sessions').where('user_id = :id', { id: user.id }).execute();
      await appendAudit(m, audit(user, after), now);
    });
    return after;
  }
}
