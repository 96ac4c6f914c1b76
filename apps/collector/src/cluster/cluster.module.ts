import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { CLUSTER, SOLO } from './cluster.js';
import { ClusterService } from './cluster.service.js';

/**
 * Provides the {@link CLUSTER}: leases on PostgreSQL for a serving collector, SOLO on SQLite and
 * for one-shot commands (which poll nothing and must not take a share of the agents).
 */
@Global()
@Module({})
export class ClusterModule {
  static forRoot(config: CollectorConfig, serve: boolean): DynamicModule {
    const provider: Provider =
      serve && config.databaseUrl
        ? {
            provide: CLUSTER,
            useFactory: (dataSource: DataSource, c: CollectorConfig, clock: Clock) =>
              new ClusterService(dataSource, { name: c.collectorName, ...c.lease }, clock),
            inject: [DATA_SOURCE, COLLECTOR_CONFIG, CLOCK],
          }
        : { provide: CLUSTER, useValue: SOLO };
    return { module: ClusterModule, providers: [provider], exports: [CLUSTER] };
  }
}
