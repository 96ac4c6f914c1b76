import { Module } from '@nestjs/common';
import { AlertingModule } from '../alerting/alerting.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { CollectorMetrics } from '../metrics/collector-metrics.service.js';
import { CurrentState } from '../state/current-state.js';
import { PollerService } from './poller.service.js';
import { RESULT_WRITER_OPTIONS, ResultWriter, type ResultWriterOptions } from './result-writer.js';

/** The collector's rounds: the poller, and the writer that stores what it collects before the ack moves. */
@Module({
  imports: [InventoryModule, AlertingModule],
  providers: [
    PollerService,
    ResultWriter,
    {
      provide: RESULT_WRITER_OPTIONS,
      // Commits feed the /metrics histogram and the read model, before the writes resolve.
      useFactory: (metrics: CollectorMetrics, state: CurrentState): ResultWriterOptions => ({
        onCommit: (seconds) => metrics.writeCommitted(seconds),
        onStates: (states) => state.statesCommitted(states),
      }),
      inject: [CollectorMetrics, CurrentState],
    },
  ],
  exports: [PollerService, ResultWriter],
})
export class PollingModule {}
