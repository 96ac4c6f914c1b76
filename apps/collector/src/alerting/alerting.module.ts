import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { POLL_EVENTS } from '../shared/tokens.js';
import { AlertingRepository } from './alerting.repository.js';
import { AlertingService } from './alerting.service.js';

/** The alert engine: fed by the poller, ticking, committing its steps with their outbox rows. */
@Module({
  imports: [InventoryModule, NotificationsModule],
  providers: [AlertingRepository, AlertingService, { provide: POLL_EVENTS, useExisting: AlertingService }],
  exports: [AlertingService, POLL_EVENTS],
})
export class AlertingModule {}
