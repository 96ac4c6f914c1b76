import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, In, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { ALERT_ENGINE_STATE_ID, AlertEngineStateEntity, AlertHistoryEntity, NotificationChannelEntity } from '../storage/entities/index.js';
import { EngineInboxEntity } from './engine-inbox.entity.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { enqueueOutboxRows } from '../notifications/outbox.repository.js';
import { chunk, containsText, inTransaction } from '../storage/transaction.js';
import { appendAudit } from '../audit/audit.repository.js';
import { uniqueViolation } from '../shared/unique-violation.js';
import type { AuditDraft } from '../audit/audit.types.js';
import { NotificationRouter, type RoutableNotification } from '../routing/notification-router.js';

/** The engine state as stored: `version` is the state's own format version. */
export interface StoredEngineState {
  version: number;
  state: unknown;
  updatedAt: number;
  /** One more with every write; 0 before the first. */
  revision: number;
}

/**
 * Another collector committed the engine state since this one loaded it (docs/scaling.md, "High
 * availability"): the change has to be made again on the stored state.
 */
export class EngineStateConflict extends Error {
  constructor(expected: number) {
    super(`the alert engine's state changed on another collector since revision ${expected}: loading it again`);
    this.name = 'EngineStateConflict';
  }
}

/** A poll event of a collector that is not the leader, waiting for the leader's engine. */
export interface InboxEvent {
  kind: 'results' | 'down' | 'up';
  agentId: string;
  /** What the event carries (agent name, results, error), as the leader's engine takes it. */
  payload: unknown;
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
  /** The revision the state was changed from: the commit fails with {@link EngineStateConflict} when the stored one differs. */
  revision: number;
  /** Inbox rows this state has taken in: deleted with it. */
  consumed?: readonly number[];
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
    return { version: row.version, state: JSON.parse(row.stateJson) as unknown, updatedAt: row.updatedAt, revision: row.revision };
  }

  /** The stored state's revision (0 when none is stored): whether a copy is still current. */
  async storedRevision(): Promise<number> {
    const row = await this.dataSource
      .getRepository(AlertEngineStateEntity)
      .findOne({ where: { id: ALERT_ENGINE_STATE_ID }, select: { id: true, revision: true } });
    return row?.revision ?? 0;
  }

  /** Appends poll events for the leader's engine, in order. */
  async appendInbox(events: readonly InboxEvent[], now: number): Promise<void> {
    const rows = events.map((e) => ({ at: now, kind: e.kind, agentId: e.agentId, payloadJson: JSON.stringify(e.payload) }));
    for (const part of chunk(rows, 4)) await this.dataSource.getRepository(EngineInboxEntity).insert(part);
  }

  /** Up to `limit` waiting events, oldest first, leaving out `skip` (taken in, not yet committed). */
  async readInbox(limit: number, skip: ReadonlySet<number>): Promise<(InboxEvent & { id: number })[]> {
    const q = this.dataSource
      .getRepository(EngineInboxEntity)
      .createQueryBuilder('i')
      .orderBy('i.id', 'ASC')
      .limit(limit + skip.size);
    const rows = await q.getMany();
    return rows
      .filter((r) => !skip.has(r.id))
      .slice(0, limit)
      .map((r) => ({ id: r.id, kind: r.kind as InboxEvent['kind'], agentId: r.agentId, payload: JSON.parse(r.payloadJson) as unknown }));
  }

  /**
   * Stores the engine state, appends the history lines, writes the escalation timeline and
   * enqueues each notification for the channels its routes reach, in one transaction. Returns
   * the outbox keys that were new.
   */
  async commit(step: AlertCommit, now: number): Promise<string[]> {
    const plan = this.router ? await this.router.plan(step.notifications, now) : undefined;
    const keys = await inTransaction(this.dataSource, async (m) => {
      await writeState(m, step, now);
      for (const part of chunk(step.consumed ?? [], 1)) await m.delete(EngineInboxEntity, { id: In(part) });
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
    }).catch((e: unknown) => {
      // Two collectors writing the very first state: the one that lost makes its change again on the other's.
      throw step.revision === 0 && uniqueViolation(e)?.table === 'alert_engine_state' ? new EngineStateConflict(0) : e;
    });
    this.router?.committed();
    return keys;
  }

  /**
   * The history lines of alerts about one check before `before`, oldest first. Found by the
   * check's label as the engine writes it (`"check_id":"<id>"` in the details).
   */
  async historyOfCheck(checkId: string, before: number): Promise<HistoryLine[]> {
    const q = this.dataSource.getRepository(AlertHistoryEntity).createQueryBuilder('h').where('h.at < :before', { before });
    const rows = await this.withLabel(q, 'checkId', ['check_id'], checkId).orderBy('h.id', 'ASC').getMany();
    return rows.map(lineOf);
  }

  /**
   * One page of the lines that pass `filter` and how many pass in all. Time, fingerprint and
   * the `before` cursor read indices; the other filters search the rows those leave (the
   * default page counts the whole history through its smallest index).
   */
  async historyPage(filter: HistoryFilter): Promise<{ total: number; page: HistoryLine[] }> {
    const q = this.dataSource.getRepository(AlertHistoryEntity).createQueryBuilder('h');
    if (filter.fingerprint !== undefined) q.andWhere('h.fingerprint = :fingerprint', { fingerprint: filter.fingerprint });
    if (filter.from !== undefined) q.andWhere('h.at >= :from', { from: filter.from });
    if (filter.to !== undefined) q.andWhere('h.at < :to', { to: filter.to });
    if (filter.before !== undefined) q.andWhere('h.id < :beforeId', { beforeId: filter.before });
    if (filter.name !== undefined) q.andWhere('h.alertName = :name', { name: filter.name });
    if (filter.kind !== undefined) q.andWhere('h.transition = :kind', { kind: filter.kind });
    // Top-level in every line's details (a label named `severity` with that value matches too).
    if (filter.severity !== undefined)
      q.andWhere(containsText(this.dataSource, 'h.details_json', 'severity'), { severity: jsonPair('severity', filter.severity) });
    // By name or id, as the alerts list takes them: the engine labels a line with both.
    if (filter.check !== undefined) this.withLabel(q, 'check', ['check', 'check_id'], filter.check);
    if (filter.agent !== undefined) this.withLabel(q, 'agent', ['agent', 'agent_id'], filter.agent);
    if (filter.label !== undefined) this.withLabel(q, 'label', [filter.label.name], filter.label.value);
    const order = filter.oldestFirst ? 'ASC' : 'DESC';
    // take/skip rather than limit/offset: getManyAndCount counts without them.
    const [rows, total] = await q.orderBy('h.at', order).addOrderBy('h.id', order).skip(filter.offset).take(filter.limit).getManyAndCount();
    return { total, page: rows.map(lineOf) };
  }

  /** Lines where one of `labels` has `value`, found in the details' JSON as the engine writes it; `param` names the query's parameters. */
  private withLabel(q: SelectQueryBuilder<AlertHistoryEntity>, param: string, labels: readonly string[], value: string) {
    const params = Object.fromEntries(labels.map((label, i) => [`${param}${i}`, jsonPair(label, value)]));
    return q.andWhere(
      `(${Object.keys(params)
        .map((k) => containsText(this.dataSource, 'h.details_json', k))
        .join(' OR ')})`,
      params,
    );
  }
}

/**
 * Writes the state on top of `step.revision` and no other: the conditional update is what makes a
 * change made on a stale copy (another collector committed meanwhile) fail instead of undoing
 * the other's. The first write of a database inserts the row; two collectors racing to do so
 * meet the primary key.
 */
async function writeState(m: EntityManager, step: AlertCommit, now: number): Promise<void> {
  const { version, text } = step.state;
  if (step.revision === 0 && (await m.count(AlertEngineStateEntity, { where: { id: ALERT_ENGINE_STATE_ID } })) === 0) {
    await m.insert(AlertEngineStateEntity, { id: ALERT_ENGINE_STATE_ID, version, stateJson: text, updatedAt: now, revision: 1 });
    return;
  }
  const updated = await m
    .createQueryBuilder()
    .update(AlertEngineStateEntity)
    .set({ version, stateJson: text, updatedAt: now, revision: () => 'revision + 1' })
    .where('id = :id AND revision = :revision', { id: ALERT_ENGINE_STATE_ID, revision: step.revision })
    .execute();
  if (!updated.affected) throw new EngineStateConflict(step.revision);
}

/** `"name":"value"` as JSON.stringify writes it inside an object: what a line's details hold for that key. */
function jsonPair(name: string, value: string): string {
  return JSON.stringify({ [name]: value }).slice(1, -1);
}

/** What the history list filters by (alertHistoryQuery's filters, order and window). */
export interface HistoryFilter {
  fingerprint?: string | undefined;
  name?: string | undefined;
  /** A check's or agent's name or id. */
  check?: string | undefined;
  agent?: string | undefined;
  kind?: string | undefined;
  severity?: string | undefined;
  label?: { name: string; value: string } | undefined;
  from?: number | undefined;
  to?: number | undefined;
  before?: number | undefined;
  oldestFirst: boolean;
  offset: number;
  limit: number;
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
