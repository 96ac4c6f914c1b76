import { z } from 'zod';
import { tagSelector } from '../../../shared/tags.js';
import { incidentsQuery, listTagsQuery, slaQuery, uptimeQuery } from '../../../history/history.dto.js';
import type { ApiRoutes } from './routes.js';
import { AGENT_ID } from './agents.js';
import { CHECK_ID, statusCounts } from './checks.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** history.service.ts Uptime: the counts over the range counted (its ends may round outward past raw retention). */
const uptime = z.strictObject({
  ...statusCounts,
  from: epochMs,
  to: epochMs,
  maintenanceMs: z.number().meta({ description: 'time left out because maintenance windows covered the check' }),
});

/** alerting/incidents.ts Incident: one stretch an alert about the check was firing. */
const incident = z.strictObject({
  alert: z.string(),
  fingerprint: z.string(),
  severity: z.string().nullable(),
  startedAt: epochMs,
  endedAt: epochMs.nullable(),
  durationMs: z.number(),
  reason: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: epochMs.nullable(),
});

const RANGE = 'Over `from`–`to` (ISO time or epoch ms; default: the last 30 days); maintenance windows left out unless `maintenance=include`.';

export function reportRoutes(api: ApiRoutes): void {
  const counted = api.component('Uptime', uptime);
  api.add({
    method: 'get',
    path: '/checks/:id/uptime',
    role: 'viewer',
    summary: "A check's uptime",
    description: RANGE,
    params: CHECK_ID,
    query: uptimeQuery,
    ok: { status: 200, schema: counted, description: 'The counts.' },
  });
  api.add({
    method: 'get',
    path: '/checks/:id/incidents',
    role: 'viewer',
    summary: "A check's incidents",
    description: 'Start, end, duration, reason and who acknowledged, over `from`–`to` (default: the last 30 days).',
    params: CHECK_ID,
    query: incidentsQuery,
    ok: { status: 200, schema: z.array(incident), description: 'One page of the incidents, oldest first unless sorted.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/agents/:id/uptime',
    role: 'viewer',
    summary: "An agent's uptime: all its checks counted together",
    description: RANGE,
    params: AGENT_ID,
    query: uptimeQuery,
    ok: { status: 200, schema: counted, description: 'The counts.' },
  });
  api.add({
    method: 'get',
    path: '/tags',
    role: 'viewer',
    query: listTagsQuery,
    summary: 'Every tag in use, with how many checks carry it',
    ok: {
      status: 200,
      schema: z.array(z.strictObject({ key: z.string(), value: z.string(), checks: z.number().int() })),
      description: 'The tags.',
      headers: TOTAL_COUNT,
    },
  });
  api.add({
    method: 'get',
    path: '/tags/:tag/uptime',
    role: 'viewer',
    summary: 'The uptime of the checks carrying a tag',
    description: RANGE,
    params: { tag: { schema: tagSelector, description: '`key=value`, or `key` for any value' } },
    query: uptimeQuery,
    ok: { status: 200, schema: counted, description: 'The counts.' },
  });
  api.add({
    method: 'get',
    path: '/reports/sla.csv',
    role: 'viewer',
    summary: 'The monthly SLA report as CSV',
    description: 'One row per check, agent or value of a tag key for a calendar month in UTC (default: the last one).',
    query: slaQuery,
    ok: { status: 200, csv: true, description: 'RFC 4180 CSV.' },
  });
}
