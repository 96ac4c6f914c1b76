import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { CheckResultEntity, CheckStateEntity } from '../storage/entities/index.js';
import { STATE_COLUMN_NAMES, stateFromRow, type StateRow } from '../storage/check-state-row.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { chunk } from '../storage/transaction.js';

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
