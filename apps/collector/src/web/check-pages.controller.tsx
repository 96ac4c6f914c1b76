import { Controller, Get, Param, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AlertingService } from '../alerting/alerting.service.js';
import { Access } from '../auth/access.decorator.js';
import { HistoryService } from '../history/history.service.js';
import { ChecksService } from '../inventory/checks.service.js';
import { CurrentState } from '../state/current-state.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { SlaReportService } from './sla-report.service.js';
import { CheckPage, rangeOf } from './views/check.page.js';

/** A check's own page: its state, uptime, charts, incidents and latest results. */
@Controller('checks')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class CheckPagesController {
  constructor(
    private readonly checks: ChecksService,
    private readonly history: HistoryService,
    private readonly alerting: AlertingService,
    private readonly reports: SlaReportService,
    private readonly state: CurrentState,
  ) {}

  @Get(':id')
  async page(@Param('id') id: string, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const check = await this.checks.getView(id);
    const { range, from, to } = rangeOf(formText(query, 'range', 10), Date.now());
    const [uptime, history, series, incidents, recent] = await Promise.all([
      this.history.uptime(id, from, to, this.reports.maintenance('exclude')),
      this.history.history(id, from, to, 300),
      this.history.checkSeries(id),
      this.alerting.incidents(id, from, to),
      this.history.recent(id, 20),
    ]);
    sendPage(
      res,
      <CheckPage
        viewer={pageViewer(req)}
        check={check}
        agent={this.state.agentName(check.agentId)}
        range={range}
        from={from}
        to={to}
        uptime={uptime}
        history={history}
        series={series}
        incidents={incidents}
        recent={recent}
      />,
    );
  }
}
