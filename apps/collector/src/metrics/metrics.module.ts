import { Module } from '@nestjs/common';
import { PollingModule } from '../polling/polling.module.js';
import { MetricsService } from './metrics.service.js';

/** /metrics: renders current state, the collector's telemetry and storage health in Prometheus formats. */
@Module({
  imports: [PollingModule],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
