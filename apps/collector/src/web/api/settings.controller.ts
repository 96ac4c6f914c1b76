import { Controller, Get, Inject, Optional, UseFilters } from '@nestjs/common';
import { ROUNDS_VERSION } from '#rounds/common';
import { Access } from '../../auth/access.decorator.js';
import type { CollectorConfig } from '../../config/env.js';
import { settingRows, type SettingRow } from '../../config/settings-in-effect.js';
import { CLUSTER, SOLO, type Cluster, type CollectorMember } from '../../cluster/cluster.js';
import { COLLECTOR_CONFIG } from '../../shared/tokens.js';
import { roleViews, type RoleView } from '../../users/roles.js';
import { ApiErrorFilter } from './error.filter.js';

/** How this collector is set up: the settings in effect (what the settings page shows) and the roles users may have. */
@Controller('api/v1')
@UseFilters(ApiErrorFilter)
export class SettingsController {
  constructor(
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {}

  /** Each setting's value now and the variable that sets it; secrets say only whether they are set. Changed in the environment, applied at the next start. */
  @Get('settings')
  @Access('admin')
  settings(): { version: string; settings: SettingRow[] } {
    return { version: ROUNDS_VERSION, settings: settingRows(this.config) };
  }

  /**
   * The collectors sharing this database (several on one PostgreSQL): each one's heartbeat, the
   * agents it polls and which leads. `shared: false` and no list on a single collector.
   */
  @Get('collectors')
  @Access('admin')
  async collectors(): Promise<{ shared: boolean; collectors: CollectorMember[] }> {
    return { shared: this.cluster.shared, collectors: (await this.cluster.members?.()) ?? [] };
  }

  /** The roles, least to most, with what each may do. */
  @Get('roles')
  @Access('viewer')
  roles(): RoleView[] {
    return roleViews();
  }
}
