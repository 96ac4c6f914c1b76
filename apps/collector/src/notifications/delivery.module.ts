import { Module } from '@nestjs/common';
import { NotificationsModule } from './notifications.module.js';
import { OutboxWorker } from './outbox.worker.js';
import { StorageAlerts } from './storage-alerts.js';

/**
 * What delivers while the collector serves: the outbox worker (also what was queued before a
 * restart) and the storage alert, which goes past the outbox because the outbox lives in the
 * failing database. The CLI's one-shot commands leave this module out.
 */
@Module({
  imports: [NotificationsModule],
  providers: [OutboxWorker, StorageAlerts],
})
export class DeliveryModule {}
