import { addDays, localDateTime, weekdayOf, WEEKDAYS, zonedToUtc, type LocalDateTime, type Weekday } from './time-zone.js';

/**
 * Wall-clock hours that recur on chosen weekdays in an IANA zone: the collector's recurring
 * maintenance windows and the plugins' working hours. An `end` at or before `start` closes the
 * next day (equal: a whole day). Local times mean wall-clock times: a span covers every instant
 * at which the zone's clocks read a time inside it, so it is an hour shorter when the clocks skip
 * an hour inside it and an hour longer when they repeat one.
 */
export interface WeeklySpan {
  timeZone: string;
  /** "HH:MM", 24-hour. */
  start: string;
  end: string;
  /** The days on which the span opens (a span across midnight belongs to the day it opened on). */
  days: readonly Weekday[];
}

/** [start, end) in epoch milliseconds. */
export interface Interval {
  start: number;
  end: number;
}

function clock(text: string): { hour: number; minute: number } {
  const [h, m] = text.split(':').map(Number) as [number, number];
  return { hour: h, minute: m };
}

/** The instants at which the span opened on local date `date` opens and closes. */
function spanOn(span: WeeklySpan, date: LocalDateTime): Interval {
  const start = clock(span.start);
  const end = clock(span.end);
  const wraps = end.hour * 60 + end.minute <= start.hour * 60 + start.minute;
  const endDate = wraps ? addDays(date, 1) : date;
  return {
    // A start in a repeated hour opens at its first pass and an end there closes at its
    // second, so the span is one interval that covers both passes.
    start: zonedToUtc({ ...date, ...start, second: 0 }, span.timeZone, 'earlier'),
    end: zonedToUtc({ ...endDate, ...end, second: 0 }, span.timeZone, 'later'),
  };
}

/** The span's occurrences that overlap [fromMs, toMs), in order, as exact UTC instants (not clipped to the range). */
export function weeklySpans(span: WeeklySpan, fromMs: number, toMs: number): Interval[] {
  const out: Interval[] = [];
  // Start a day early: yesterday's occurrence may still be open (a span across midnight).
  let date: LocalDateTime = addDays(localDateTime(fromMs, span.timeZone), -1);
  const last = localDateTime(toMs, span.timeZone);
  const lastDay = Date.UTC(last.year, last.month - 1, last.day);
  while (Date.UTC(date.year, date.month - 1, date.day) <= lastDay) {
    if (span.days.includes(WEEKDAYS[weekdayOf(date)]!)) {
      const o = spanOn(span, date);
      if (o.start < toMs && fromMs < o.end && o.start < o.end) out.push(o);
    }
    date = addDays(date, 1);
  }
  return out;
}

/** How many milliseconds of [fromMs, toMs) lie inside the span's occurrences. */
export function msWithin(span: WeeklySpan, fromMs: number, toMs: number): number {
  let total = 0;
  for (const o of weeklySpans(span, fromMs, toMs)) total += Math.min(o.end, toMs) - Math.max(o.start, fromMs);
  return total;
}

/** "mon–fri 07:00–18:00 Europe/Berlin": a day range where three or more days run on, else the days listed. */
export function describeWeeklySpan(span: WeeklySpan): string {
  const ordered = WEEKDAYS.filter((d) => span.days.includes(d));
  const indexes = ordered.map((d) => WEEKDAYS.indexOf(d));
  const consecutive = indexes.length > 2 && indexes.every((d, i) => i === 0 || d === indexes[i - 1]! + 1);
  const days = consecutive ? `${ordered[0]}–${ordered.at(-1)}` : ordered.join(',');
  return `${days} ${span.start}–${span.end} ${span.timeZone}`;
}
