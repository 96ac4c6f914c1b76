import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { systemClock } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import type { CollectorConfig } from './config/env.js';
import { AgentsController } from './controllers/api/agents.controller.js';
import { ChecksController } from './controllers/api/checks.controller.js';
import { ChannelsController } from './controllers/api/channels.controller.js';
import { AlertingController } from './controllers/api/alerting.controller.js';
import { ApiTokenGuard } from './controllers/api/api-token.guard.js';
import { MetricsController } from './controllers/metrics.controller.js';
import { PagesController } from './controllers/pages.controller.js';
import { AgentClientPool } from './repositories/agent-client.pool.js';
import { AgentsRepository } from './repositories/agents.repository.js';
import { ApiTokenStore } from './repositories/api-token.store.js';
import { ChecksRepository } from './repositories/checks.repository.js';
import { createDataSource, DATA_SOURCE } from './repositories/data-source.js';
import { HealthRepository } from './repositories/health.repository.js';
import { RESULT_WRITER_OPTIONS, ResultWriter, type ResultWriterOptions } from './repositories/result-writer.js';
import { ResultsRepository } from './repositories/results.repository.js';
import { ChannelsRepository } from './repositories/channels.repository.js';
import { AlertingRepository } from './repositories/alerting.repository.js';
import { OutboxRepository } from './repositories/outbox.repository.js';
import { SmtpNotifier } from './repositories/smtp.notifier.js';
import { TelegramNotifier } from './repositories/telegram.notifier.js';
import { WebhookNotifier } from './repositories/webhook.notifier.js';
import { AlertmanagerNotifier } from './repositories/alertmanager.notifier.js';
import { ChannelsService } from './notifications/channels.service.js';
import { Notifiers } from './notifications/notifiers.js';
import { OUTBOX_OPTIONS, OutboxService, type OutboxOptions } from './notifications/outbox.service.js';
import { OutboxWorker } from './notifications/outbox.worker.js';
import { StorageAlerts } from './notifications/storage-alerts.js';
import { AgentsService } from './services/agents.service.js';
import { AlertingService } from './services/alerting.service.js';
import { ApiTokenService } from './services/api-token.service.js';
import { ChecksService } from './services/checks.service.js';
import { CollectorMetrics } from './services/collector-metrics.service.js';
import { MetricsService } from './services/metrics.service.js';
import { OverviewService } from './services/overview.service.js';
import { PollerService } from './services/poller.service.js';
import { StateCache } from './services/state-cache.service.js';
import { StorageHealth } from './services/storage-health.service.js';
import { CLOCK, COLLECTOR_CONFIG, PLUGIN_REGISTRY, POLL_EVENTS, POLL_OBSERVER } from './services/tokens.js';

export interface CollectorModuleOptions {
  config: CollectorConfig;
  /** Serve HTTP and poll agents (`start`); the CLI's one-shot commands need neither. */
  serve: boolean;
}

@Module({})
export class CollectorModule {
  static register({ config, serve }: CollectorModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: COLLECTOR_CONFIG, useValue: config },
      { provide: CLOCK, useValue: systemClock },
      { provide: PLUGIN_REGISTRY, useFactory: () => PluginRegistry.withBuiltins() },
      {
        provide: DATA_SOURCE,
        useFactory: async () => {
          const dataSource = createDataSource(config.databaseUrl ? { postgresUrl: config.databaseUrl } : { dataDir: config.dataDir });
          try {
            return await dataSource.initialize();
          } catch (e) {
            const where = config.databaseUrl ? 'the PostgreSQL database in ROUNDS_DATABASE_URL' : `the SQLite database in ${config.dataDir}`;
            throw new Error(`cannot open ${where}: ${(e as Error).message} — check ROUNDS_DATA_DIR / ROUNDS_DATABASE_URL and free disk space`);
          }
        },
      },
      AgentsRepository,
      ChecksRepository,
      ResultsRepository,
      HealthRepository,
      ResultWriter,
      ApiTokenStore,
      AgentClientPool,
      AgentsService,
      ChecksService,
      OverviewService,
      ApiTokenService,
      ApiTokenGuard,
      ChannelsRepository,
      OutboxRepository,
      SmtpNotifier,
      TelegramNotifier,
      WebhookNotifier,
      AlertmanagerNotifier,
      Notifiers,
      ChannelsService,
      { provide: OUTBOX_OPTIONS, useValue: { baseBackoffMs: config.notifyRetryMs, maxBackoffMs: config.notifyMaxRetryMs } satisfies Partial<OutboxOptions> },
      OutboxService,
    ];
    if (serve) {
      providers.push(
        // Hears of every transaction: /healthz, /metrics and the log say when storing fails.
        StorageHealth,
        StorageAlerts,
        PollerService,
        // Delivers queued notifications (and those left from before a restart) while serving.
        OutboxWorker,
        // The alert engine: fed by the poller, ticking, committing its steps with their outbox rows.
        AlertingRepository,
        AlertingService,
        { provide: POLL_EVENTS, useExisting: AlertingService },
        // /metrics: the poller and the result writer report timings into CollectorMetrics.
        CollectorMetrics,
        { provide: POLL_OBSERVER, useExisting: CollectorMetrics },
        {
          provide: RESULT_WRITER_OPTIONS,
          useFactory: (metrics: CollectorMetrics): ResultWriterOptions => ({ onCommit: (seconds) => metrics.writeCommitted(seconds) }),
          inject: [CollectorMetrics],
        },
        StateCache,
        MetricsService,
      );
    }
    return {
      module: CollectorModule,
      controllers: serve ? [PagesController, AgentsController, ChecksController, MetricsController, ChannelsController, AlertingController] : [],
      providers,
    };
  }
}
