import { Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AlertingService } from '../alerting/alerting.service.js';
import { Access } from '../auth/access.decorator.js';
import { HistoryService } from '../history/history.service.js';
import { ChecksService } from '../inventory/checks.service.js';
import { CHECK_STATUSES } from '#rounds/common';
import { CurrentState } from '../state/current-state.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { SlaReportService } from './sla-report.service.js';
import { ConflictError } from '../shared/errors.js';
import type { NoticeKind } from './views/layout.js';
import { CheckPage, STATE_CHANGES_SHOWN } from './views/check.page.js';
import { pageRange } from './page-range.js';
import { ChecksPage } from './views/checks.page.js';
import { checkMatcher, filterQuery, readCheckFilter, type CheckFilter, type FilterableCheck } from './check-filter.js';
import { PerSecondCache } from './per-second-cache.js';

const PAGE_SIZE = 50;
const DONE: Record<string, string> = {
  created: 'Check added: its first result comes with the next poll of its agent.',
  saved: 'Check saved.',
  paused: 'Check paused: it keeps its history and runs again when resumed.',
  resumed: 'Check resumed.',
  deleted: 'Check deleted.',
};

/** The checks pages: every check searched and filtered, and a check's own page (state, uptime, charts, incidents, latest results). */
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

  /** Each list page's rows and each check page's data, shared for a model version and a second (per-second-cache.ts). */
  private readonly listData = new PerSecondCache<Awaited<ReturnType<CheckPagesController['listRows']>>>();
  private readonly pageData = new PerSecondCache<Awaited<ReturnType<CheckPagesController['readPage']>>>();

  /** Every check, searched and filtered on the server (name, agent, plugin, state or stale, tag), 50 a page. */
  @Get()
  async list(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const filter = readCheckFilter(query);
    const { matches, tagError } = checkMatcher(filter);
    const { matching, rows, page, pages, agents, plugins } = await this.listData.get(
      JSON.stringify([filter, formText(query, 'page', 10)]),
      this.state.version,
      Date.now(),
      () => this.listRows(filter, matches, formText(query, 'page', 10)),
    );
    sendPage(
      res,
      <ChecksPage
        viewer={pageViewer(req)}
        filter={filter}
        errors={tagError ? { tag: tagError } : {}}
        rows={rows}
        total={matching}
        page={page}
        pages={pages}
        agents={agents}
        plugins={plugins}
        query={filterQuery(filter)}
        notice={formText(query, 'done', 10) === 'deleted' ? DONE['deleted'] : undefined}
      />,
      tagError ? 400 : 200,
    );
  }

  @Get(':id')
  async page(@Param('id') id: string, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const done = DONE[formText(query, 'done', 10)];
    await this.render(id, query, req, res, done ? { kind: 'ok', text: done } : undefined);
  }

  /** "Check now": runs the check on its agent at once and shows what it gave (not stored; the next poll brings the stored result). */
  @Post(':id/run')
  @Access('operator')
  async run(@Param('id') id: string, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    let notice: { kind: NoticeKind; text: string };
    try {
      const r = await this.checks.runNow(id);
      notice = {
        kind: r.status === 'OK' ? 'ok' : 'error',
        text: `Checked now: ${r.status} — ${r.summary} (${r.durationMs} ms). The next poll stores the result.`,
      };
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      notice = { kind: 'error', text: `Could not check now: ${e.message}` };
    }
    await this.render(id, query, req, res, notice);
  }

  /** What a check's page shows over a range: the check, its uptime, chart data, incidents, state changes and latest results. */
  private async readPage(id: string, query: unknown, now: number) {
    const check = await this.checks.getView(id);
    const range = pageRange(query, now);
    const { from, to } = range;
    const [uptime, history, series, incidents, states, recent] = await Promise.all([
      this.history.uptime(id, from, to, this.reports.maintenance('exclude')),
      this.history.history(id, from, to, 300),
      this.history.checkSeries(id),
      this.alerting.incidents(id, from, to),
      this.history.stateHistory(id, from, to, STATE_CHANGES_SHOWN),
      this.history.recent(id, 20),
    ]);
    return { check, range, uptime, history, series, incidents, states, recent };
  }

  /** The checks matching a filter, and the views of one page of them. */
  private async listRows(filter: CheckFilter, matches: (c: FilterableCheck) => boolean, pageText: string) {
    // Filtered on the read model's records; only the page's 50 rows are made into views (a view
    // parses and redacts its config: for 2,000 checks that was most of the page's time — bench: ui).
    const now = Date.now();
    const matching = this.state.listChecks().filter((record) => {
      const { check, state } = record;
      const hasResult = state !== null && state.lastResultAt !== null;
      const state_ = this.state;
      // Getters: staleness and tags are worked out only when a filter asks for them.
      return matches({
        name: check.name,
        agentName: this.state.agentName(check.agentId),
        plugin: check.plugin,
        status: hasResult ? CHECK_STATUSES[state.status] : 'PENDING',
        get stale() {
          return hasResult && state_.freshness(record, now).stale;
        },
        get tags() {
          return state_.tagsOf(check);
        },
      });
    });
    const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
    const page = Math.min(pages, Math.max(1, Number.parseInt(pageText, 10) || 1));
    const rows = await Promise.all(
      matching
        .slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
        .map(async ({ check }) => ({ ...(await this.checks.getView(check.id)), agentName: this.state.agentName(check.agentId) })),
    );
    return {
      matching: matching.length,
      rows,
      page,
      pages,
      agents: [...new Set(this.state.listAgents().map((a) => a.agent.name))].sort(),
      plugins: [...new Set(this.state.listChecks().map((c) => c.check.plugin))].sort(),
    };
  }

  private async render(id: string, query: unknown, req: Request, res: Response, notice: { kind: NoticeKind; text: string } | undefined): Promise<void> {
    const now = Date.now();
    // Everything the range depends on: the same question within a second is answered once.
    const key = [id, ...['range', 'from', 'to', 'tz'].map((name) => formText(query, name, 64))].join('\u0000');
    const { check, range, uptime, history, series, incidents, states, recent } = await this.pageData.get(key, this.state.version, now, () =>
      this.readPage(id, query, now),
    );
    sendPage(
      res,
      <CheckPage
        viewer={pageViewer(req)}
        check={check}
        agent={this.state.agentName(check.agentId)}
        range={range}
        uptime={uptime}
        history={history}
        series={series}
        incidents={incidents}
        states={states}
        recent={recent}
        suppressedBy={this.alerting.suppressedBy({ kind: 'check', id: check.id })}
        notice={notice}
      />,
    );
  }
}
