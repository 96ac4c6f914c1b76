import { Module } from '@nestjs/common';
import { HistoryService } from './history.service.js';
import { ResultsRepository } from './results.repository.js';

/** Stored results: what a check measured over time. */
@Module({
  providers: [ResultsRepository, HistoryService],
  exports: [HistoryService],
})
export class HistoryModule {}
