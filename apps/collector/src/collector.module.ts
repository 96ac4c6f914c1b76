import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { systemClock } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import type { CollectorConfig } from './config/env.js';
import { AgentsController } from './controllers/api/agents.controller.js';
import { ChecksController } from './controllers/api/checks.controller.js';
import { ApiTokenGuard } from './controllers/api/api-token.guard.js';
import { PagesController } from './controllers/pages.controller.js';
import { AgentClientPool } from './repositories/agent-client.pool.js';
import { AgentsRepository } from './repositories/agents.repository.js';
import { ApiTokenStore } from './repositories/api-token.store.js';
import { ChecksRepository } from './repositories/checks.repository.js';
import { createDataSource, DATA_SOURCE } from './repositories/data-source.js';
import { HealthRepository } from './repositories/health.repository.js';
import { ResultWriter } from './repositories/result-writer.js';
import { ResultsRepository } from './repositories/results.repository.js';
import { AgentsService } from './services/agents.service.js';
import { ApiTokenService } from './services/api-token.service.js';
import { ChecksService } from './services/checks.service.js';
import { OverviewService } from './services/overview.service.js';
import { PollerService } from './services/poller.service.js';
import { CLOCK, COLLECTOR_CONFIG, PLUGIN_REGISTRY } from './services/tokens.js';

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
    ];
    if (serve) providers.push(PollerService);
    return {
      module: CollectorModule,
      controllers: serve ? [PagesController, AgentsController, ChecksController] : [],
      providers,
    };
  }
}
