import { z } from 'zod';
import { historyQuery, listSeriesQuery } from '../../../history/history.dto.js';
import type { ApiRoutes } from './routes.js';
import { AGENT_ID } from './agents.js';
import { CHECK_ID, historyRange } from './checks.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** history/metric-series.repository.ts Series: a metric name with one set of labels. */
const series = z.strictObject({ id: z.number().int(), checkId: z.string(), name: z.string(), labels: z.record(z.string(), z.string()), unit: z.string() });

const metricHistory = z.strictObject({
  ...historyRange,
  series,
  points: z.array(
    z.strictObject({ t: epochMs, samples: z.number().int(), avg: z.number().nullable(), min: z.number().nullable(), max: z.number().nullable() }),
  ),
});

const SERIES = 'a series id from the list, or a metric name that has one series';

export function seriesRoutes(api: ApiRoutes): void {
  const one = api.component('Series', series);
  const points = api.component('MetricHistory', metricHistory);
  for (const owner of ['checks', 'agents'] as const) {
    const params = owner === 'checks' ? CHECK_ID : AGENT_ID;
    const whose = owner === 'checks' ? 'What a check measured' : "An agent's host metrics";
    api.add({
      method: 'get',
      path: `/${owner}/:id/series`,
      role: 'viewer',
      query: listSeriesQuery,
      summary: `${whose}: its metric series`,
      params,
      ok: { status: 200, schema: z.array(one), description: 'The series.', headers: TOTAL_COUNT },
    });
    api.add({
      method: 'get',
      path: `/${owner}/:id/series/:series/history`,
      role: 'viewer',
      summary: `${whose}: one series over time`,
      description: 'At most `points` points of count, average, min and max over `from`–`to` (default: the last day).',
      params: { ...params, series: SERIES },
      query: historyQuery,
      ok: { status: 200, schema: points, description: 'The points; one without samples is a gap.' },
    });
  }
}
