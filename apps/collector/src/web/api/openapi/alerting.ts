import { z } from 'zod';
import { COMPARISONS, MATCH_OPS, SEVERITIES, WEEKDAYS } from '../../../alerting/index.js';
import {
  acknowledgeDto,
  addSilenceDto,
  alertHistoryQuery,
  checkPolicyDto,
  listAlertsQuery,
  listForecastsQuery,
  listRulesQuery,
  listSilencesQuery,
  listWindowsQuery,
  maintenanceWindowDto,
  setRulesDto,
  unacknowledgeQuery,
} from '../../../alerting/alerting.dto.js';
import type { ApiRoutes } from './routes.js';
import { CHECK_ID } from './checks.js';
import { checkStatus, epochMs, muteReason, TOTAL_COUNT } from './shared.js';

const labels = z.record(z.string(), z.string());
const matcher = z.strictObject({ label: z.string(), op: z.enum(MATCH_OPS), value: z.string() });
const severity = z.enum(SEVERITIES);

/** alerting/alert-views.ts AlertView. */
const alertView = z.strictObject({
  fingerprint: z.string(),
  name: z.string(),
  state: z.enum(['pending', 'firing', 'resolved']),
  severity,
  labels,
  summary: z.string(),
  reason: z.string(),
  value: z.number().nullable(),
  status: checkStatus.nullable(),
  source: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('check'), agentId: z.string(), checkId: z.string() }),
    z.strictObject({ type: z.literal('agent'), agentId: z.string() }),
    z.strictObject({ type: z.literal('rule'), rule: z.string(), agentId: z.string(), checkId: z.string(), metric: z.string() }),
  ]),
  activeAt: epochMs,
  firedAt: epochMs.nullable(),
  resolvedAt: epochMs.nullable(),
  ack: z.strictObject({ by: z.string(), comment: z.string(), at: epochMs, expiresAt: epochMs.nullable() }).nullable(),
  notified: z.boolean(),
  lastNotifiedAt: epochMs.nullable(),
  mutedBy: z.array(muteReason),
});

/** alerting.repository.ts HistoryLine. */
const historyLine = z.strictObject({
  id: z.number().int(),
  at: epochMs,
  fingerprint: z.string(),
  alertName: z.string(),
  transition: z.string(),
  by: z.string().nullable(),
  comment: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

/** RuleView: a rule in the form PUT /alert-rules takes, so a GET can be edited and sent back. */
const ruleCommon = {
  name: z.string(),
  metric: z.string(),
  matchers: z.array(z.string()),
  severity,
  repeat: z.string().optional(),
  description: z.string().optional(),
};
const ruleView = z.union([
  z.strictObject({ ...ruleCommon, op: z.enum(COMPARISONS), value: z.number(), for: z.string() }).meta({ description: 'A threshold rule' }),
  z
    .strictObject({ ...ruleCommon, kind: z.literal('forecast'), window: z.string(), horizon: z.string(), threshold: z.number() })
    .meta({ description: "A forecast rule: the metric's least-squares line over `window` reaches `threshold` within `horizon`" }),
]);

/** alerting/engine-forecasts.ts ForecastStatus. */
const forecastStatus = z.strictObject({
  rule: z.string(),
  checkId: z.string(),
  agentId: z.string(),
  series: z.string(),
  state: z.enum(['insufficient', 'steady', 'crossing']),
  why: z.string(),
  crossesAt: epochMs.nullable(),
  at: epochMs,
});

const silence = z.strictObject({
  id: z.string(),
  matchers: z.array(matcher),
  startsAt: epochMs,
  endsAt: epochMs,
  createdBy: z.string(),
  comment: z.string(),
  createdAt: epochMs,
});

const windowBase = { id: z.string(), name: z.string(), matchers: z.array(matcher), comment: z.string().nullable() };
const once = { ...windowBase, kind: z.literal('once'), startsAt: epochMs, endsAt: epochMs };
const recurring = {
  ...windowBase,
  kind: z.enum(['daily', 'weekly']),
  timeZone: z.string(),
  start: z.string(),
  end: z.string(),
  days: z.array(z.enum(WEEKDAYS)),
};
const maintenanceWindow = z.discriminatedUnion('kind', [z.strictObject(once), z.strictObject(recurring)]);
/** As listed: whether it is open now, and its next opening. */
const listed = { open: z.boolean(), next: z.strictObject({ start: epochMs, end: epochMs }).nullable() };
const listedWindow = z.discriminatedUnion('kind', [z.strictObject({ ...once, ...listed }), z.strictObject({ ...recurring, ...listed })]);

const flap = z.strictObject({ enabled: z.boolean(), window: z.number().int(), high: z.number(), low: z.number(), weighted: z.boolean() });
const policy = z.strictObject({
  checkId: z.string(),
  override: z
    .object({
      failuresBeforeHard: z.number().int().optional(),
      successesBeforeRecovery: z.number().int().optional(),
      flap: flap.partial().optional(),
      repeatMs: z.number().nullable().optional(),
    })
    .nullable(),
  policy: z.strictObject({ failuresBeforeHard: z.number().int(), successesBeforeRecovery: z.number().int(), flap, repeatMs: z.number().nullable() }),
});

const FINGERPRINT = { fingerprint: "the alert's fingerprint (16 hex digits)" };

export function alertingRoutes(api: ApiRoutes): void {
  const alert = api.component('AlertView', alertView);
  const rules = z.array(api.component('RuleView', ruleView));
  const silenced = api.component('Silence', silence);
  const window = api.component('MaintenanceWindow', maintenanceWindow);
  const checkPolicy = api.component('CheckPolicy', policy);
  api.add({
    method: 'get',
    path: '/alerts',
    role: 'viewer',
    query: listAlertsQuery,
    summary: 'Pending and firing alerts',
    description: 'And resolved ones whose "resolved" is still to go out, each with why it is muted.',
    ok: { status: 200, schema: z.array(alert), description: 'The alerts.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/alerts/history',
    role: 'viewer',
    summary: 'Alert history, newest first',
    description: '`label` takes one `name="value"` matcher; `check` and `agent` a name or an id; `before` (a line id) pages back as `offset` does.',
    query: alertHistoryQuery,
    ok: {
      status: 200,
      schema: z.array(api.component('AlertHistoryLine', historyLine)),
      description: 'One page of the transitions, acknowledgements and notifications sent or muted that match.',
      headers: TOTAL_COUNT,
    },
  });
  api.add({
    method: 'get',
    path: '/alerts/:fingerprint',
    role: 'viewer',
    summary: 'One alert',
    params: FINGERPRINT,
    ok: { status: 200, schema: alert, description: 'The alert.' },
  });
  api.add({
    method: 'post',
    path: '/alerts/:fingerprint/ack',
    role: 'operator',
    summary: 'Acknowledge an alert',
    description: 'Stops reminders until it expires or the alert resolves or changes severity.',
    params: FINGERPRINT,
    body: acknowledgeDto,
    ok: { status: 200, schema: alert, description: 'The alert, acknowledged.' },
    errors: [409],
  });
  api.add({
    method: 'delete',
    path: '/alerts/:fingerprint/ack',
    role: 'operator',
    summary: 'Withdraw an acknowledgement',
    params: FINGERPRINT,
    query: unacknowledgeQuery,
    ok: { status: 204, description: 'Withdrawn.' },
    errors: [409],
  });
  api.add({
    method: 'get',
    path: '/alert-rules',
    role: 'viewer',
    query: listRulesQuery,
    summary: 'Alert rules (threshold and forecast)',
    ok: { status: 200, schema: rules, description: 'The rules, as PUT takes them.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/alert-rules/forecasts',
    role: 'viewer',
    summary: 'What the forecast rules see',
    description: 'Per forecast rule and series, from the last round (every minute): crossing (the alert fires), steady, or why there is no forecast.',
    query: listForecastsQuery,
    ok: { status: 200, schema: z.array(api.component('ForecastStatus', forecastStatus)), description: 'One page of the last round.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'put',
    path: '/alert-rules',
    role: 'operator',
    summary: 'Replace the alert rules',
    description: 'The whole list; names unique.',
    body: setRulesDto,
    ok: { status: 200, schema: rules, description: 'The rules now.' },
  });
  api.add({
    method: 'get',
    path: '/silences',
    role: 'viewer',
    query: listSilencesQuery,
    summary: 'Silences',
    ok: {
      status: 200,
      schema: z.array(silence.extend({ active: z.boolean() })),
      description: 'The silences, and whether each is in force now.',
      headers: TOTAL_COUNT,
    },
  });
  api.add({
    method: 'post',
    path: '/silences',
    role: 'operator',
    summary: 'Add a silence',
    description:
      'Mutes the notifications of every alert whose labels match, from `startsAt` (default: now) until `endsAt` or for `duration`. `createdBy` may be left out (then `api`; the schema below calls it required: it is filled in first).',
    body: addSilenceDto,
    ok: { status: 201, schema: silenced, description: 'The silence.' },
  });
  api.add({
    method: 'delete',
    path: '/silences/:id',
    role: 'operator',
    summary: 'End a silence now',
    params: { id: "the silence's id" },
    ok: { status: 204, description: 'Ended.' },
  });
  api.add({
    method: 'get',
    path: '/maintenance-windows',
    role: 'viewer',
    query: listWindowsQuery,
    summary: 'Maintenance windows',
    ok: { status: 200, schema: z.array(listedWindow), description: 'The windows, whether each is open now, and when each opens next.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'post',
    path: '/maintenance-windows',
    role: 'operator',
    summary: 'Add or replace a maintenance window',
    description: 'A window without an `id` is a new one (the schema below calls `id` required: it is filled in first); one with the id of another replaces it.',
    body: maintenanceWindowDto,
    ok: { status: 201, schema: window, description: 'The window.' },
  });
  api.add({
    method: 'delete',
    path: '/maintenance-windows/:id',
    role: 'operator',
    summary: 'Remove a maintenance window',
    params: { id: "the window's id" },
    ok: { status: 204, description: 'Removed.' },
  });
  api.add({
    method: 'get',
    path: '/checks/:id/policy',
    role: 'viewer',
    summary: "A check's alerting policy",
    description: 'Its override and the policy in force (the defaults under it).',
    params: CHECK_ID,
    ok: { status: 200, schema: checkPolicy, description: 'The policy.' },
  });
  api.add({
    method: 'put',
    path: '/checks/:id/policy',
    role: 'operator',
    summary: "Set a check's alerting policy",
    description: '`{}` goes back to the defaults.',
    params: CHECK_ID,
    body: checkPolicyDto,
    ok: { status: 200, schema: checkPolicy, description: 'The policy now.' },
  });
}
