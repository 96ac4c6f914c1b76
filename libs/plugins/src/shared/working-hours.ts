// When a shortfall matters: a quiet worklist at 03:00 on a Sunday is normal, at 10:00 on a
// Tuesday it means the RIS feed is broken. Local wall-clock times in an IANA zone, on the same
// zone arithmetic as the collector's maintenance windows (libs/common time-zone.ts).
import { z } from 'zod';
import { addDays, describeWeeklySpan, localDateTime, WEEKDAYS, weekdayOf, type LocalDateTime, type Weekday } from '#rounds/common';
import { timeOfDay, timeZoneName } from '../schema.js';

const WORKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

export const workingHoursSchema = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }), { error: 'must be a list of weekdays, e.g. ["mon", "tue"]' })
      .min(1, 'needs at least one weekday, e.g. ["mon"]')
      .default(WORKDAYS)
      .meta({ description: 'the days on which working hours begin' }),
    from: timeOfDay().default('07:00').meta({ description: 'start of working hours, local time (24-hour HH:MM)' }),
    to: timeOfDay()
      .default('18:00')
      .meta({ description: 'end of working hours, local time; at or before from: the next day (a night shift), equal: the whole day' }),
    timeZone: timeZoneName().optional().meta({ description: "IANA time zone of from and to; default: the check's timeZone" }),
  })
  .meta({ description: 'when a shortfall alerts; outside these hours the value is reported but never alerts' });

export type WorkingHours = z.output<typeof workingHoursSchema>;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/**
 * True when the clocks in the zone read a time inside the working hours at `atMs`. A span
 * whose `to` is at or before its `from` runs into the next day and belongs to the day it
 * began on, as maintenance windows do; in the hour the clocks skip or repeat, the wall
 * clock decides.
 */
export function withinWorkingHours(hours: WorkingHours, atMs: number, timeZone: string): boolean {
  const local = localDateTime(atMs, hours.timeZone ?? timeZone);
  const now = local.hour * 60 + local.minute;
  const from = minutes(hours.from);
  const to = minutes(hours.to);
  const opensOn = (date: LocalDateTime) => hours.days.includes(WEEKDAYS[weekdayOf(date)]!);
  if (to > from) return opensOn(local) && now >= from && now < to;
  return (opensOn(local) && now >= from) || (opensOn(addDays(local, -1)) && now < to);
}

/** "mon–fri 07:00–18:00 Europe/Berlin", for summaries. */
export function describeWorkingHours(hours: WorkingHours, timeZone: string): string {
  return describeWeeklySpan({ timeZone: hours.timeZone ?? timeZone, start: hours.from, end: hours.to, days: hours.days });
}

/** The agent's own zone: what "today" means when a check names none. */
export function agentTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
