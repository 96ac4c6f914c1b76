import { Inject, Injectable } from '@nestjs/common';
import { DataSource, LessThan } from 'typeorm';
import { DATA_SOURCE } from '../storage/data-source.js';
import { inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { UserEntity } from '../users/user.entity.js';
import { SessionEntity } from './session.entity.js';

/** Sessions, always looked up by the SHA-256 of the cookie's value (the table holds nothing a browser could present). */
@Injectable()
export class SessionsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** The session and its user in one read: every request needs both (the user's current role, whether disabled). */
  async findWithUser(id: string): Promise<{ session: SessionEntity; user: UserEntity } | null> {
    const session = await this.dataSource.getRepository(SessionEntity).findOneBy({ id });
    if (!session) return null;
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: session.userId });
    return user ? { session, user } : null;
  }

  async listForUser(userId: string): Promise<SessionEntity[]> {
    return this.dataSource.getRepository(SessionEntity).find({ where: { userId }, order: { lastSeenAt: 'DESC' } });
  }

  /** Inserts `session`, first deleting `replaces` (a step up keeps nothing of the old id), with the audit rows, in one transaction. */
  async insert(session: SessionEntity, audit: readonly AuditDraft[] = [], replaces?: string): Promise<void> {
    await inTransaction(this.dataSource, async (m) => {
      if (replaces !== undefined) await m.delete(SessionEntity, { id: replaces });
      await m.insert(SessionEntity, session);
      await appendAudit(m, audit, session.lastSeenAt);
    });
  }

  async touch(id: string, now: number): Promise<void> {
    await inTransaction(this.dataSource, (m) => m.update(SessionEntity, { id }, { lastSeenAt: now }));
  }

  async setPendingTotpSecret(id: string, sealed: string | null): Promise<void> {
    await inTransaction(this.dataSource, (m) => m.update(SessionEntity, { id }, { pendingTotpSecret: sealed }));
  }

  /** Deletes the given sessions of `userId` (all of them without `ids`, but `keep`), with the audit rows; returns how many went. */
  async delete(userId: string, options: { ids?: readonly string[]; keep?: string }, audit: readonly AuditDraft[] = [], now = Date.now()): Promise<number> {
    return inTransaction(this.dataSource, async (m) => {
      const qb = m.createQueryBuilder().delete().from(SessionEntity).where('user_id = :userId', { userId });
      if (options.ids) qb.andWhere('id IN (:...ids)', { ids: options.ids.length > 0 ? options.ids : [''] });
      if (options.keep !== undefined) qb.andWhere('id <> :keep', { keep: options.keep });
      const { affected } = await qb.execute();
      if ((affected ?? 0) > 0) await appendAudit(m, audit, now);
      return affected ?? 0;
    });
  }

  /** Removes sessions past their absolute expiry or idle since before `idleBefore`. */
  async deleteExpired(now: number, idleBefore: number): Promise<number> {
    return inTransaction(this.dataSource, async (m) => {
      const absolute = await m.delete(SessionEntity, { expiresAt: LessThan(now) });
      const idle = await m.delete(SessionEntity, { lastSeenAt: LessThan(idleBefore) });
      return (absolute.affected ?? 0) + (idle.affected ?? 0);
    });
  }
}
