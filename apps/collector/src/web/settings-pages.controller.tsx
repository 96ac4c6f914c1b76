import { Controller, Get, Inject, Optional, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import type { CollectorConfig } from '../config/env.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { PageErrorFilter } from './page-error.filter.js';
import { pageViewer, sendPage } from './page-response.js';
import { SettingsPage } from './views/settings.page.js';

/** The collector's settings in effect (admins): what each is now and which variable sets it. */
@Controller('settings')
@Access('admin')
@UseFilters(PageErrorFilter)
export class SettingsPagesController {
  constructor(
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const collectors = (await this.cluster.members?.()) ?? null;
    sendPage(res, <SettingsPage viewer={pageViewer(req)} config={this.config} collectors={collectors} />);
  }
}
