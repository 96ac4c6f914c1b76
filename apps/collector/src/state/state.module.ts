import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module.js';
import { PollingModule } from '../polling/polling.module.js';
import { OverviewService } from './overview.service.js';
import { StateCache } from './state-cache.service.js';

@Module({
  imports: [InventoryModule, PollingModule],
  providers: [StateCache, OverviewService],
  exports: [StateCache, OverviewService],
})
export class StateModule {}
