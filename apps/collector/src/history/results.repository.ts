import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { CheckResultEntity, CheckStateEntity } from '../storage/entities/index.js';
import { STATE_COLUMN_NAMES, stateFromRow, type StateRow } from '../storage/check-state-row.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { chunk, portableQuery } from '../storage/transaction.js';
import { num, numOrNull } from '../storage/bulk-sql.js';
import type { StatusCode } from '../storage/entities/index.js';

/** One row of state_changes: the check's status took a different value at `at`. */
export interface StoredStateChange {
  at: number;
  /** null: the check's first result. */
  from: StatusCode | null;
  to: StatusCode;
  reason: string;
  summary: string;
}

interface StateChangeRow {
  at: unknown;
  from_status: unknown;
  to_status: unknown;
  reason: string;
  summary: string;
}

const changeOf = (r: StateChangeRow): StoredStateChange => ({
  at: num(r.at),
  from: numOrNull(r.from_status) as StatusCode | null,
  to: num(r.to_status) as StatusCode,
  reason: r.reason,
  summary: r.summary,
});
const CHANGE_COLUMNS = 'at, from_status, to_status, reason, summary';

@Injectable()
export class ResultsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** The check's latest results, newest first. */
  recent(checkId: string, limit: number): Promise<CheckResultEntity[]> {
    return this.dataSource.getRepository(CheckResultEntity).find({
      where: { checkId },
      order: { startedAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /** The check's results started in [from, to) (with `status`, its index in CHECK_STATUSES), one page, and how many there are. */
  async findPage(
    checkId: string,
    page: { from?: number | undefined; to?: number | undefined; status?: number | undefined; oldestFirst: boolean; offset: number; limit: number },
  ): Promise<{ total: number; page: CheckResultEntity[] }> {
    const q = this.dataSource.getRepository(CheckResultEntity).createQueryBuilder('r').where('r.checkId = :checkId', { checkId });
    if (page.from !== undefined) q.andWhere('r.startedAt >= :from', { from: page.from });
    if (page.to !== undefined) q.andWhere('r.startedAt < :to', { to: page.to });
    if (page.status !== undefined) q.andWhere('r.status = :status', { status: page.status });
    const order = page.oldestFirst ? 'ASC' : 'DESC';
    const [rows, total] = await q.orderBy('r.startedAt', order).addOrderBy('r.id', order).skip(page.offset).take(page.limit).getManyAndCount();
    return { total, page: rows };
  }

  /**
   * The check's state changes in [from, to), newest first, at most `limit`; with the last one
   * before `from` (the state the range starts in) and the first at or after `to` (when the newest
   * in the range ended). Three index range reads of a few rows each.
   */
  async stateChanges(
    checkId: string,
    from: number,
    to: number,
    limit: number,
  ): Promise<{ before: StoredStateChange | null; within: StoredStateChange[]; after: StoredStateChange | null }> {
    const m = this.dataSource.manager;
    const q = (where: string, order: 'ASC' | 'DESC', params: unknown[], take: number) =>
      portableQuery<StateChangeRow>(
        this.dataSource,
        m,
        `SELECT ${CHANGE_COLUMNS} FROM state_changes WHERE check_id = ? AND ${where} ORDER BY at ${order}, id ${order} LIMIT ${take}`,
        [checkId, ...params],
      );
    const [before, within, after] = await Promise.all([
      q('at < ?', 'DESC', [from], 1),
      q('at >= ? AND at < ?', 'DESC', [from, to], limit),
      q('at >= ?', 'ASC', [to], 1),
    ]);
    return { before: before[0] ? changeOf(before[0]) : null, within: within.map(changeOf), after: after[0] ? changeOf(after[0]) : null };
  }

  /** Current state of the given checks (all checks when omitted); checks without results yet have no row. */
  async stateFor(checkIds?: readonly string[]): Promise<CheckStateEntity[]> {
    const repo = this.dataSource.getRepository(CheckStateEntity);
    if (checkIds === undefined) {
      // Every row, every few seconds (/metrics, the status page): raw rows, not hydrated entities.
      const rows = await this.dataSource.query<StateRow[]>(`SELECT ${STATE_COLUMN_NAMES.join(',')} FROM check_state ORDER BY check_id`);
      return rows.map(stateFromRow);
    }
    const rows: CheckStateEntity[] = [];
    for (const ids of chunk([...new Set(checkIds)], 1)) {
      rows.push(...(await repo.find({ where: { checkId: In(ids) } })));
    }
    return rows.sort((a, b) => (a.checkId < b.checkId ? -1 : a.checkId > b.checkId ? 1 : 0));
  }
}
