import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Brackets, DataSource, In, LessThan, type EntityManager } from 'typeorm';
import { NotificationChannelEntity, NotificationOutboxEntity, type OutboxStatus } from '../storage/entities/index.js';
import { recordChannelOutcome } from './channels.repository.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { chunk, forUpdate, inTransaction, isPostgres } from '../storage/transaction.js';

export interface NewOutboxRow {
  /** Unique: a row with this key already present makes the insert a no-op. */
  key: string;
  channelId: string;
  payload: unknown;
}

/** What became of one attempt at a row. */
export type DeliveryOutcome =
  | { status: 'sent' }
  | { status: 'pending' | 'dead'; error: string; nextAttemptAt: number }
  /** Not attempted (a channel disabled meanwhile, an unreadable payload): the channel's state is not touched. */
  | { status: 'dropped'; error: string };

export interface OutboxCount {
  channelId: string;
  status: OutboxStatus;
  count: number;
}

let lastMs = 0;
let sequence = 0;

/**
 * A UUIDv7 (48-bit milliseconds, then a 12-bit counter) that sorts in insertion order within
 * this process, even for rows enqueued in the same millisecond: the tie-breaker that keeps
 * notifications to one channel in order.
 */
export function orderedId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs++;
    sequence = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * {@link OutboxRepository.enqueue} inside the caller's transaction, so that what decided to
 * notify (the alert engine's state) and the notification commit together or not at all.
 */
export async function enqueueOutboxRows(m: EntityManager, rows: readonly NewOutboxRow[], now: number): Promise<string[]> {
  if (rows.length === 0) return [];
  const channelIds = [...new Set(rows.map((r) => r.channelId))];
  const existing = new Set((await m.find(NotificationChannelEntity, { where: { id: In(channelIds) }, select: { id: true } })).map((c) => c.id));
  const keys = rows.map((r) => r.key);
  const before = new Set<string>();
  for (const part of chunk(keys, 1)) {
    for (const r of await m.find(NotificationOutboxEntity, { where: { key: In(part) }, select: { key: true } })) before.add(r.key);
  }
  const fresh = rows.filter((r) => existing.has(r.channelId) && !before.has(r.key));
  const values = fresh.map((r) => ({
    id: orderedId(),
    key: r.key,
    channelId: r.channelId,
    payloadJson: JSON.stringify(r.payload),
    status: 'pending' as const,
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
    createdAt: now,
    sentAt: null,
  }));
  // ON CONFLICT still guards against a concurrent enqueue on PostgreSQL.
  for (const part of chunk(values, 10)) {
    await m.createQueryBuilder().insert().into(NotificationOutboxEntity).values(part).orIgnore().execute();
  }
  return fresh.map((r) => r.key);
}

/** Any fixed key, apart from the audit log's: the advisory lock claims take turns on (PostgreSQL). */
const PG_OUTBOX_CLAIM_LOCK = 0x6f757462; // "outb"

@Injectable()
export class OutboxRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /**
   * Inserts the rows whose key is new (INSERT … ON CONFLICT DO NOTHING on both databases),
   * skipping channels deleted meanwhile. Returns the keys that were new.
   */
  async enqueue(rows: readonly NewOutboxRow[], now: number): Promise<string[]> {
    if (rows.length === 0) return [];
    return inTransaction(this.dataSource, (m) => enqueueOutboxRows(m, rows, now));
  }

  /**
   * Takes up to `limit` due rows and leases them for `leaseMs` (pushes next_attempt_at), so
   * that a second deliverer does not take them and a crash mid-send retries after the lease.
   * Per channel, rows come in enqueue order and never overtake an older pending row that is
   * waiting for its retry: a receiver never sees "resolved" before the "firing" it ends.
   */
  async claimDue(now: number, limit: number, leaseMs: number): Promise<NotificationOutboxEntity[]> {
    return inTransaction(this.dataSource, async (m) => {
      // Several collectors deliver from one PostgreSQL (docs/scaling.md). Row locks alone keep a
      // row from being claimed twice, but not the order: a second claimer's snapshot would still
      // see a "firing" another claimed a moment ago as due, and take the "resolved" behind it.
      // Claims are short, so they take turns; after the lock each statement sees the claims
      // committed before it (READ COMMITTED). SQLite's writers take turns anyway.
      if (isPostgres(this.dataSource)) await m.query('SELECT pg_advisory_xact_lock($1)', [PG_OUTBOX_CLAIM_LOCK]);
      const query = m
        .createQueryBuilder(NotificationOutboxEntity, 'o')
        .where('o.status = :pending', { pending: 'pending' })
        .andWhere('o.nextAttemptAt <= :now', { now })
        .andWhere(
          new Brackets((w) =>
            w.where(
              `NOT EXISTS (SELECT 1 FROM notification_outbox p WHERE p.channel_id = o.channel_id AND p.status = 'pending'
                 AND p.next_attempt_at > :now AND (p.created_at < o.created_at OR (p.created_at = o.created_at AND p.id < o.id)))`,
            ),
          ),
        )
        .orderBy('o.createdAt', 'ASC')
        .addOrderBy('o.id', 'ASC')
        .limit(limit);
      const rows = await forUpdate(this.dataSource, query).getMany();
      if (rows.length === 0) return [];
      const until = now + leaseMs;
      for (const part of chunk(rows, 1)) {
        await m.update(NotificationOutboxEntity, { id: In(part.map((r) => r.id)) }, { nextAttemptAt: until });
      }
      // The claim as stored: record() writes an outcome only while the row still carries it.
      for (const row of rows) row.nextAttemptAt = until;
      return rows;
    });
  }

  /**
   * Stores the outcome of an attempt and the channel's state in one transaction — only while the
   * row still carries this claim (`row` as claimDue returned it): a deliverer that outlived its
   * claim (stalled past the lease, and another collector claimed the row again) must not write
   * over the other's outcome. Returns whether it wrote.
   */
  async record(row: NotificationOutboxEntity, outcome: DeliveryOutcome, now: number): Promise<boolean> {
    return inTransaction(this.dataSource, async (m) => {
      const claimed = { id: row.id, status: 'pending' as const, nextAttemptAt: row.nextAttemptAt };
      switch (outcome.status) {
        case 'sent': {
          const { affected } = await m.update(NotificationOutboxEntity, claimed, { status: 'sent', attempts: row.attempts + 1, sentAt: now, lastError: null });
          if (affected) await recordChannelOutcome(m, row.channelId, null, now);
          return Boolean(affected);
        }
        case 'pending':
        case 'dead': {
          const { affected } = await m.update(NotificationOutboxEntity, claimed, {
            status: outcome.status,
            attempts: row.attempts + 1,
            nextAttemptAt: outcome.nextAttemptAt,
            lastError: outcome.error,
          });
          if (affected) await recordChannelOutcome(m, row.channelId, outcome.error, now);
          return Boolean(affected);
        }
        case 'dropped':
          return Boolean((await m.update(NotificationOutboxEntity, claimed, { status: 'dead', lastError: outcome.error })).affected);
      }
    });
  }

  /**
   * When the next claim may take something, or null when nothing is pending: the earliest
   * next_attempt_at of a channel's oldest pending row. Rows queued behind one that waits for its
   * retry (or is leased to another collector) are due but cannot go before it; counting them woke
   * the delivery loop at once, over and over, for as long as a channel was down.
   */
  async nextDueAt(): Promise<number | null> {
    const row = await this.dataSource
      .getRepository(NotificationOutboxEntity)
      .createQueryBuilder('o')
      .select('MIN(o.nextAttemptAt)', 'next')
      .where('o.status = :pending', { pending: 'pending' })
      .andWhere(
        `NOT EXISTS (SELECT 1 FROM notification_outbox p WHERE p.channel_id = o.channel_id AND p.status = 'pending'
           AND (p.created_at < o.created_at OR (p.created_at = o.created_at AND p.id < o.id)))`,
      )
      .getRawOne<{ next: string | number | null }>();
    return row?.next === null || row?.next === undefined ? null : Number(row.next);
  }

  /** Rows per channel and status (for "3 pending, 1 dead" next to a channel). */
  async counts(): Promise<OutboxCount[]> {
    const rows = await this.dataSource
      .getRepository(NotificationOutboxEntity)
      .createQueryBuilder('o')
      .select('o.channelId', 'channelId')
      .addSelect('o.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .groupBy('o.channelId')
      .addGroupBy('o.status')
      .getRawMany<{ channelId: string; status: OutboxStatus; count: string | number }>();
    return rows.map((r) => ({ channelId: r.channelId, status: r.status, count: Number(r.count) }));
  }

  /**
   * One page of a channel's rows (with `status`; with `alert`, those about the alert with that
   * fingerprint) and how many there are. Read through the channel's index.
   */
  async page(
    channelId: string,
    page: { status?: OutboxStatus | undefined; alert?: string | undefined; oldestFirst: boolean; offset: number; limit: number },
  ): Promise<{ total: number; page: NotificationOutboxEntity[] }> {
    const q = this.dataSource.getRepository(NotificationOutboxEntity).createQueryBuilder('o').where('o.channelId = :channelId', { channelId });
    if (page.status !== undefined) q.andWhere('o.status = :status', { status: page.status });
    // An alert's notification keys start with its fingerprint (alerts.ts notify); the outbox key adds `@<channel>`.
    if (page.alert !== undefined) q.andWhere('substr(o.key, 1, :prefixLength) = :prefix', { prefix: `${page.alert}/`, prefixLength: page.alert.length + 1 });
    const order = page.oldestFirst ? 'ASC' : 'DESC';
    const [rows, total] = await q.orderBy('o.createdAt', order).addOrderBy('o.id', order).skip(page.offset).take(page.limit).getManyAndCount();
    return { total, page: rows };
  }

  findByKey(key: string): Promise<NotificationOutboxEntity | null> {
    return this.dataSource.getRepository(NotificationOutboxEntity).findOneBy({ key });
  }

  /** Forgets delivered and abandoned rows created before `before`; pending rows stay. */
  async prune(before: number): Promise<number> {
    const result = await inTransaction(this.dataSource, (m) =>
      m.delete(NotificationOutboxEntity, { status: In(['sent', 'dead']), createdAt: LessThan(before) }),
    );
    return result.affected ?? 0;
  }
}
