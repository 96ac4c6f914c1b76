import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { POLL_EVENTS } from '../shared/tokens.js';
import { AlertingRepository } from './alerting.repository.js';
import { AlertingService } from './alerting.service.js';
import { ForecastService } from './forecast.service.js';

/** The alert engine: fed by the poller, ticking, committing its steps with their outbox rows; forecast rounds from the history. */
@Module({
  imports: [InventoryModule, NotificationsModule, HistoryModule],
  providers: [AlertingRepository, AlertingService, ForecastService, { provide: POLL_EVENTS, useExisting: AlertingService }],
  exports: [AlertingService, ForecastService, POLL_EVENTS],
})
export class AlertingModule {}
