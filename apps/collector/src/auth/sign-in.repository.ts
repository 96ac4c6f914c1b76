import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../storage/data-source.js';
import { inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { UserEntity } from '../users/user.entity.js';
import { LOCKOUT_AFTER, LOCKOUT_MS } from './lockouts.js';

/** The users table's sign-in bookkeeping: failures in a row, the lockout they cause, the last sign-in. */
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
}
