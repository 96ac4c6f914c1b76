import { Module, type DynamicModule } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { CollectorConfig } from './config/env.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { InventoryModule } from './inventory/inventory.module.js';
import { DeliveryModule } from './notifications/delivery.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { SecretsModule } from './secrets/secrets.module.js';
import { CoreModule } from './shared/core.module.js';
import { StateModule } from './state/state.module.js';
import { StorageModule } from './storage/storage.module.js';
import { UsersModule } from './users/users.module.js';
import { WebModule } from './web/web.module.js';

export interface CollectorModuleOptions {
  config: CollectorConfig;
  /** Serve HTTP and poll agents (`start`); the CLI's one-shot commands need neither. */
  serve: boolean;
  /** The system clock unless a spec moves time by hand. */
  clock?: Clock;
}

/**
 * The collector as feature modules, one folder each: storage, inventory (agents and checks),
 * auth, notifications, users, and — when serving — delivery, state, polling, alerting, metrics and web.
 */
@Module({})
export class CollectorModule {
  static register({ config, serve, clock }: CollectorModuleOptions): DynamicModule {
    return {
      module: CollectorModule,
      imports: [
        CoreModule.forRoot(config, clock),
        StorageModule.forRoot(config, serve),
        ClusterModule.forRoot(config, serve),
        InventoryModule,
        AuthModule,
        AuditModule,
        NotificationsModule,
        SecretsModule,
        UsersModule,
        ...(serve ? [StateModule, DeliveryModule, WebModule] : []),
      ],
    };
  }
}
