import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { CheckRefPipe } from './check-ref.pipe.js';
import { CHECK_FILTERS, CHECK_ORDER, ChecksService } from '../../inventory/checks.service.js';
import { createCheckDto, listChecksQuery, updateCheckDto, type CreateCheckDto, type ListChecksQuery, type UpdateCheckDto } from '../../inventory/checks.dto.js';
import { HistoryService } from '../../history/history.service.js';
import { AlertingService } from '../../alerting/alerting.service.js';
import {
  historyQuery,
  recentResultsQuery,
  stateHistoryQuery,
  type HistoryQuery,
  type RecentResultsQuery,
  type StateHistoryQuery,
} from '../../history/history.dto.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { Audit } from '../audit-context.js';
import type { AuditContext } from '../../audit/audit.types.js';

@Controller('api/v1/checks')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class ChecksController {
  constructor(
    private readonly checks: ChecksService,
    private readonly history: HistoryService,
    private readonly alerting: AlertingService,
  ) {}

  /** `?agent=<id or name>&tag=k=v&name=&plugin=&state=&enabled=` filter, `?sort=agent|name|plugin|state|lastResult` (`-` reverses), `?limit=&offset=` page; `X-Total-Count` says how many matched. */
  @Get()
  async list(@Query(new ZodPipe(listChecksQuery, 'invalid query')) query: ListChecksQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(await this.checks.listViews(query.agent, query.tag), query, CHECK_ORDER, CHECK_FILTERS));
  }

  /** The check with its state, and what holds its new alerts back now (`suppressedBy`: a parent down, its agent unreachable). */
  @Get(':id')
  async get(@Param('id', CheckRefPipe) id: string) {
    return { ...(await this.checks.getView(id)), suppressedBy: this.alerting.suppressedBy({ kind: 'check', id }) };
  }

  @Post()
  @Access('operator')
  create(@Body(new ZodPipe(createCheckDto, 'invalid check')) dto: CreateCheckDto, @Audit() context: AuditContext) {
    return this.checks.create(dto, context);
  }

  @Patch(':id')
  @Access('operator')
  update(@Param('id', CheckRefPipe) id: string, @Body(new ZodPipe(updateCheckDto, 'invalid check')) dto: UpdateCheckDto, @Audit() context: AuditContext) {
    return this.checks.update(id, dto, context);
  }

  @Delete(':id')
  @Access('operator')
  @HttpCode(204)
  async remove(@Param('id', CheckRefPipe) id: string, @Audit() context: AuditContext): Promise<void> {
    await this.checks.remove(id, context);
  }

  /** Newest first; `?from=&to=` (start time, `to` exclusive), `?status=`, `?sort=startedAt|-startedAt`, `?limit=` (default 100) `&offset=`. */
  @Get(':id/results')
  async recent(
    @Param('id', CheckRefPipe) id: string,
    @Query(new ZodPipe(recentResultsQuery, 'invalid query')) query: RecentResultsQuery,
    @Res({ passthrough: true }) res: Response,
  ) {
    return listAnswer(res, await this.history.resultsPage(id, query));
  }

  /** At most `points` points over `from`–`to` (default: the last day, 200 points), read from raw results or roll-ups by the range. */
  @Get(':id/history')
  historyOf(@Param('id', CheckRefPipe) id: string, @Query(new ZodPipe(historyQuery, 'invalid query')) query: HistoryQuery) {
    return this.history.history(id, query.from, query.to, query.points);
  }

  /**
   * Each time the status took a different value over `from`–`to` (default: the last 30 days), with when it next changed:
   * `?state=` keeps the changes to one status, `?sort=at|-at` (newest first by default), `?limit=` (default 100) `&offset=`.
   */
  @Get(':id/state-history')
  async stateHistory(
    @Param('id', CheckRefPipe) id: string,
    @Query(new ZodPipe(stateHistoryQuery, 'invalid query')) query: StateHistoryQuery,
    @Res({ passthrough: true }) res: Response,
  ) {
    return listAnswer(res, await this.history.stateChangesPage(id, query));
  }

  /** Runs the check on its agent now ("check now"); the result is returned, not stored. */
  @Post(':id/run')
  @Access('operator')
  @HttpCode(200)
  run(@Param('id', CheckRefPipe) id: string) {
    return this.checks.runNow(id);
  }
}
