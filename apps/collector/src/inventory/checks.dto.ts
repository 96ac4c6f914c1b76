import { z } from 'zod';
import { withoutControlCharacters } from '#rounds/plugins';
import { tagSelector, tagsSchema } from '../shared/tags.js';
import { CHECK_STATUSES, durationField } from '#rounds/common';
import { booleanParam, enumParam, listQuery } from '../shared/dto.js';
import { dependsOnField } from './dependencies.js';

/**
 * Check requests as the API and the CLI send them: their shape only. ChecksService judges what
 * needs more than the request — the plugin's own config schema (the registry, the agent's
 * plugins), the interval floor (ROUNDS_MIN_CHECK_INTERVAL_MS), the timeout within the interval
 * (for a PATCH, the stored one), the checks-per-agent limit and name uniqueness.
 */
export const checkFields = {
  name: withoutControlCharacters(z.string().min(1).max(120)),
  // Any object here: the plugin's schema judges it in ChecksService, together with the other rules' errors.
  config: z.record(z.string(), z.unknown()),
  // "30s", "5m" or whole milliseconds (libs/common duration.ts); the interval floor is ChecksService's.
  intervalMs: durationField({ max: 86_400_000 }),
  timeoutMs: durationField({ min: 100, max: 600_000 }),
  enabled: z.boolean(),
  tags: tagsSchema,
  dependsOn: dependsOnField,
};

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;

export const createCheckDto = z
  .strictObject({
    agent: z.string().min(1).meta({ description: 'agent id or name' }),
    plugin: z.string().min(1),
    name: checkFields.name,
    config: checkFields.config.default({}),
    intervalMs: checkFields.intervalMs.default(DEFAULT_INTERVAL_MS),
    // Unset: 10 s, or the interval when that is shorter (a timeout never exceeds its interval).
    timeoutMs: checkFields.timeoutMs.optional(),
    enabled: checkFields.enabled.default(true),
    tags: checkFields.tags.default({}),
    dependsOn: checkFields.dependsOn.default([]),
  })
  .transform((c) => ({ ...c, timeoutMs: c.timeoutMs ?? Math.min(DEFAULT_TIMEOUT_MS, c.intervalMs) }));
export type CreateCheckDto = z.output<typeof createCheckDto>;

// No defaults here: zod applies defaults even inside .partial(), and a PATCH must change only what it names.
export const updateCheckDto = z.strictObject(checkFields).partial();
export type UpdateCheckDto = z.output<typeof updateCheckDto>;

/** `GET /checks?agent=<id or name>&tag=site=north`: one agent's checks, those with a tag (the agent's or their own). */
/** How `GET /checks?sort=` may order the list: `state` is worst first (CRITICAL, WARNING, UNKNOWN, OK, PENDING). */
export const CHECK_SORT_KEYS = ['agent', 'name', 'plugin', 'state', 'lastResult'] as const;

/** `GET /checks?agent=&tag=&name=&plugin=&state=&enabled=&sort=&limit=&offset=`; the answer's `X-Total-Count` says how many matched. */
export const listChecksQuery = listQuery(CHECK_SORT_KEYS, 'agent', {
  agent: z.string().optional(),
  tag: tagSelector.optional(),
  name: z.string().max(200).optional(),
  plugin: z.string().max(100).optional(),
  // PENDING: no result yet.
  state: enumParam([...CHECK_STATUSES, 'PENDING']),
  enabled: booleanParam(),
});
export type ListChecksQuery = z.output<typeof listChecksQuery>;
