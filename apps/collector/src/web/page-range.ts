import { isTimeZone, localDateTime, zonedToUtc } from '#rounds/common';
import { formText } from './page-response.js';

/** The ranges the history pages offer as links, as `?range=`. */
export const CHECK_RANGES = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type CheckRange = keyof typeof CHECK_RANGES;

/** The longest range a page draws: the hour buckets' default retention and then some. */
const MAX_RANGE_MS = 10 * 366 * 86_400_000;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** The range a history page shows: a preset, or one chosen with the page's range form. */
export interface PageRange {
  range: CheckRange | 'custom';
  from: number;
  to: number;
  /** The range form's fields: as typed, or the shown range in the form's time zone; `zoneChosen` when `?tz=` named one. */
  form: { from: string; to: string; tz: string; zoneChosen: boolean };
  /** Why the chosen range was not taken (the page then shows the last 24 hours). */
  error?: string;
}

/** A `datetime-local` value in `timeZone` as epoch ms, or the text as typed (the caller names it). */
export function localInstant(text: string, timeZone: string): number | string | undefined {
  if (text === '') return undefined;
  const m = LOCAL.exec(text);
  if (!m || !isTimeZone(timeZone)) return text;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  return zonedToUtc({ year, month, day, hour, minute }, timeZone);
}

/** `atMs` as a `datetime-local` value in `timeZone`. */
export function localInputValue(atMs: number, timeZone: string): string {
  const l = localDateTime(atMs, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${l.year}-${two(l.month)}-${two(l.day)}T${two(l.hour)}:${two(l.minute)}`;
}

/**
 * `?range=24h|7d|30d`, or `?from=&to=` as local times (`2026-11-20T08:00`) in `?tz=` (an IANA zone;
 * the page's script fills in the viewer's own, UTC without it); anything else the last 24 hours.
 */
export function pageRange(query: unknown, now: number): PageRange {
  const zoneChosen = formText(query, 'tz', 64).trim() !== '';
  const tz = formText(query, 'tz', 64).trim() || 'UTC';
  const fromText = formText(query, 'from', 40);
  const toText = formText(query, 'to', 40);
  const preset = (name: CheckRange, error?: string): PageRange => {
    const from = now - CHECK_RANGES[name];
    const zone = isTimeZone(tz) ? tz : 'UTC';
    return {
      range: name,
      from,
      to: now,
      form: error
        ? { from: fromText, to: toText, tz, zoneChosen }
        : { from: localInputValue(from, zone), to: localInputValue(now, zone), tz: zone, zoneChosen },
      ...(error ? { error } : {}),
    };
  };
  if (fromText === '' && toText === '') {
    const asked = formText(query, 'range', 10);
    return preset(asked in CHECK_RANGES ? (asked as CheckRange) : '24h');
  }
  if (!isTimeZone(tz)) return preset('24h', `${JSON.stringify(tz)} is not an IANA time zone name: write one like Europe/Berlin or UTC`);
  const from = localInstant(fromText, tz);
  const to = localInstant(toText, tz);
  if (typeof from !== 'number') return preset('24h', 'the start must be a date and time, like 2026-11-20T08:00');
  if (typeof to !== 'number') return preset('24h', 'the end must be a date and time, like 2026-11-21T08:00');
  if (from >= to) return preset('24h', 'the start must come before the end');
  if (to - from > MAX_RANGE_MS) return preset('24h', 'a range may span 10 years at most');
  return { range: 'custom', from, to, form: { from: fromText, to: toText, tz, zoneChosen } };
}
