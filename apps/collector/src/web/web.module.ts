import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AlertingModule } from '../alerting/alerting.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AccessGuard } from '../auth/access.guard.js';
import { AuthModule } from '../auth/auth.module.js';
import { HistoryModule } from '../history/history.module.js';
import { InventoryModule } from '../inventory/inventory.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { PollingModule } from '../polling/polling.module.js';
import { UsersModule } from '../users/users.module.js';
import { EnrolmentModule } from '../enrolment/enrolment.module.js';
import { OnCallModule } from '../on-call/on-call.module.js';
import { OnCallController } from './api/on-call.controller.js';
import { EnrolmentsController } from './api/enrolments.controller.js';
import { AccountController } from './account.controller.js';
import { AgentsController } from './api/agents.controller.js';
import { AlertingController } from './api/alerting.controller.js';
import { RoutingController } from './api/routing.controller.js';
import { AuditController } from './api/audit.controller.js';
import { ChannelsController } from './api/channels.controller.js';
import { ConfigController } from './api/config.controller.js';
import { ConfigDocumentModule } from '../config-document/config-document.module.js';
import { ChecksController } from './api/checks.controller.js';
import { MeController } from './api/me.controller.js';
import { TokensController } from './api/tokens.controller.js';
import { ReportsController } from './api/reports.controller.js';
import { SeriesController } from './api/series.controller.js';
import { UsersController } from './api/users.controller.js';
import { OpenApiController } from './api/openapi.controller.js';
import { SettingsController } from './api/settings.controller.js';
import { MetricsController } from './metrics.controller.js';
import { PagesController } from './pages.controller.js';
import { SignInController } from './sign-in.controller.js';
import { StatusPageService } from './status-page.service.js';
import { LiveUpdates } from './live-updates.service.js';
import { UsersPagesController } from './users.controller.js';
import { ReportsPagesController } from './reports-pages.controller.js';
import { CheckPagesController } from './check-pages.controller.js';
import { CheckEditController } from './check-edit.controller.js';
import { AgentPagesController } from './agent-pages.controller.js';
import { EnrolmentPagesController } from './enrolment-pages.controller.js';
import { AlertsPagesController } from './alerts-pages.controller.js';
import { AuditPagesController } from './audit-pages.controller.js';
import { MaintenancePagesController } from './maintenance-pages.controller.js';
import { OnCallPagesController } from './on-call-pages.controller.js';
import { SettingsPagesController } from './settings-pages.controller.js';
import { ChannelPagesController } from './channel-pages.controller.js';
import { SlaReportService } from './sla-report.service.js';
import { ApiRateLimitGuard, ApiRateLimitModule } from './api/rate-limit.js';

/**
 * Everything served over HTTP: the pages, /healthz, /metrics and the JSON API, all behind the
 * one access guard (every route declares who may call it with @Access).
 */
@Module({
  imports: [
    AuthModule,
    AuditModule,
    UsersModule,
    InventoryModule,
    EnrolmentModule,
    HistoryModule,
    PollingModule,
    AlertingModule,
    NotificationsModule,
    OnCallModule,
    MetricsModule,
    ApiRateLimitModule,
    ConfigDocumentModule,
  ],
  providers: [
    StatusPageService,
    LiveUpdates,
    SlaReportService,
    { provide: APP_GUARD, useExisting: AccessGuard },
    // After the access guard: the rate limit counts per caller, whom that guard finds.
    { provide: APP_GUARD, useExisting: ApiRateLimitGuard },
  ],
  controllers: [
    PagesController,
    SignInController,
    AccountController,
    UsersPagesController,
    ReportsPagesController,
    // Before the check pages: /checks/new must not be taken for the page of a check named "new".
    CheckEditController,
    CheckPagesController,
    // Before the agent pages: /agents/enrol-many must not be taken for the page of an agent named so.
    EnrolmentPagesController,
    AgentPagesController,
    AlertsPagesController,
    AuditPagesController,
    MaintenancePagesController,
    OnCallPagesController,
    SettingsPagesController,
    ChannelPagesController,
    AgentsController,
    EnrolmentsController,
    ChecksController,
    MetricsController,
    ChannelsController,
    AlertingController,
    RoutingController,
    AuditController,
    UsersController,
    SettingsController,
    MeController,
    TokensController,
    ReportsController,
    SeriesController,
    OpenApiController,
    ConfigController,
    OnCallController,
  ],
})
export class WebModule {}
