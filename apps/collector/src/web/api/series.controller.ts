import { Controller, Get, Param, Query, UseFilters } from '@nestjs/common';
import { CheckRefPipe } from './check-ref.pipe.js';
import { Access } from '../../auth/access.decorator.js';
import { historyQuery, type HistoryQuery } from '../../history/history.dto.js';
import { HistoryService, type MetricHistory, type Series } from '../../history/history.service.js';
import { ZodPipe } from '../zod.pipe.js';
import { ApiErrorFilter } from './error.filter.js';

/**
 * Metric series over time: what a check measured (response times, certificate days, free space)
 * and an agent's host metrics, at most `points` points of count, average, min and max each,
 * read from raw results or roll-ups by the range like a check's history. `:series` is a series
 * id from the list, or a metric name that has one series.
 */
@Controller('api/v1')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class SeriesController {
  constructor(private readonly history: HistoryService) {}

  @Get('checks/:id/series')
  checkSeries(@Param('id', CheckRefPipe) id: string): Promise<Series[]> {
    return this.history.checkSeries(id);
  }

  @Get('checks/:id/series/:series/history')
  checkSeriesHistory(
    @Param('id', CheckRefPipe) id: string,
    @Param('series') series: string,
    @Query(new ZodPipe(historyQuery, 'invalid query')) q: HistoryQuery,
  ): Promise<MetricHistory> {
    return this.history.checkMetricHistory(id, series, q.from, q.to, q.points);
  }

  /** The agent's host metrics (the series of its host-metrics checks). */
  @Get('agents/:id/series')
  agentSeries(@Param('id') id: string): Promise<Series[]> {
    return this.history.agentSeries(id);
  }

  @Get('agents/:id/series/:series/history')
  agentSeriesHistory(
    @Param('id') id: string,
    @Param('series') series: string,
    @Query(new ZodPipe(historyQuery, 'invalid query')) q: HistoryQuery,
  ): Promise<MetricHistory> {
    return this.history.agentMetricHistory(id, series, q.from, q.to, q.points);
  }
}
