import { Controller, Get, Inject, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import type { CollectorConfig } from '../config/env.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { PageErrorFilter } from './page-error.filter.js';
import { pageViewer, sendPage } from './page-response.js';
import { SettingsPage } from './views/settings.page.js';

/** The collector's settings in effect (admins): what each is now and which variable sets it. */
@Controller('settings')
@Access('admin')
@UseFilters(PageErrorFilter)
export class SettingsPagesController {
  constructor(@Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig) {}

  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    sendPage(res, <SettingsPage viewer={pageViewer(req)} config={this.config} />);
  }
}
