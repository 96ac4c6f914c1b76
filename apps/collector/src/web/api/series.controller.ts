import { Controller, Get, Param, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { CheckRefPipe } from './check-ref.pipe.js';
import { Access } from '../../auth/access.decorator.js';
import { historyQuery, listSeriesQuery, type HistoryQuery, type ListSeriesQuery } from '../../history/history.dto.js';
import { HistoryService, SERIES_FILTERS, SERIES_ORDER, type MetricHistory, type Series } from '../../history/history.service.js';
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

  /** `?name=` filter, `?sort=name|unit`, `?limit=&offset=` (as every series list). */
  @Get('checks/:id/series')
  async checkSeries(
    @Param('id', CheckRefPipe) id: string,
    @Query(new ZodPipe(listSeriesQuery, 'invalid query')) query: ListSeriesQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Series[]> {
    return listAnswer(res, listPage(await this.history.checkSeries(id), query, SERIES_ORDER, SERIES_FILTERS));
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
  async agentSeries(
    @Param('id') id: string,
    @Query(new ZodPipe(listSeriesQuery, 'invalid query')) query: ListSeriesQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Series[]> {
    return listAnswer(res, listPage(await this.history.agentSeries(id), query, SERIES_ORDER, SERIES_FILTERS));
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
