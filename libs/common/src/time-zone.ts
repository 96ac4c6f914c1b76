/**
 * Wall-clock arithmetic in IANA time zones with nothing but Intl.DateTimeFormat: the
 * offset of a zone at an instant, and the instant a local date and time stands for —
 * including the hour that does not exist in spring and the hour that happens twice in autumn.
 * Shared by the collector's maintenance windows and the plugins' working hours.
 */

const DAY = 86_400_000;

/** Weekday names as configs write them, indexed like {@link weekdayOf} (0 = Sunday). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A local calendar date and wall-clock time; month 1–12. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

// Formatters are costly to build and the same few zones are asked about again and again.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows `timeZone` as an IANA zone name ("Europe/Berlin", "UTC"). */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local date and time in `timeZone` at the instant `atMs`. */
export function localDateTime(atMs: number, timeZone: string): Required<LocalDateTime> {
  const out: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(atMs))) {
    if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  return {
    year: out.year!,
    month: out.month!,
    day: out.day!,
    hour: out.hour! === 24 ? 0 : out.hour!,
    minute: out.minute!,
    second: out.second!,
  };
}

/** Local time minus UTC at `atMs`, in milliseconds (+3 600 000 for CET, +7 200 000 for CEST). */
export function zoneOffsetMs(atMs: number, timeZone: string): number {
  const whole = Math.floor(atMs / 1000) * 1000;
  return wallMs(localDateTime(whole, timeZone)) - whole;
}

/** The local date-time read as if it were UTC: a number to do calendar arithmetic on. */
export function wallMs(local: LocalDateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0);
}

/**
 * The instant at which the clocks in `timeZone` read `local`.
 *
 * A time that happens twice (the repeated hour when clocks go back) gives the first
 * (`'earlier'`) or the second (`'later'`) instant. A time that never happens (the hour
 * skipped when clocks go forward) gives the instant of the jump: the first moment at which
 * the local clock reads `local` or later.
 */
export function zonedToUtc(local: LocalDateTime, timeZone: string, prefer: 'earlier' | 'later' = 'earlier'): number {
  const wall = wallMs(local);
  // A zone changes its offset at most once within a day on either side of any real date.
  const before = zoneOffsetMs(wall - DAY, timeZone);
  const after = zoneOffsetMs(wall + DAY, timeZone);
  const candidates = [...new Set([wall - before, wall - after])].filter((t) => t + zoneOffsetMs(t, timeZone) === wall).sort((a, b) => a - b);
  if (candidates.length > 0) return prefer === 'earlier' ? candidates[0]! : candidates[candidates.length - 1]!;

  // In the gap: find the jump between the last instant on the old offset and the first on the new.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (zoneOffsetMs(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Adds whole calendar days to a local date (time of day unchanged). */
export function addDays(local: LocalDateTime, days: number): LocalDateTime {
  const d = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return { ...local, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** 0 = Sunday … 6 = Saturday, of a local calendar date. */
export function weekdayOf(local: LocalDateTime): number {
  return new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay();
}
