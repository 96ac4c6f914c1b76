import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { CheckResultEntity, CheckStateEntity } from '../entities/index.js';
import { DATA_SOURCE } from './data-source.js';
import { chunk } from './transaction.js';

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
    if (checkIds === undefined) return repo.find({ order: { checkId: 'ASC' } });
    const rows: CheckStateEntity[] = [];
    for (const ids of chunk([...new Set(checkIds)], 1)) {
      rows.push(...(await repo.find({ where: { checkId: In(ids) } })));
    }
    return rows.sort((a, b) => (a.checkId < b.checkId ? -1 : a.checkId > b.checkId ? 1 : 0));
  }
}
