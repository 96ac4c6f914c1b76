import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../storage/data-source.js';
import { inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { UserEntity } from '../users/user.entity.js';
import { ApiTokenEntity } from './api-token.entity.js';

/** A token with the user it belongs to (its role and whether disabled are the user's, read with it). */
export interface OwnedToken {
  token: ApiTokenEntity;
  owner: UserEntity;
}

/** How long a token's last use may be out of date: writing it on every call would make every read a write. */
export const LAST_USED_PRECISION_MS = 60_000;

/** The api_tokens table; tokens are found by the SHA-256 of what the caller presents (the table holds nothing usable). */
@Injectable()
export class ApiTokensRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async count(): Promise<number> {
    return this.dataSource.getRepository(ApiTokenEntity).count();
  }

  async findByHash(hash: string): Promise<OwnedToken | null> {
    const token = await this.dataSource.getRepository(ApiTokenEntity).findOneBy({ hash });
    return token ? this.withOwner(token) : null;
  }

  /** By id, or by the prefix lists show (`rnd_abc123`) when exactly one token has it. */
  async findByIdOrPrefix(idOrPrefix: string): Promise<OwnedToken | 'ambiguous' | null> {
    const repository = this.dataSource.getRepository(ApiTokenEntity);
    const byId = await repository.findOneBy({ id: idOrPrefix });
    if (byId) return this.withOwner(byId);
    const byPrefix = await repository.findBy({ prefix: idOrPrefix });
    if (byPrefix.length > 1) return 'ambiguous';
    return byPrefix[0] ? this.withOwner(byPrefix[0]) : null;
  }

  /** Every token (of one user when `userId` is given), newest first, with its owner. */
  async list(userId?: string): Promise<OwnedToken[]> {
    const tokens = await this.dataSource.getRepository(ApiTokenEntity).find({ where: userId ? { userId } : {}, order: { createdAt: 'DESC' } });
    const owners = new Map((await this.dataSource.getRepository(UserEntity).find()).map((u) => [u.id, u]));
    return tokens.flatMap((token) => {
      const owner = owners.get(token.userId);
      return owner ? [{ token, owner }] : [];
    });
  }

  /** Inserts `token` (and revokes `replaces`, a rotation) with the audit rows, in one transaction. */
  async insert(token: ApiTokenEntity, audit: readonly AuditDraft[], replaces?: { id: string; at: number }): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      if (replaces) {
        const { affected } = await m
          .createQueryBuilder()
          .update(ApiTokenEntity)
          .set({ revokedAt: replaces.at })
          .where('id = :id AND revoked_at IS NULL', { id: replaces.id })
          .execute();
        // Revoked meanwhile (another rotation won): no second successor.
        if (!affected) return false;
      }
      await m.insert(ApiTokenEntity, token);
      await appendAudit(m, audit, token.createdAt);
      return true;
    });
  }

  /** Revokes `id` unless it is revoked already (false then), with the audit row. */
  async revoke(id: string, at: number, audit: readonly AuditDraft[]): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const { affected } = await m
        .createQueryBuilder()
        .update(ApiTokenEntity)
        .set({ revokedAt: at })
        .where('id = :id AND revoked_at IS NULL', { id })
        .execute();
      if (!affected) return false;
      await appendAudit(m, audit, at);
      return true;
    });
  }

  /** Notes a use, unless one was noted in the last minute. */
  async touch(id: string, at: number, address: string): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(ApiTokenEntity)
      .set({ lastUsedAt: at, lastUsedAddress: address })
      .where('id = :id AND (last_used_at IS NULL OR last_used_at <= :stale)', { id, stale: at - LAST_USED_PRECISION_MS })
      .execute();
  }

  private async withOwner(token: ApiTokenEntity): Promise<OwnedToken | null> {
    const owner = await this.dataSource.getRepository(UserEntity).findOneBy({ id: token.userId });
    return owner ? { token, owner } : null;
  }
}
