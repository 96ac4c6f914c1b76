import { Module } from '@nestjs/common';
import { AlertingModule } from '../alerting/alerting.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { ConfigDocumentService } from './config-document.service.js';

/** Configuration as code: the document export and apply (through the inventory, channel and alerting services). */
@Module({
  imports: [InventoryModule, NotificationsModule, AlertingModule, AuditModule],
  providers: [ConfigDocumentService],
  exports: [ConfigDocumentService],
})
export class ConfigDocumentModule {}
