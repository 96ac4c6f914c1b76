import { z } from 'zod';
import { mapSecrets } from '#rounds/common';
import { checkPolicySchema, maintenanceWindowSchema, ruleSchema } from '../alerting/index.js';
import { createChannelDto } from '../notifications/channels.dto.js';
import { AGENT_NAME, AGENT_NAME_RULE } from '../inventory/agents.dto.js';
import { checkFields } from '../inventory/checks.dto.js';
import { tagsSchema } from '../shared/tags.js';
import { dependsOnField } from '../inventory/dependencies.js';
import { policyDto } from '../routing/policy.js';
import { orEmpty } from '../shared/dto.js';

/**
 * The configuration document (`rounds-collector config export|apply`): agents, checks with their
 * alerting policies, notification channels, alert rules and maintenance windows, each matched by
 * name — ids never appear. Every entry is judged by the schema its own API route uses; what only
 * a whole document can get wrong (a name twice, a check of an agent that is nowhere) is judged
 * here and by ConfigDocumentService. Retention and the other settings of the environment
 * (ROUNDS_*) are not in it: they are the process's, not the database's.
 */
export const API_VERSION = 'rounds/v1';
export const KIND = 'Config';

/** A secret that the CLI fills in from its own environment before sending the document. */
export const envReferenceSchema = z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') });
export type EnvReference = z.output<typeof envReferenceSchema>;

const agentEntry = z.strictObject({
  name: z.string({ error: AGENT_NAME_RULE }).regex(AGENT_NAME, AGENT_NAME_RULE),
  host: z.string({ error: 'must be the host name or address the agent listens on' }).min(1).max(253),
  port: z.number({ error: 'must be a port number' }).int('must be a port number').min(1, 'must be a port number').max(65535, 'must be a port number'),
  fingerprint: z
    .string({ error: "must be the SHA-256 fingerprint of the agent's certificate (64 hex digits)" })
    .transform((f) => f.toLowerCase().replace(/:/g, ''))
    .pipe(z.string().regex(/^[0-9a-f]{64}$/, "must be the SHA-256 fingerprint of the agent's certificate (64 hex digits)")),
  tags: tagsSchema.default({}),
  /** Parents (`check:<agent>/<check>`, `agent:<agent>`): names, as the document holds no ids. */
  dependsOn: dependsOnField.default([]),
  /** Only for an agent the collector does not have yet: the bearer token from its enrolment string. */
  token: z
    .string({ error: 'must be the agent token (from its enrolment string), e.g. token: {env: ROUNDS_SECRET_AGENT_PACS_01_TOKEN}' })
    .regex(/^[A-Za-z0-9_-]{32,128}$/, 'must be the agent token: 32–128 letters, digits, "-" or "_" (the part before the @ in its enrolment string)')
    .optional(),
});

const checkEntry = z.strictObject({
  agent: z.string({ error: 'must be the name of an agent' }).min(1),
  name: checkFields.name,
  plugin: z.string({ error: 'must be a plugin name' }).min(1),
  enabled: checkFields.enabled.default(true),
  // The API's defaults (createCheckDto): 1 m; the timeout 10 s or the interval when shorter.
  intervalMs: checkFields.intervalMs.default(60_000),
  timeoutMs: checkFields.timeoutMs.optional(),
  tags: checkFields.tags.default({}),
  config: checkFields.config.default({}),
  dependsOn: dependsOnField.default([]),
  /** The check's own alerting policy; absent: the collector's defaults. */
  policy: checkPolicySchema.optional(),
});

const windowEntry = z.preprocess(
  // Windows are matched by name: the name is their id in the document (the engine keeps a stored window's own).
  (w) => (typeof w === 'object' && w !== null && !Array.isArray(w) && !('id' in w) ? { ...w, id: (w as { name?: unknown }).name ?? '' } : w),
  maintenanceWindowSchema,
);

/** Names must be unique within a section (a check's name within its agent). */
function uniqueNames(section: string, entries: readonly { name: string; agent?: string }[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const key = e.agent === undefined ? e.name : `${e.agent}/${e.name}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else ctx.addIssue({ code: 'custom', path: [section, i, 'name'], message: `"${key}" is already the name of ${section}.${first}: names must be unique` });
  });
}

export const configDocumentSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION, { error: `must be ${API_VERSION}` }),
    kind: z.literal(KIND, { error: `must be ${KIND}` }),
    agents: z.array(agentEntry, { error: 'must be a list of agents' }).default([]),
    checks: z.array(checkEntry, { error: 'must be a list of checks' }).default([]),
    channels: z.array(createChannelDto, { error: 'must be a list of notification channels' }).default([]),
    rules: z.array(ruleSchema, { error: 'must be a list of alert rules' }).default([]),
    maintenance: z.array(windowEntry, { error: 'must be a list of maintenance windows' }).default([]),
    /** Notification policies in the order they are matched (the list's order is their position); channels by name. */
    notificationPolicies: z.array(policyDto.omit({ position: true }), { error: 'must be a list of notification policies' }).default([]),
  })
  .superRefine((doc, ctx) => {
    uniqueNames('agents', doc.agents, ctx);
    uniqueNames('checks', doc.checks, ctx);
    uniqueNames('channels', doc.channels, ctx);
    uniqueNames('rules', doc.rules, ctx);
    uniqueNames('maintenance', doc.maintenance, ctx);
    uniqueNames('notificationPolicies', doc.notificationPolicies, ctx);
    doc.maintenance.forEach((w, i) => {
      if (w.id !== w.name)
        ctx.addIssue({
          code: 'custom',
          path: ['maintenance', i, 'id'],
          message: 'unknown field: windows are matched by name, ids are not part of the document',
        });
    });
  });
export type ConfigDocument = z.output<typeof configDocumentSchema>;
export type AgentEntry = ConfigDocument['agents'][number];
export type CheckEntry = ConfigDocument['checks'][number];

/** `POST /config/plan|apply`: `{document, prune?}`. */
export const applyConfigDto = orEmpty(
  z.strictObject({
    document: configDocumentSchema,
    prune: z.boolean({ error: 'must be true or false' }).default(false),
  }),
);
export type ApplyConfigDto = z.output<typeof applyConfigDto>;

/** `GET /config?secrets=true`. */
export const exportConfigQuery = z.object({
  secrets: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
});
export type ExportConfigQuery = z.output<typeof exportConfigQuery>;

/** One change of a plan: `from`/`to` as the document writes them, secrets redacted. */
export interface PlannedChange {
  path: string;
  from: unknown;
  to: unknown;
}

export interface PlanItem {
  action: 'create' | 'update' | 'delete';
  kind: 'agent' | 'check' | 'channel' | 'rule' | 'maintenance' | 'notification-policy';
  name: string;
  changes: PlannedChange[];
}

/**
 * The environment variable an exported secret is referred to by: `ROUNDS_SECRET_` and the
 * owner's words in capitals, e.g. ROUNDS_SECRET_CHANNEL_PAGER_PASSWORD for `password` of the
 * channel "pager". Deterministic, so that an export is the same document every time.
 */
export function secretVariable(...words: string[]): string {
  return ['ROUNDS_SECRET', ...words]
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/_+$/, '');
}

/**
 * `config` with every value its schema marks secret replaced by `{env: NAME}`, NAME made from
 * `owner` and the field's path within the config.
 */
export function secretsAsReferences(schema: unknown, config: unknown, owner: string[]): unknown {
  const fields: string[] = [];
  mapSecrets(schema, config, (s, field) => {
    fields.push(field);
    return s;
  });
  if (fields.length === 0) return config;
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const field of fields) {
    const path = field.split('.').slice(1);
    let at: Record<string, unknown> = copy;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1)!] = { env: secretVariable(...owner, ...path) } satisfies EnvReference;
  }
  return copy;
}

/** A JSON value with its object keys sorted at every depth: the same content is the same text. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]),
  );
}
