import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { booleanParam, enumParam, limitParam, listQuery, orEmpty } from '../shared/dto.js';
import { FORECAST_STATES } from './engine-forecasts.js';
import {
  HISTORY_EVENTS,
  SEVERITIES,
  checkPolicySchema,
  instantField,
  instantParam,
  maintenanceWindowSchema,
  matcherField,
  nameField,
  ruleListSchema,
  silenceRequestSchema,
  textField,
} from './index.js';

/**
 * Alerting requests. The schemas of rules, silences, maintenance windows and check policies are
 * the domain's (config files use them too); here they get what only a request needs: who acts
 * until users exist, a new window's id, and how a request without a body is read.
 */

/** Who an action is recorded under until users exist. */
export const DEFAULT_ACTOR = 'api';

/** `input` with `key` set to `value()` when it is an object without it; anything else as it is, for the schema to refuse. */
const withDefault = (key: string, value: () => unknown) => (input: unknown) =>
  typeof input === 'object' && input !== null && !Array.isArray(input) && (input as Record<string, unknown>)[key] === undefined
    ? { ...input, [key]: value() }
    : input;

/** `{comment, expiresAt?, by?}`; no body says "comment: is required". */
export const acknowledgeDto = orEmpty(
  z.strictObject({
    comment: textField('text saying who is on it or why the alert can wait'),
    expiresAt: instantField().nullable().default(null),
    by: nameField('the name of who acknowledges', 200).default(DEFAULT_ACTOR),
  }),
);
export type AcknowledgeDto = z.output<typeof acknowledgeDto>;

/** `DELETE /alerts/:fingerprint/ack?by=`; an empty `by` is as good as none. */
export const unacknowledgeQuery = z.object({
  by: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    nameField('the name of who withdraws the acknowledgement', 200).default(DEFAULT_ACTOR),
  ),
});
export type UnacknowledgeQuery = z.output<typeof unacknowledgeQuery>;

/** What a history line may say: an engine event, or a notification `notified` or `muted`. */
export const HISTORY_KINDS = [...HISTORY_EVENTS, 'notified', 'muted'] as const;

/**
 * `GET /alerts/history?fingerprint=&name=&check=&agent=&kind=&severity=&label=&from=&to=&before=&sort=at|-at&limit=&offset=`:
 * newest first. `label` takes one equality matcher (`team="pacs"`): the lines keep their labels
 * as JSON text, which can be searched for one label and value but not for a regex.
 */
export const alertHistoryQuery = listQuery(
  ['at'],
  '-at',
  {
    fingerprint: z.string().max(64).optional(),
    name: z.string().max(200).optional(),
    check: z.string().max(200).optional(),
    agent: z.string().max(200).optional(),
    kind: enumParam(HISTORY_KINDS),
    severity: enumParam(SEVERITIES),
    label: matcherField()
      .refine((m) => m.op === '=', 'must be one label and its value, e.g. team="pacs": the history cannot be searched with !=, =~ or !~')
      .optional(),
    from: instantParam(),
    to: instantParam(),
    // The cursor the alerts page and older clients page back with; offset does the same.
    before: z.coerce
      .number({ error: 'must be the id of a history line' })
      .int('must be the id of a history line')
      .min(1, 'must be the id of a history line')
      .optional(),
  },
  limitParam(10_000, 100),
);
export type AlertHistoryQuery = z.output<typeof alertHistoryQuery>;

/** The whole rule list (names unique). */
export const setRulesDto = ruleListSchema;
export type SetRulesDto = z.output<typeof setRulesDto>;

export const addSilenceDto = z.preprocess(
  withDefault('createdBy', () => DEFAULT_ACTOR),
  silenceRequestSchema,
);
export type AddSilenceDto = z.output<typeof addSilenceDto>;

/** A window without an id is a new one. */
export const maintenanceWindowDto = z.preprocess(withDefault('id', randomUUID), maintenanceWindowSchema);
export type MaintenanceWindowDto = z.output<typeof maintenanceWindowDto>;

/** `{failuresBeforeHard?, successesBeforeRecovery?, flap?, repeat?}`; `{}` (or no body) goes back to the defaults. */
export const checkPolicyDto = orEmpty(checkPolicySchema);
export type CheckPolicyDto = z.output<typeof checkPolicyDto>;

export const ALERT_SORT_KEYS = ['activeAt', 'firedAt', 'name', 'severity', 'state'] as const;

/** `GET /alerts?state=&severity=&check=&agent=&name=&acknowledged=&sort=&limit=&offset=`: `check` and `agent` by name or id. */
export const listAlertsQuery = listQuery(ALERT_SORT_KEYS, '-activeAt', {
  state: enumParam(['pending', 'firing', 'resolved']),
  severity: enumParam(SEVERITIES),
  check: z.string().max(200).optional(),
  agent: z.string().max(200).optional(),
  name: z.string().max(200).optional(),
  acknowledged: booleanParam(),
});
export type ListAlertsQuery = z.output<typeof listAlertsQuery>;

export const RULE_SORT_KEYS = ['position', 'name', 'metric', 'severity'] as const;

/** `GET /alert-rules?name=&metric=&severity=&sort=&limit=&offset=`; by default in the order they were set. */
export const listRulesQuery = listQuery(RULE_SORT_KEYS, 'position', {
  name: z.string().max(200).optional(),
  metric: z.string().max(200).optional(),
  severity: enumParam(SEVERITIES),
});
export type ListRulesQuery = z.output<typeof listRulesQuery>;

export const FORECAST_SORT_KEYS = ['position', 'rule', 'series', 'crossesAt'] as const;

/** `GET /alert-rules/forecasts?rule=&state=&check=&sort=&limit=&offset=`: `rule` by its name, `check` by its id; as the last round gave them by default. */
export const listForecastsQuery = listQuery(FORECAST_SORT_KEYS, 'position', {
  rule: z.string().max(200).optional(),
  state: enumParam(FORECAST_STATES),
  check: z.string().max(200).optional(),
});
export type ListForecastsQuery = z.output<typeof listForecastsQuery>;

export const SILENCE_SORT_KEYS = ['position', 'startsAt', 'endsAt', 'createdAt'] as const;

/** `GET /silences?active=&createdBy=&sort=&limit=&offset=`; by default in the order they were added. */
export const listSilencesQuery = listQuery(SILENCE_SORT_KEYS, 'position', { active: booleanParam(), createdBy: z.string().max(200).optional() });
export type ListSilencesQuery = z.output<typeof listSilencesQuery>;

export const WINDOW_SORT_KEYS = ['position', 'name', 'next'] as const;

/** `GET /maintenance-windows?name=&kind=&open=&sort=&limit=&offset=`; `next` sorts open windows first, then by their next start; by default in the order they were added. */
export const listWindowsQuery = listQuery(WINDOW_SORT_KEYS, 'position', {
  name: z.string().max(200).optional(),
  kind: enumParam(['once', 'daily', 'weekly']),
  open: booleanParam(),
});
export type ListWindowsQuery = z.output<typeof listWindowsQuery>;
