import { z } from 'zod';
import { formatInterval } from './check-timing.js';

/**
 * Durations as people write them — "30s", "5m", "1h", "90d", "1500ms" — wherever Rounds takes one:
 * the API's bodies (checks' intervals and timeouts, rules, policies, silences), the CLI's flags,
 * the environment and plugin configs (the orthanc plugin's arrival silence). A bare number is milliseconds, so `intervalMs: 30000` keeps working.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
export const DURATION_HELP = 'must be a duration like 30s, 5m, 1h or 1d';

/** "30s" → 30000, "1500" → 1500 (milliseconds); a message saying what is wrong otherwise. */
export function parseDurationText(text: string): number | string {
  const m = DURATION.exec(text.trim());
  if (!m) return `${DURATION_HELP}, got ${JSON.stringify(text)}`;
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS]);
}

/** For flags and environment variables: the milliseconds, or an error naming `what`. */
export function parseDuration(text: string, what: string): number {
  const ms = parseDurationText(text);
  if (typeof ms === 'string') throw new Error(`${what} ${ms.replace(DURATION_HELP, 'must be a duration like 30s, 5m, 1h, 90d or 1500ms')}`);
  return ms;
}

/** A duration given as text ("15m") or as whole milliseconds, within `min`–`max` when given; the output is milliseconds. */
export function durationField(bounds: { min?: number; max?: number } = {}) {
  return z.union([z.string(), z.number()], { error: `${DURATION_HELP} (or whole milliseconds)` }).transform((value, ctx): number => {
    const ms =
      typeof value === 'number'
        ? Number.isInteger(value) && value >= 0
          ? value
          : `${DURATION_HELP} (or whole milliseconds), got ${value}`
        : parseDurationText(value);
    if (typeof ms === 'string') {
      ctx.addIssue({ code: 'custom', message: ms });
      return z.NEVER;
    }
    if (bounds.min !== undefined && ms < bounds.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${formatInterval(bounds.min)}, got ${formatInterval(ms)}` });
      return z.NEVER;
    }
    if (bounds.max !== undefined && ms > bounds.max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${formatInterval(bounds.max)}, got ${formatInterval(ms)}` });
      return z.NEVER;
    }
    return ms;
  });
}
