import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { POLL_EVENTS } from '../shared/tokens.js';
import { AlertingRepository } from './alerting.repository.js';
import { AlertingService } from './alerting.service.js';
import { ForecastService } from './forecast.service.js';
import { EscalationWorker } from './escalation.worker.js';
import { RoutingModule } from '../routing/routing.module.js';

/** The alert engine: fed by the poller, ticking, committing its steps with their outbox rows (routed, escalated); forecast rounds from the history. */
@Module({
  imports: [InventoryModule, NotificationsModule, HistoryModule, RoutingModule],
  providers: [AlertingRepository, AlertingService, ForecastService, EscalationWorker, { provide: POLL_EVENTS, useExisting: AlertingService }],
  exports: [AlertingService, ForecastService, EscalationWorker, RoutingModule, POLL_EVENTS],
})
export class AlertingModule {}
