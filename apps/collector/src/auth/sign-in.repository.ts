import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../storage/data-source.js';
import { forUpdate, inTransaction, isPostgres } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { UserEntity } from '../users/user.entity.js';
import { afterFailure, FORGET_AFTER_MS, LOCKOUT_AFTER, LOCKOUT_MS } from './lockouts.js';
import { SignInLockoutEntity } from './sign-in-lockout.entity.js';

/**
 * Sign-in bookkeeping: failures in a row and the lockout they cause — in the users table for
 * known accounts, in sign_in_lockouts for addresses and unknown names — and the last sign-in.
 */
@Injectable()
export class SignInRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async findUser(id: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  /**
   * Counts a failure for `userId` (an increment in SQL, so concurrent failures all count); at
   * LOCKOUT_AFTER the account is locked and the count starts again. Returns the lock's end when
   * this failure locked it, else 0. `audit(lockedUntil)` gives the rows to append with it.
   */
  async recordFailure(userId: string, now: number, audit: (lockedUntil: number) => AuditDraft[]): Promise<number> {
    return inTransaction(this.dataSource, async (m) => {
      await m
        .createQueryBuilder()
        .update(UserEntity)
        .set({ failedSignIns: () => 'failed_sign_ins + 1' })
        .where('id = :userId', { userId })
        .execute();
      const row = await m.findOneBy(UserEntity, { id: userId });
      let lockedUntil = 0;
      if (row && row.failedSignIns >= LOCKOUT_AFTER) {
        lockedUntil = now + LOCKOUT_MS;
        await m.update(UserEntity, { id: userId }, { failedSignIns: 0, lockedUntil });
      }
      await appendAudit(m, audit(lockedUntil), now);
      return lockedUntil;
    });
  }

  /** Audit rows that belong to no user row (a made-up name's failures). */
  async audit(drafts: readonly AuditDraft[], now: number): Promise<void> {
    await inTransaction(this.dataSource, (m) => appendAudit(m, drafts, now));
  }

  async recordSuccess(userId: string, now: number): Promise<void> {
    await inTransaction(this.dataSource, (m) => m.update(UserEntity, { id: userId }, { failedSignIns: 0, lockedUntil: null, lastSignInAt: now }));
  }

  /** Until when `key` (see SignInLockoutEntity) is locked, or 0. */
  async lockedUntil(key: string, now: number): Promise<number> {
    const row = await this.dataSource.getRepository(SignInLockoutEntity).findOneBy({ key });
    return row && row.lockedUntil > now ? row.lockedUntil : 0;
  }

  /**
   * Counts a failure for `key` under its row's lock, so that failures seen by different
   * collectors at once all count; returns the lock's end when this failure locked it, else 0.
   * Forgets other keys' old failures on the way: a flood of made-up names cannot grow the table
   * beyond what arrives within FORGET_AFTER_MS.
   */
  async countFailure(key: string, now: number): Promise<number> {
    return inTransaction(this.dataSource, async (m) => {
      await m.createQueryBuilder().insert().into(SignInLockoutEntity).values({ key, failures: 0, lastFailureAt: now, lockedUntil: 0 }).orIgnore().execute();
      const stored = await forUpdate(this.dataSource, m.createQueryBuilder(SignInLockoutEntity, 'l').where('l.key = :key', { key })).getOneOrFail();
      const next = afterFailure(stored, now);
      await m.update(SignInLockoutEntity, { key }, next);
      // SKIP LOCKED: rows another failure holds are left for later, so two failures never wait on each other here.
      const stale = isPostgres(this.dataSource)
        ? 'DELETE FROM sign_in_lockouts WHERE key IN (SELECT key FROM sign_in_lockouts WHERE last_failure_at < $1 AND locked_until < $2 LIMIT 1000 FOR UPDATE SKIP LOCKED)'
        : 'DELETE FROM sign_in_lockouts WHERE last_failure_at < ? AND locked_until < ?';
      await m.query(stale, [now - FORGET_AFTER_MS, now]);
      return next.failures === 0 ? next.lockedUntil : 0;
    });
  }

  /** A successful sign-in from an address forgets its failures. */
  async clearFailures(key: string): Promise<void> {
    await inTransaction(this.dataSource, (m) => m.delete(SignInLockoutEntity, { key }));
  }
}
