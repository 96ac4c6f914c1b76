import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../storage/data-source.js';
import { inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { Audited } from '../audit/audit.types.js';
import { UserEntity } from './user.entity.js';

/** The columns an operator's command changes; sign-in bookkeeping gets its own methods with HTTP sign-in. */
export type UserPatch = Partial<Pick<UserEntity, 'passwordHash' | 'mustChangePassword' | 'disabled' | 'totpSecret' | 'failedSignIns' | 'lockedUntil'>>;

@Injectable()
export class UsersRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async count(): Promise<number> {
    return this.dataSource.getRepository(UserEntity).count();
  }

  async findAll(): Promise<UserEntity[]> {
    return this.dataSource.getRepository(UserEntity).createQueryBuilder('u').orderBy('lower(u.name)', 'ASC').getMany();
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

  /** Applies `patch` to the stored user and returns the result; the audit row sees the user before and after. */
  async update(
    user: UserEntity,
    patch: UserPatch,
    now: number,
    audit: (before: UserEntity, after: UserEntity) => ReturnType<Audited<UserEntity>>,
  ): Promise<UserEntity> {
    const after: UserEntity = Object.assign(new UserEntity(), user, patch, { updatedAt: now });
    await inTransaction(this.dataSource, async (m) => {
      await m.update(UserEntity, { id: user.id }, { ...patch, updatedAt: now });
      await appendAudit(m, audit(user, after), now);
    });
    return after;
  }
}
