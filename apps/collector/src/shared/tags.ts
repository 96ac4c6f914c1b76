import { z } from 'zod';
import { withoutControlCharacters } from '#rounds/plugins';

/**
 * Tags: free `key=value` pairs on agents and checks (`site=north`, `department=radiology`,
 * `modality=CT`). A check carries its agent's tags and its own, its own winning on the same key.
 * Keys follow Prometheus label names so a tag can become a label anywhere; the names Rounds
 * already gives every check's labels are refused, so a tag never hides one.
 */
export type Tags = Readonly<Record<string, string>>;

export const MAX_TAGS = 20;
const KEY = /^[a-z][a-z0-9_]{0,39}$/;
const RESERVED = new Set(['agent', 'agent_id', 'check', 'check_id', 'plugin', 'metric', 'alertname', 'severity', 'status']);

/** A tag key as a query parameter (`?key=site`). */
export const tagKeyParam = z
  .string()
  .regex(KEY, 'a tag key is 1–40 lower-case letters, digits or underscores, starting with a letter (site, department, modality)');

const tagKey = tagKeyParam.refine((k) => !RESERVED.has(k), { message: `is a name Rounds gives every check (${[...RESERVED].join(', ')}) — pick another key` });

export const tagsSchema = z
  .record(tagKey, withoutControlCharacters(z.string().min(1, 'a tag value must not be empty').max(200)))
  .refine((t) => Object.keys(t).length <= MAX_TAGS, { message: `at most ${MAX_TAGS} tags` });

/** Tags as stored (a JSON object column); anything else reads as no tags. */
export function parseTags(json: string | null | undefined): Tags {
  if (!json) return {};
  try {
    const value = JSON.parse(json) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Tags) : {};
  } catch {
    return {};
  }
}

/** Keys sorted, so equal tags store as equal text. */
export function tagsText(tags: Tags): string {
  return JSON.stringify(Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** A check's tags: its agent's, then its own over them. */
export function effectiveTags(agent: Tags, check: Tags): Tags {
  return { ...agent, ...check };
}

/** `key=value` (one tag) or `key` (any value) as a selector, e.g. `?tag=site=north`. */
export const tagSelector = z.string().transform((text, ctx) => {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (!KEY.test(key)) {
    ctx.addIssue({ code: 'custom', message: 'must be key=value (site=north) or a key alone (site): keys are lower-case letters, digits, underscores' });
    return z.NEVER;
  }
  return { key, value: eq < 0 ? undefined : text.slice(eq + 1) };
});
export type TagSelector = z.output<typeof tagSelector>;

export function matchesTag(tags: Tags, selector: TagSelector): boolean {
  const value = tags[selector.key];
  return value !== undefined && (selector.value === undefined || value === selector.value);
}
