import { Controller, Get, Param, Query, Res, UseFilters } from '@nestjs/common';
import { CheckRefPipe } from './check-ref.pipe.js';
import type { Response } from 'express';
import { Access } from '../../auth/access.decorator.js';
import {
  incidentsQuery,
  listTagsQuery,
  slaQuery,
  uptimeQuery,
  type IncidentsQuery,
  type ListTagsQuery,
  type SlaQuery,
  type UptimeQuery,
} from '../../history/history.dto.js';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { AlertingService } from '../../alerting/alerting.service.js';
import { INCIDENT_FILTERS, INCIDENT_ORDER } from '../../alerting/alert-lists.js';
import { SlaReportService } from '../sla-report.service.js';
import type { Incident } from '../../alerting/incidents.js';
import { HistoryService, TAG_FILTERS, TAG_ORDER, type MaintenanceOf, type TagCount, type Uptime } from '../../history/history.service.js';
import { tagSelector, type TagSelector } from '../../shared/tags.js';
import { csvRows, sendsCsv } from '../../shared/csv.js';
import { ZodPipe } from '../zod.pipe.js';
import { ApiErrorFilter } from './error.filter.js';

const SLA_HEADER = ['month', 'name', 'agent', 'results', 'ok', 'warning', 'critical', 'unknown', 'uptime_percent', 'maintenance_minutes'];

/**
 * Uptime: a check's, an agent's, and the monthly SLA report — by default without the times
 * maintenance windows covered the check (`?maintenance=include` counts them).
 */
@Controller('api/v1')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class ReportsController {
  constructor(
    private readonly history: HistoryService,
    private readonly alerting: AlertingService,
    private readonly reports: SlaReportService,
  ) {}

  /** OK results as a share of all over `from`–`to` (default: the last 30 days). */
  @Get('checks/:id/uptime')
  checkUptime(@Param('id', CheckRefPipe) id: string, @Query(new ZodPipe(uptimeQuery, 'invalid query')) query: UptimeQuery): Promise<Uptime> {
    return this.history.uptime(id, query.from, query.to, this.maintenance(query.maintenance));
  }

  /**
   * The check's incidents overlapping `from`–`to` (default: the last 30 days): start, end, duration, reason, who acknowledged;
   * `?severity=&open=&acknowledged=` filter, `?sort=startedAt|durationMs` (oldest first by default), `?limit=&offset=`.
   */
  @Get('checks/:id/incidents')
  async incidents(
    @Param('id', CheckRefPipe) id: string,
    @Query(new ZodPipe(incidentsQuery, 'invalid query')) query: IncidentsQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Incident[]> {
    this.history.checkExists(id);
    return listAnswer(res, listPage(await this.alerting.incidents(id, query.from, query.to), query, INCIDENT_ORDER, INCIDENT_FILTERS));
  }

  /** All the agent's checks counted together (default: the last 30 days). */
  @Get('agents/:id/uptime')
  agentUptime(@Param('id') id: string, @Query(new ZodPipe(uptimeQuery, 'invalid query')) query: UptimeQuery): Promise<Uptime> {
    return this.history.agentUptime(id, query.from, query.to, this.maintenance(query.maintenance));
  }

  /** Every tag in use (`site=north`) with how many checks carry it; `?key=` filter, `?sort=tag|checks`, `?limit=&offset=`. */
  @Get('tags')
  tags(@Query(new ZodPipe(listTagsQuery, 'invalid query')) query: ListTagsQuery, @Res({ passthrough: true }) res: Response): TagCount[] {
    return listAnswer(res, listPage(this.history.tags(), query, TAG_ORDER, TAG_FILTERS));
  }

  /** The checks carrying the tag (`site=north`, or `site` for any value) counted together (default: the last 30 days). */
  @Get('tags/:tag/uptime')
  tagUptime(
    @Param('tag', new ZodPipe(tagSelector, 'invalid tag')) tag: TagSelector,
    @Query(new ZodPipe(uptimeQuery, 'invalid query')) query: UptimeQuery,
  ): Promise<Uptime> {
    return this.history.tagUptime(tag, query.from, query.to, this.maintenance(query.maintenance));
  }

  /** One row per check, agent or tag value for a calendar month in UTC, as CSV for a spreadsheet. */
  @Get('reports/sla.csv')
  async sla(@Query(new ZodPipe(slaQuery, 'invalid query')) query: SlaQuery, @Res({ passthrough: true }) res: Response): Promise<string> {
    const g = query.grouping;
    sendsCsv(res, `rounds-sla-${query.month}-${g.by === 'tag' ? `by-${g.key}` : `${g.by}s`}.csv`);
    const { rows } = await this.reports.report(query);
    return csvRows([
      SLA_HEADER,
      ...rows.map((r) => [
        query.month,
        r.name,
        r.agent,
        r.results,
        r.ok,
        r.warning,
        r.critical,
        r.unknown,
        r.uptimePercent === null ? null : r.uptimePercent.toFixed(3),
        Math.round(r.maintenanceMs / 60_000),
      ]),
    ]);
  }

  private maintenance(choice: 'exclude' | 'include'): MaintenanceOf | undefined {
    return this.reports.maintenance(choice);
  }
}
