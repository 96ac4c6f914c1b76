import { z } from 'zod';
import { AGENT_STATES } from '../../../storage/entities/agent.entity.js';
import { createCheckDto, listChecksQuery, updateCheckDto } from '../../../inventory/checks.dto.js';
import { historyQuery, recentResultsQuery, stateHistoryQuery } from '../../../history/history.dto.js';
import type { ApiRoutes } from './routes.js';
import { checkStatus, epochMs, metric, muteReason, tags, TOTAL_COUNT } from './shared.js';

/** inventory/checks.service.ts CheckView: a check's definition, secrets in its config redacted. */
export const checkView = z.strictObject({
  id: z.string(),
  agentId: z.string(),
  name: z.string(),
  plugin: z.string(),
  config: z.record(z.string(), z.unknown()).meta({ description: "the plugin's config, secrets redacted" }),
  intervalMs: z.number().int(),
  timeoutMs: z.number().int(),
  enabled: z.boolean(),
  tags,
  dependsOn: z.array(z.string()).meta({ description: 'parents as `check:<agent>/<check>` or `agent:<name>`: while one is down this one raises no new alert' }),
  effectiveTags: tags.meta({ description: "its agent's tags with its own over them" }),
  createdAt: epochMs,
  updatedAt: epochMs,
});

/** CheckStateView: where the check stands now; `stale` when that says nothing about now. */
export const checkStateView = z.strictObject({
  status: checkStatus,
  reason: z.string(),
  summary: z.string(),
  lastResultAt: epochMs.nullable(),
  lastOkAt: epochMs.nullable(),
  lastChangeAt: epochMs.nullable(),
  consecutiveFailures: z.number().int(),
  lastDurationMs: z.number().nullable(),
  metrics: z.array(metric),
  stale: z.boolean(),
  ageMs: z.number().nullable(),
  agentState: z.enum(AGENT_STATES),
});

const checkWithState = checkView.extend({ state: checkStateView.nullable().meta({ description: 'null before its first result' }) });

/** A stored result (HistoryService.recent). */
const result = z.strictObject({
  seq: z.number().int(),
  startedAt: epochMs,
  durationMs: z.number(),
  status: checkStatus,
  reason: z.string(),
  summary: z.string(),
  metrics: z.array(metric),
});

/** What running a check once gave (ChecksService.runNow): not stored. */
const runResult = z.strictObject({
  status: checkStatus,
  reason: z.string(),
  summary: z.string(),
  durationMs: z.number(),
  startedAt: epochMs,
  metrics: z.array(metric),
});

/** Results counted by status (history.service.ts StatusCounts). */
export const statusCounts = {
  results: z.number().int(),
  ok: z.number().int(),
  warning: z.number().int(),
  critical: z.number().int(),
  unknown: z.number().int(),
  uptimePercent: z.number().nullable().meta({ description: 'OK results as a share of all, in percent; null without results' }),
};

/** What History and MetricHistory share: the range read, the width of a point and where the points came from. */
export const historyRange = {
  from: epochMs,
  to: epochMs,
  stepMs: z.number(),
  source: z.enum(['raw', '1m', '1h']),
};

const history = z.strictObject({
  ...historyRange,
  points: z.array(
    z.strictObject({
      t: epochMs,
      ...statusCounts,
      durationAvgMs: z.number().nullable(),
      durationMinMs: z.number().nullable(),
      durationMaxMs: z.number().nullable(),
    }),
  ),
});

/** One change of a check's status, with when the status next changed (null: it still holds). */
const stateChange = z.strictObject({
  at: epochMs,
  from: checkStatus.nullable(),
  to: checkStatus,
  until: epochMs.nullable(),
  reason: z.string(),
  summary: z.string(),
});

export const CHECK_ID = { id: "the check's id, or `<agent>/<check name>`" };

export function checkRoutes(api: ApiRoutes): void {
  const check = api.component('CheckView', checkView);
  const listed = api.component('CheckWithState', checkWithState);
  api.add({
    method: 'get',
    path: '/checks',
    role: 'viewer',
    summary: 'List checks with their current state',
    query: listChecksQuery,
    ok: { status: 200, schema: z.array(listed), description: 'One page of the checks that match, sorted.', headers: TOTAL_COUNT },
    errors: [404],
  });
  api.add({
    method: 'get',
    path: '/checks/:id',
    role: 'viewer',
    summary: 'One check with its current state',
    params: CHECK_ID,
    ok: {
      status: 200,
      schema: api.component(
        'CheckWithStateSuppressed',
        checkWithState.extend({
          suppressedBy: z
            .array(muteReason)
            .meta({ description: 'what holds its new alerts back now: a parent that is down (its agent unreachable, for a check)' }),
        }),
      ),
      description: 'The check.',
    },
  });
  api.add({
    method: 'post',
    path: '/checks',
    role: 'operator',
    summary: 'Add a check',
    description: "The config is judged by the plugin's schema; intervals and timeouts take `30s`, `5m` or milliseconds.",
    body: createCheckDto,
    ok: { status: 201, schema: check, description: 'The check added.' },
    errors: [404, 409],
  });
  api.add({
    method: 'patch',
    path: '/checks/:id',
    role: 'operator',
    summary: 'Change a check',
    description: 'Only the fields sent change.',
    params: CHECK_ID,
    body: updateCheckDto,
    ok: { status: 200, schema: check, description: 'The check as changed.' },
    errors: [409],
  });
  api.add({
    method: 'delete',
    path: '/checks/:id',
    role: 'operator',
    summary: 'Remove a check',
    params: CHECK_ID,
    ok: { status: 204, description: 'Removed.' },
  });
  api.add({
    method: 'get',
    path: '/checks/:id/results',
    role: 'viewer',
    summary: "A check's latest results, newest first",
    params: CHECK_ID,
    query: recentResultsQuery,
    ok: { status: 200, schema: z.array(result), description: 'One page of the results, newest first unless sorted.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/checks/:id/history',
    role: 'viewer',
    summary: "A check's results counted over time",
    description: 'At most `points` points over `from`–`to` (default: the last day), from raw results or roll-ups by the range.',
    params: CHECK_ID,
    query: historyQuery,
    ok: { status: 200, schema: history, description: 'The points; one without results is a gap.' },
  });
  api.add({
    method: 'get',
    path: '/checks/:id/state-history',
    role: 'viewer',
    summary: "Each change of a check's status",
    params: CHECK_ID,
    query: stateHistoryQuery,
    ok: {
      status: 200,
      schema: z.array(api.component('StateChange', stateChange)),
      description: 'One page of the changes over `from`–`to` (default: the last 30 days), newest first unless sorted.',
      headers: TOTAL_COUNT,
    },
  });
  api.add({
    method: 'post',
    path: '/checks/:id/run',
    role: 'operator',
    summary: 'Run a check now',
    description: 'On its agent; the result is returned, not stored.',
    params: CHECK_ID,
    ok: { status: 200, schema: runResult, description: 'What the run gave.' },
    errors: [502],
  });
}
