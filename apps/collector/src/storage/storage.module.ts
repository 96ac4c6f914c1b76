import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { CollectorConfig } from '../config/env.js';
import { createDataSource, DATA_SOURCE, postgresTarget } from './data-source.js';
import { secretKeySourceOf } from './secret-key.store.js';
import { HealthRepository } from './health.repository.js';
import { StorageHealth } from './storage-health.service.js';

/**
 * The database (SQLite file or PostgreSQL) and whether storing works. Global because every
 * feature's repositories need the data source; nothing else here is for other modules.
 */
@Global()
@Module({})
export class StorageModule {
  /** `serve`: also watch storage health (free space, WAL checkpoints, failing commits). */
  static forRoot(config: CollectorConfig, serve: boolean): DynamicModule {
    const providers: Provider[] = [
      {
        provide: DATA_SOURCE,
        useFactory: async () => {
          const secretKey = secretKeySourceOf(config);
          const dataSource = createDataSource(config.databaseUrl ? { postgresUrl: config.databaseUrl, secretKey } : { dataDir: config.dataDir, secretKey });
          try {
            return await dataSource.initialize();
          } catch (e) {
            const reason = (e as Error).message;
            if (config.databaseUrl) {
              throw new Error(
                `cannot open PostgreSQL at ${postgresTarget(config.databaseUrl)} (ROUNDS_DATABASE_URL): ${reason} — check that the server runs and listens ` +
                  'on that address (listen_addresses), that pg_hba.conf lets this host in, that the database exists and the user owns it, and the password in the URL',
              );
            }
            throw new Error(`cannot open the SQLite database in ${config.dataDir}: ${reason} — check ROUNDS_DATA_DIR and free disk space`);
          }
        },
      },
      HealthRepository,
      // Hears of every transaction: /healthz, /metrics and the log say when storing fails.
      ...(serve ? [StorageHealth] : []),
    ];
    return { module: StorageModule, providers, exports: [DATA_SOURCE, HealthRepository, ...(serve ? [StorageHealth] : [])] };
  }
}
