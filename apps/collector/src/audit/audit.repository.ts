import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../storage/data-source.js';
import { chunk, inTransaction } from '../storage/transaction.js';
import { GENESIS_HASH, rowHash, type ChainedRow } from './audit-chain.js';
import { AuditLogEntity } from './audit-log.entity.js';
import type { AuditDraft, AuditEntry, AuditSource } from './audit.types.js';

/**
 * Any fixed key: the advisory lock that serialises appenders on PostgreSQL (two transactions
 * reading the same head would otherwise both claim the next id — the primary key would then
 * fail one of them rather than fork the chain, but waiting is kinder than failing).
 */
const PG_AUDIT_LOCK = 0x726f756e; // "roun"

/** Longest user agent kept: a header is up to 8 KiB, and a row is written on every change. */
const USER_AGENT_MAX = 512;

/**
 * Appends `drafts` to the audit log inside the caller's transaction `m`, so that a change and
 * its audit row commit together or not at all. The chain's head is read under the write lock:
 * on SQLite every writer already runs alone (inTransaction's queue, and a transaction that has
 * written holds the file's write lock against other processes — callers append after their
 * change); on PostgreSQL a transaction-scoped advisory lock serialises appenders.
 */
export async function appendAudit(m: EntityManager, drafts: AuditDraft | readonly AuditDraft[], now = Date.now()): Promise<AuditLogEntity[]> {
  const list = Array.isArray(drafts) ? (drafts as readonly AuditDraft[]) : [drafts as AuditDraft];
  if (list.length === 0) return [];
  if (m.connection.options.type === 'postgres') await m.query('SELECT pg_advisory_xact_lock($1)', [PG_AUDIT_LOCK]);
  const [head] = await m.find(AuditLogEntity, { select: { id: true, hash: true }, order: { id: 'DESC' }, take: 1 });
  let id = head?.id ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const rows: AuditLogEntity[] = [];
  for (const draft of list) {
    const row: ChainedRow = {
      id: ++id,
      at: now,
      actor: draft.context.actor,
      source: draft.context.source,
      address: draft.context.address,
      userAgent: draft.context.userAgent === null ? null : draft.context.userAgent.slice(0, USER_AGENT_MAX),
      action: draft.action,
      targetKind: draft.target.kind,
      targetId: draft.target.id,
      targetName: draft.target.name,
      beforeJson: jsonOrNull(draft.before),
      afterJson: jsonOrNull(draft.after),
      prevHash,
    };
    prevHash = rowHash(row);
    rows.push(m.create(AuditLogEntity, { ...row, hash: prevHash }));
  }
  for (const part of chunk(rows, 14)) await m.insert(AuditLogEntity, part);
  return rows;
}

function jsonOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** What the list and the CSV export filter by; newest first, `before` (an id) pages back. */
export interface AuditFilter {
  from?: number;
  to?: number;
  actor?: string;
  /** An action, or a family as `channel.*`. */
  action?: string;
  /** A target's id or name. */
  target?: string;
  before?: number;
  limit: number;
  /** Rows of the filtered list to skip. */
  offset?: number;
  /** Oldest first (`?sort=at`); newest first otherwise. */
  sort?: { descending: boolean };
}

/** Reads the log and appends outside another change (the API token lives in a file, not a table). */
@Injectable()
export class AuditRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** For a change that has no transaction of its own to join. */
  async append(draft: AuditDraft): Promise<AuditEntry> {
    const [row] = await inTransaction(this.dataSource, (m) => appendAudit(m, draft));
    return entryOf(row!);
  }

  async find(filter: AuditFilter): Promise<AuditEntry[]> {
    return (await this.filtered(filter).getMany()).map(entryOf);
  }

  /** One page of the filtered rows and how many rows match in all. */
  async findPage(filter: AuditFilter): Promise<{ total: number; page: AuditEntry[] }> {
    const [rows, total] = await this.filtered(filter).getManyAndCount();
    return { total, page: rows.map(entryOf) };
  }

  private filtered(filter: AuditFilter) {
    const q = this.dataSource.getRepository(AuditLogEntity).createQueryBuilder('a');
    if (filter.from !== undefined) q.andWhere('a.at >= :from', { from: filter.from });
    if (filter.to !== undefined) q.andWhere('a.at < :to', { to: filter.to });
    if (filter.actor !== undefined) q.andWhere('a.actor = :actor', { actor: filter.actor });
    if (filter.action !== undefined) {
      if (filter.action.endsWith('.*')) q.andWhere('a.action LIKE :family', { family: `${filter.action.slice(0, -2).replace(/[\\%_]/g, '')}.%` });
      else q.andWhere('a.action = :action', { action: filter.action });
    }
    if (filter.target !== undefined) q.andWhere('(a.targetId = :target OR a.targetName = :target)', { target: filter.target });
    if (filter.before !== undefined) q.andWhere('a.id < :before', { before: filter.before });
    // take/skip rather than limit/offset: getManyAndCount counts without them.
    return q
      .orderBy('a.id', filter.sort?.descending === false ? 'ASC' : 'DESC')
      .skip(filter.offset ?? 0)
      .take(filter.limit);
  }

  /** Rows in chain order from `afterId` on, `limit` at a time (verify walks the whole log this way). */
  page(afterId: number, limit: number): Promise<AuditLogEntity[]> {
    return this.dataSource
      .getRepository(AuditLogEntity)
      .createQueryBuilder('a')
      .where('a.id > :afterId', { afterId })
      .orderBy('a.id', 'ASC')
      .limit(limit)
      .getMany();
  }
}

export function entryOf(row: AuditLogEntity): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    source: row.source as AuditSource,
    address: row.address,
    userAgent: row.userAgent,
    action: row.action,
    target: { kind: row.targetKind, id: row.targetId, name: row.targetName },
    before: parse(row.beforeJson),
    after: parse(row.afterJson),
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/** A row whose JSON was tampered into garbage is still listed (verify names it), as its text. */
function parse(json: string | null): unknown {
  if (json === null) return null;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}
