import { z } from 'zod';
import { withoutControlCharacters } from '#rounds/plugins';

/** Zod fields shared by the rule, check-policy, silence and maintenance schemas (durations: libs/common duration.ts). */

/** An instant given as epoch milliseconds or as an ISO 8601 text with a zone ("2025-03-30T01:00:00Z"). */
export function instantField() {
  const help = 'must be a time like 2025-03-30T01:00:00Z (with Z or an offset) or epoch milliseconds';
  return z.union([z.string(), z.number()], { error: help }).transform((value, ctx): number => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
    if (typeof value === 'string' && /(?:Z|[+-]\d\d:\d\d)$/.test(value.trim())) {
      const ms = Date.parse(value.trim());
      if (!Number.isNaN(ms)) return ms;
    }
    ctx.addIssue({ code: 'custom', message: `${help}, got ${JSON.stringify(value)}` });
    return z.NEVER;
  });
}

/** An instant in a query string (`?from=`): epoch ms as digits, or an ISO time; empty is absent. */
export const instantParam = () =>
  z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v === '' ? undefined : v), instantField().optional());

/** Non-blank text; "is required" when missing. */
export function textField(what = 'text', max = 1000) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);
}

/** A name or id: non-blank text on one line, without control characters. */
export function nameField(what = 'text', max = 200) {
  return withoutControlCharacters(textField(what, max));
}

/** Zod's message for a missing value, replaced by one a person can act on. */
export function required(message: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message) };
}
