import { z } from 'zod';
import { WEEKDAYS } from '#rounds/common';
import { timeOfDay, timeZoneName } from '#rounds/plugins';
import { instantField, instantParam, nameField, required } from '../alerting/fields.js';
import { listQuery } from '../shared/dto.js';

const weekday = z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` });

const localDate = z
  .string(required('must be a date like 2026-03-23'))
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-03-23')
  .refine((d) => {
    const [y, m, day] = d.split('-').map(Number) as [number, number, number];
    const t = new Date(Date.UTC(y, m - 1, day));
    return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === day;
  }, 'is not a calendar date');

const handoff = z.strictObject({
  interval: z.enum(['daily', 'weekly'], required('must be daily or weekly')),
  at: timeOfDay().default('08:00').meta({ description: 'local time of the handoff (24-hour HH:MM)' }),
  day: weekday.optional().meta({ description: 'weekly handoffs: the weekday (default mon)' }),
  every: z.number().int().min(1).max(52).default(1).meta({ description: 'hand off every N days or weeks' }),
});

const restriction = z
  .strictObject({
    days: z.array(weekday).min(1, 'needs at least one weekday, e.g. ["sat", "sun"]'),
    start: timeOfDay(),
    end: timeOfDay(),
  })
  .meta({ description: 'on call only in these local hours (an end at or before the start closes the next day: nights)' });

const rotation = z.strictObject({
  name: nameField('a name', 120).optional().meta({ description: 'default: "rotation <n>"' }),
  users: z.array(nameField('a user name', 120), required('must be a list of user names')).min(1, 'needs at least one user'),
  handoff,
  start: localDate.meta({ description: "local date of the first shift (weekly: the first handoff day on or after it), in the schedule's zone" }),
  restrict: restriction.optional(),
});

/**
 * A schedule as written. Users are named; channels by id or name (stored by id, so renaming a
 * channel keeps it). Whether users and channels exist is OnCallService's to say.
 */
export const scheduleDto = z
  .strictObject({
    name: nameField('a name', 120),
    timeZone: timeZoneName(),
    rotations: z.array(rotation, required('must be a list of rotations')).min(1, 'needs at least one rotation'),
    contacts: z
      .record(z.string(), z.array(nameField('a channel id or name', 120)).max(20))
      .default({})
      .meta({ description: 'per user name, the notification channels (id or name) that reach them' }),
  })
  .superRefine((s, ctx) => {
    const names = new Map<string, number>();
    s.rotations.forEach((r, i) => {
      const name = r.name ?? `rotation ${i + 1}`;
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['rotations', i, 'name'], message: `"${name}" is taken by rotation ${names.get(name)! + 1}` });
      names.set(name, i);
    });
  });
export type ScheduleDto = z.output<typeof scheduleDto>;

export const overrideDto = z
  .strictObject({
    user: nameField('a user name', 120),
    start: instantField(),
    end: instantField(),
    comment: nameField('text', 500).optional(),
  })
  .refine((o) => o.end > o.start, { path: ['end'], message: 'must be after start' });
export type OverrideDto = z.output<typeof overrideDto>;

/** `GET …/now?at=`: any instant, now when absent. */
export const nowQuery = z.strictObject({ at: instantParam() });
export type NowQuery = z.output<typeof nowQuery>;

/** `GET …/timeline?from=&to=`: both required. */
export const timelineQuery = z.strictObject({ from: instantParam(), to: instantParam() }).superRefine((q, ctx) => {
  if (q.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'is required' });
  if (q.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'is required' });
  if (q.from !== undefined && q.to !== undefined && q.to <= q.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
});
export type TimelineQuery = z.output<typeof timelineQuery>;

export const SCHEDULE_SORT_KEYS = ['name', 'timeZone'] as const;
export const listSchedulesQuery = listQuery(SCHEDULE_SORT_KEYS, 'name', { name: z.string().max(120).optional() });
export type ListSchedulesQuery = z.output<typeof listSchedulesQuery>;
