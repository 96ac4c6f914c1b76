import { z } from 'zod';
import { WEEKDAYS } from '#rounds/common';
import { listSchedulesQuery, nowQuery, overrideDto, scheduleDto, timelineQuery } from '../../../on-call/on-call.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, TOTAL_COUNT } from './shared.js';

/** on-call/rotation.ts OnCallSource: the rotation (by name) or override (by id) that puts a person on call. */
const source = z.union([z.strictObject({ rotation: z.string() }), z.strictObject({ override: z.string() })]);

const override = z.strictObject({
  id: z.string(),
  user: z.string(),
  start: epochMs,
  end: epochMs,
  comment: z.string().nullable(),
  createdBy: z.string(),
  createdAt: epochMs,
});

/** on-call/on-call.service.ts ScheduleView: rotations as stored (defaults filled in), contacts by channel id. */
const scheduleView = z.strictObject({
  id: z.string(),
  name: z.string(),
  timeZone: z.string(),
  rotations: z.array(
    z.strictObject({
      name: z.string(),
      users: z.array(z.string()),
      handoff: z.strictObject({ interval: z.enum(['daily', 'weekly']), at: z.string(), day: z.enum(WEEKDAYS).optional(), every: z.number().int() }),
      start: z.string(),
      restrict: z.strictObject({ days: z.array(z.enum(WEEKDAYS)), start: z.string(), end: z.string() }).optional(),
    }),
  ),
  contacts: z.record(z.string(), z.array(z.string())).meta({ description: 'per user name, the ids of the channels that reach them' }),
  overrides: z.array(override),
  createdAt: epochMs,
  updatedAt: epochMs,
});

const nowView = z.strictObject({
  schedule: z.string(),
  at: epochMs,
  users: z.array(z.strictObject({ name: z.string(), source, channels: z.array(z.strictObject({ id: z.string(), name: z.string() })) })),
  since: epochMs.nullable().meta({ description: 'when these people took over; null when they have been on call for longer than the longest rotation period' }),
  until: epochMs.nullable().meta({ description: 'the next change; null when nothing changes within the longest rotation period' }),
});

const timelineView = z.strictObject({
  schedule: z.string(),
  from: epochMs,
  to: epochMs,
  shifts: z.array(z.strictObject({ start: epochMs, end: epochMs, users: z.array(z.strictObject({ name: z.string(), source })) })),
});

const SCHEDULE = { schedule: "the schedule's id or name" };

export function onCallRoutes(api: ApiRoutes): void {
  const schedule = api.component('OnCallScheduleView', scheduleView);
  api.add({
    method: 'get',
    path: '/on-call/schedules',
    role: 'viewer',
    query: listSchedulesQuery,
    summary: 'On-call schedules',
    ok: { status: 200, schema: z.array(schedule), description: 'The schedules with their overrides.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/on-call/schedules/:schedule',
    role: 'viewer',
    summary: 'One on-call schedule',
    params: SCHEDULE,
    ok: { status: 200, schema: schedule, description: 'The schedule.' },
  });
  api.add({
    method: 'post',
    path: '/on-call/schedules',
    role: 'admin',
    summary: 'Add an on-call schedule',
    description: 'Every user and channel named must exist; the errors name each one that does not.',
    body: scheduleDto,
    ok: { status: 201, schema: schedule, description: 'The schedule.' },
    errors: [409],
  });
  api.add({
    method: 'put',
    path: '/on-call/schedules/:schedule',
    role: 'admin',
    summary: "Replace an on-call schedule's settings",
    description: 'Its overrides stay.',
    params: SCHEDULE,
    body: scheduleDto,
    ok: { status: 200, schema: schedule, description: 'The schedule as changed.' },
    errors: [409],
  });
  api.add({
    method: 'delete',
    path: '/on-call/schedules/:schedule',
    role: 'admin',
    summary: 'Remove an on-call schedule and its overrides',
    params: SCHEDULE,
    ok: { status: 204, description: 'Removed.' },
  });
  api.add({
    method: 'post',
    path: '/on-call/schedules/:schedule/overrides',
    role: 'admin',
    summary: 'Put someone on call from one instant to another',
    description: 'An override wins over every rotation of the schedule while it lasts.',
    params: SCHEDULE,
    body: overrideDto,
    ok: { status: 201, schema: override, description: 'The override.' },
  });
  api.add({
    method: 'delete',
    path: '/on-call/schedules/:schedule/overrides/:override',
    role: 'admin',
    summary: 'Remove an override',
    params: { ...SCHEDULE, override: "the override's id" },
    ok: { status: 204, description: 'Removed.' },
  });
  api.add({
    method: 'get',
    path: '/on-call/schedules/:schedule/now',
    role: 'viewer',
    summary: 'Who is on call now (or at ?at=)',
    params: SCHEDULE,
    query: nowQuery,
    ok: { status: 200, schema: nowView, description: 'The people on call, since when, until the next change, and the channels that reach them.' },
  });
  api.add({
    method: 'get',
    path: '/on-call/schedules/:schedule/timeline',
    role: 'viewer',
    summary: 'The shifts between two instants',
    description: 'At most 400 days; a shift without users is a gap nobody covers.',
    params: SCHEDULE,
    query: timelineQuery,
    ok: { status: 200, schema: timelineView, description: 'The shifts, clipped to the range.' },
  });
}
