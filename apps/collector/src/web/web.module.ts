import { Module } from '@nestjs/common';
import { AlertingModule } from '../alerting/alerting.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { HistoryModule } from '../history/history.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { PollingModule } from '../polling/polling.module.js';
import { AgentsController } from './api/agents.controller.js';
import { AlertingController } from './api/alerting.controller.js';
import { AuditController } from './api/audit.controller.js';
import { ChannelsController } from './api/channels.controller.js';
import { ChecksController } from './api/checks.controller.js';
import { MetricsController } from './metrics.controller.js';
import { PagesController } from './pages.controller.js';
import { StatusPageService } from './status-page.service.js';

/** Everything served over HTTP: the pages, /healthz, /metrics and the JSON API. */
@Module({
  imports: [AuthModule, AuditModule, InventoryModule, HistoryModule, PollingModule, AlertingModule, NotificationsModule, MetricsModule],
  providers: [StatusPageService],
  controllers: [PagesController, AgentsController, ChecksController, MetricsController, ChannelsController, AlertingController, AuditController],
})
export class WebModule {}
