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
  /** When the status next changed; null: it still holds. */
  until: number | null;
}

interface StateChangeRow {
  at: unknown;
  from_status: unknown;
  to_status: unknown;
  reason: string;
  summary: string;
  until_at: unknown;
}

const changeOf = (r: StateChangeRow): StoredStateChange => ({
  at: num(r.at),
  from: numOrNull(r.from_status) as StatusCode | null,
  to: num(r.to_status) as StatusCode,
  reason: r.reason,
  summary: r.summary,
  until: numOrNull(r.until_at),
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
   * The check's state changes in [from, to) (with `to`, those to that status), one page in time
   * order, each with when the status next changed (`until`), and how many there are. Index range
   * reads: the count and the page over (check_id, at), one seek per row for its `until` (`at >=`
   * apart from the tie-break, or the seek would read every change of the check).
   */
  async stateChanges(
    checkId: string,
    page: { from: number; to: number; status?: StatusCode | undefined; oldestFirst: boolean; offset: number; limit: number },
  ): Promise<{ total: number; page: StoredStateChange[] }> {
    const m = this.dataSource.manager;
    const where = `check_id = ? AND at >= ? AND at < ?${page.status === undefined ? '' : ' AND to_status = ?'}`;
    const params = [checkId, page.from, page.to, ...(page.status === undefined ? [] : [page.status])];
    const order = page.oldestFirst ? 'ASC' : 'DESC';
    const [counted, rows] = await Promise.all([
      portableQuery<{ n: unknown }>(this.dataSource, m, `SELECT COUNT(*) AS n FROM state_changes WHERE ${where}`, params),
      portableQuery<StateChangeRow>(
        this.dataSource,
        m,
        `SELECT ${CHANGE_COLUMNS},
           (SELECT n.at FROM state_changes n WHERE n.check_id = s.check_id AND n.at >= s.at AND (n.at > s.at OR n.id > s.id) ORDER BY n.at, n.id LIMIT 1) AS until_at
         FROM state_changes s WHERE ${where} ORDER BY at ${order}, id ${order} LIMIT ${page.limit} OFFSET ${page.offset}`,
        params,
      ),
    ]);
    return { total: num(counted[0]?.n ?? 0), page: rows.map(changeOf) };
  }

  /** The check's last state change before `at`: the status it was in then, and since when; null before its first result. */
  async stateBefore(checkId: string, at: number): Promise<StoredStateChange | null> {
    const [row] = await portableQuery<StateChangeRow>(
      this.dataSource,
      this.dataSource.manager,
      `SELECT ${CHANGE_COLUMNS}, NULL AS until_at FROM state_changes WHERE check_id = ? AND at < ? ORDER BY at DESC, id DESC LIMIT 1`,
      [checkId, at],
    );
    return row ? changeOf(row) : null;
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
