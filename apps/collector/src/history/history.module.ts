import { Module } from '@nestjs/common';
import { HistoryService } from './history.service.js';
import { ResultsRepository } from './results.repository.js';
import { RollupsRepository } from './rollups.repository.js';
import { MetricSeriesRepository } from './metric-series.repository.js';
import { HistoryUpkeep } from './history-upkeep.service.js';

/** Stored results: what a check measured over time, rolled up into minute and hour buckets and pruned by age. */
@Module({
  providers: [ResultsRepository, RollupsRepository, MetricSeriesRepository, HistoryService, HistoryUpkeep],
  exports: [HistoryService],
})
export class HistoryModule {}
