import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, LessThan, type FindOptionsWhere } from 'typeorm';
import { ALERT_ENGINE_STATE_ID, AlertEngineStateEntity, AlertHistoryEntity, NotificationChannelEntity } from '../storage/entities/index.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { enqueueOutboxRows } from '../notifications/outbox.repository.js';
import { chunk, inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { NotificationRouter, type RoutableNotification } from '../routing/notification-router.js';

/** The engine state as stored: `version` is the state's own format version. */
export interface StoredEngineState {
  version: number;
  state: unknown;
  updatedAt: number;
}

export interface NewHistoryLine {
  at: number;
  fingerprint: string;
  alertName: string;
  transition: string;
  by?: string | null;
  comment?: string | null;
  details: Record<string, unknown>;
}

export interface HistoryLine extends Omit<NewHistoryLine, 'by' | 'comment'> {
  id: number;
  by: string | null;
  comment: string | null;
}

/** A notification to route: `key` is the notification's, made unique per channel by `outboxKey`. */
export type NewNotification = RoutableNotification;

/** What one alert engine step leaves behind: all of it commits, or none of it. */
export interface AlertCommit {
  /** The engine state as JSON text (serialised once by the caller: megabytes with many checks). */
  state: { version: number; text: string };
  history: readonly NewHistoryLine[];
  notifications: readonly NewNotification[];
  /** Outbox row key for a notification and a channel. */
  outboxKey: (notificationKey: string, channelId: string) => string;
  /** Operator changes in this step, for the audit log. */
  audit?: readonly AuditDraft[];
}

/** History transitions that end an alert's escalation, and how its cancelled steps say why. */
const ENDS_ESCALATION = new Map<string, (line: NewHistoryLine) => string>([
  ['acknowledged', (line) => `acknowledged by ${line.by ?? 'someone'}`],
  ['resolved', () => 'the alert resolved'],
]);

@Injectable()
export class AlertingRepository {
  /** Without a router (specs of the engine's storage alone), every notification goes to every enabled channel. */
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Optional() private readonly router?: NotificationRouter,
  ) {}

  async loadState(): Promise<StoredEngineState | null> {
    const row = await this.dataSource.getRepository(AlertEngineStateEntity).findOneBy({ id: ALERT_ENGINE_STATE_ID });
    if (!row) return null;
    return { version: row.version, state: JSON.parse(row.stateJson) as unknown, updatedAt: row.updatedAt };
  }

  /**
   * Stores the engine state, appends the history lines, writes the escalation timeline and
   * enqueues each notification for the channels its routes reach, in one transaction. Returns
   * the outbox keys that were new.
   */
  async commit(step: AlertCommit, now: number): Promise<string[]> {
    const plan = this.router ? await this.router.plan(step.notifications, now) : undefined;
    return inTransaction(this.dataSource, async (m) => {
      await m.upsert(AlertEngineStateEntity, { id: ALERT_ENGINE_STATE_ID, version: step.state.version, stateJson: step.state.text, updatedAt: now }, ['id']);
      const lines = step.history.map((h) => ({
        at: h.at,
        fingerprint: h.fingerprint,
        alertName: h.alertName,
        transition: h.transition,
        by: h.by ?? null,
        comment: h.comment ?? null,
        detailsJson: JSON.stringify(h.details),
      }));
      for (const part of chunk(lines, 7)) await m.insert(AlertHistoryEntity, part);
      // After the state write: on SQLite the transaction then holds the write lock while it reads the chain's head.
      await appendAudit(m, step.audit ?? [], now);
      if (this.router && plan) {
        const ends = step.history.flatMap((h) => {
          const why = ENDS_ESCALATION.get(h.transition);
          return why ? [{ fingerprint: h.fingerprint, why: why(h) }] : [];
        });
        return enqueueOutboxRows(m, await this.router.apply(m, plan, ends, now), now);
      }
      if (step.notifications.length === 0) return [];
      const channels = await m.find(NotificationChannelEntity, { where: { enabled: true }, select: { id: true }, order: { createdAt: 'ASC' } });
      const rows = step.notifications.flatMap((n) => channels.map((c) => ({ key: step.outboxKey(n.key, c.id), channelId: c.id, payload: n.payload })));
      return enqueueOutboxRows(m, rows, now);
    });
  }

  /**
   * The history lines of alerts about one check before `before`, oldest first. Found by the
   * check's label as the engine writes it (`"check_id":"<id>"` in the details): ids are UUIDs,
   * with nothing LIKE would read as a wildcard.
   */
  async historyOfCheck(checkId: string, before: number): Promise<HistoryLine[]> {
    const rows = await this.dataSource
      .getRepository(AlertHistoryEntity)
      .createQueryBuilder('h')
      .where('h.at < :before', { before })
      .andWhere('h.details_json LIKE :label', { label: `%${JSON.stringify({ check_id: checkId }).slice(1, -1)}%` })
      .orderBy('h.id', 'ASC')
      .getMany();
    return rows.map(lineOf);
  }

  /** Newest first; `before` (a history id) pages back. */
  async history(options: { limit: number; fingerprint?: string; before?: number }): Promise<HistoryLine[]> {
    const where: FindOptionsWhere<AlertHistoryEntity> = {};
    if (options.fingerprint) where.fingerprint = options.fingerprint;
    if (options.before !== undefined) where.id = LessThan(options.before);
    const rows = await this.dataSource.getRepository(AlertHistoryEntity).find({ where, order: { id: 'DESC' }, take: options.limit });
    return rows.map(lineOf);
  }
}

function lineOf(r: AlertHistoryEntity): HistoryLine {
  return {
    id: r.id,
    at: r.at,
    fingerprint: r.fingerprint,
    alertName: r.alertName,
    transition: r.transition,
    by: r.by,
    comment: r.comment,
    details: JSON.parse(r.detailsJson) as Record<string, unknown>,
  };
}
