import { z } from 'zod';
import { instantParam } from '../alerting/fields.js';
import { SEVERITIES } from '../alerting/alerts.js';
import { booleanParam, enumParam, limitParam, listQuery } from '../shared/dto.js';
import { CHECK_STATUSES } from '#rounds/common';
import { tagKeyParam, tagSelector } from '../shared/tags.js';
import type { SlaGrouping } from './history.service.js';

/** `GET /checks/:id/results?from=&to=&status=&sort=startedAt|-startedAt&limit=&offset=`: newest first, 100 by default. */
export const recentResultsQuery = listQuery(
  ['startedAt'],
  '-startedAt',
  { from: instantParam(), to: instantParam(), status: enumParam(CHECK_STATUSES) },
  limitParam(10_000, 100),
);
export type RecentResultsQuery = z.output<typeof recentResultsQuery>;

/** The longest range one question may span: 10 years (the hour tier keeps 5 by default). */
const MAX_RANGE_MS = 10 * 366 * 86_400_000;

const range = { from: instantParam(), to: instantParam() };

/** `to` defaults to now and `from` to `spanMs` before it; `from` must come first, and the range may not be absurd. */
function resolveRange(spanMs: number) {
  return <Q extends { from?: number | undefined; to?: number | undefined }>(
    q: Q,
    ctx: z.RefinementCtx,
  ): Omit<Q, 'from' | 'to'> & { from: number; to: number } => {
    const to = q.to ?? Date.now();
    const from = q.from ?? to - spanMs;
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: `must be before to (${new Date(to).toISOString()})` });
    else if (to - from > MAX_RANGE_MS) ctx.addIssue({ code: 'custom', path: ['from'], message: 'the range may span 10 years at most' });
    return { ...q, from, to };
  };
}

const POINTS_RULE = 'must be a whole number from 1 to 2000';

/** `GET /checks/:id/history?from=&to=&points=` (default: the last day in at most 200 points). */
export const historyQuery = z
  .object({ ...range, points: z.coerce.number({ error: POINTS_RULE }).int(POINTS_RULE).min(1, POINTS_RULE).max(2000, POINTS_RULE).default(200) })
  .transform(resolveRange(86_400_000));
export type HistoryQuery = z.output<typeof historyQuery>;

/**
 * `GET /checks/:id/state-history?from=&to=&state=&sort=at|-at&limit=&offset=` (default: the last 30 days, the newest 100
 * changes); `state` keeps the changes to that status.
 */
export const stateHistoryQuery = listQuery(['at'], '-at', { ...range, state: enumParam(CHECK_STATUSES) }, limitParam(1000, 100)).transform(
  resolveRange(30 * 86_400_000),
);
export type StateHistoryQuery = z.output<typeof stateHistoryQuery>;

/** Whether times a maintenance window covered a check count (`include`) or are left out (`exclude`, the default: planned work is not downtime). */
const maintenance = z.enum(['exclude', 'include'], { error: 'must be exclude or include' }).default('exclude');

/** `GET /checks/:id/uptime?from=&to=&maintenance=` (default: the last 30 days). */
export const uptimeQuery = z.object({ ...range, maintenance }).transform(resolveRange(30 * 86_400_000));
export type UptimeQuery = z.output<typeof uptimeQuery>;

/** The calendar month before the one `now` is in, as `YYYY-MM` (UTC). */
function lastMonth(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

/**
 * `GET /reports/sla.csv?month=2026-11&by=check|agent|tag&key=site&tag=department=radiology`: a
 * calendar month in UTC (default: the last one), a line per check, agent or value of the tag
 * `key`, over the checks carrying `tag` (all without it).
 */
export const slaQuery = z
  .object({
    month: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month like 2026-11')
      .optional(),
    by: z.enum(['check', 'agent', 'tag'], { error: 'must be check, agent or tag' }).default('check'),
    key: tagKeyParam.optional(),
    tag: tagSelector.optional(),
    maintenance,
  })
  .transform((q, ctx) => {
    if (q.by === 'tag' && q.key === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'by=tag needs the tag key to group by, e.g. key=site' });
    const month = q.month ?? lastMonth();
    const [year, m] = month.split('-').map(Number) as [number, number];
    const grouping: SlaGrouping = q.by === 'tag' ? { by: 'tag', key: q.key ?? '' } : { by: q.by };
    return { month, grouping, tag: q.tag, maintenance: q.maintenance, from: Date.UTC(year, m - 1, 1), to: Date.UTC(year, m, 1) };
  });
export type SlaQuery = z.output<typeof slaQuery>;

/** `GET /checks/:id/incidents?from=&to=` (default: the last 30 days). */
export const INCIDENT_SORT_KEYS = ['startedAt', 'durationMs'] as const;

/**
 * `GET /checks/:id/incidents?from=&to=&severity=&open=&acknowledged=&sort=startedAt|durationMs&limit=&offset=`
 * (default: the last 30 days, oldest first): `open` those still firing, `acknowledged` those someone took on.
 */
export const incidentsQuery = listQuery(INCIDENT_SORT_KEYS, 'startedAt', {
  ...range,
  severity: enumParam(SEVERITIES),
  open: booleanParam(),
  acknowledged: booleanParam(),
}).transform(resolveRange(30 * 86_400_000));
export type IncidentsQuery = z.output<typeof incidentsQuery>;

export const TAG_SORT_KEYS = ['tag', 'checks'] as const;

/** `GET /tags?key=&sort=tag|checks&limit=&offset=`. */
export const listTagsQuery = listQuery(TAG_SORT_KEYS, 'tag', { key: tagKeyParam.optional() });
export type ListTagsQuery = z.output<typeof listTagsQuery>;

export const SERIES_SORT_KEYS = ['name', 'unit'] as const;

/** `GET /checks/:id/series?name=&sort=&limit=&offset=` (and an agent's). */
export const listSeriesQuery = listQuery(SERIES_SORT_KEYS, 'name', { name: z.string().max(200).optional() });
export type ListSeriesQuery = z.output<typeof listSeriesQuery>;
