import { Module } from '@nestjs/common';
import { AlertingModule } from '../alerting/alerting.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { ConfigDocumentService } from './config-document.service.js';

/** Configuration as code: the document export and apply (through the inventory, channel, alerting and routing services). */
@Module({
  imports: [InventoryModule, NotificationsModule, AlertingModule, AuditModule, RoutingModule],
  providers: [ConfigDocumentService],
  exports: [ConfigDocumentService],
})
export class ConfigDocumentModule {}
