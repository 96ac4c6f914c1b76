import { Controller, Get, Param, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { HistoryService } from '../history/history.service.js';
import { AgentsService } from '../inventory/agents.service.js';
import { ChecksService } from '../inventory/checks.service.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { AgentPage, hostChartSeries } from './views/agent.page.js';
import { rangeOf } from './views/check.page.js';

/** An agent's own page: state, what it runs, its checks and its host metrics. */
@Controller('agents')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class AgentPagesController {
  constructor(
    private readonly agents: AgentsService,
    private readonly checks: ChecksService,
    private readonly history: HistoryService,
  ) {}

  @Get(':id')
  async page(@Param('id') id: string, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const agent = await this.agents.getView(id);
    const { range, from, to } = rangeOf(formText(query, 'range', 10), Date.now());
    const [checks, series] = await Promise.all([this.checks.listViews(agent.id), this.history.agentSeries(agent.id)]);
    sendPage(res, <AgentPage viewer={pageViewer(req)} agent={agent} checks={checks} series={hostChartSeries(series)} range={range} from={from} to={to} />);
  }
}
