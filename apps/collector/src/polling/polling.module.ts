import { Module } from '@nestjs/common';
import { AlertingModule } from '../alerting/alerting.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { CollectorMetrics } from '../metrics/collector-metrics.service.js';
import { PollerService } from './poller.service.js';
import { RESULT_WRITER_OPTIONS, ResultWriter, type ResultWriterOptions } from './result-writer.js';
import { ResultsRepository } from './results.repository.js';

/** The collector's rounds: the poller, and the writer that stores what it collects before the ack moves. */
@Module({
  imports: [InventoryModule, AlertingModule],
  providers: [
    PollerService,
    ResultWriter,
    ResultsRepository,
    {
      provide: RESULT_WRITER_OPTIONS,
      useFactory: (metrics: CollectorMetrics): ResultWriterOptions => ({ onCommit: (seconds) => metrics.writeCommitted(seconds) }),
      inject: [CollectorMetrics],
    },
  ],
  exports: [PollerService, ResultWriter, ResultsRepository],
})
export class PollingModule {}
