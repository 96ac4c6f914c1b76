import { addDays, weekdayOf, WEEKDAYS, weeklySpans, zonedToUtc, type Interval, type LocalDateTime, type Weekday } from '#rounds/common';

/**
 * Who is on call, as pure arithmetic over a schedule (no storage, no clock): rotations hand off
 * at a local wall-clock time in the schedule's zone, so a handoff at 08:00 stays at 08:00 across
 * a DST change (that shift is an hour shorter or longer); overrides win over every rotation.
 * Zone arithmetic and weekly hours are libs/common's (time-zone.ts, weekly-spans.ts), the same
 * as maintenance windows and the plugins' working hours.
 */

/** Only on call during these local hours (nights, weekends): a span opened on each of `days`. */
export interface Restriction {
  days: readonly Weekday[];
  /** "HH:MM"; an `end` at or before `start` closes the next day (equal: a whole day). */
  start: string;
  end: string;
}

export interface Handoff {
  /** `daily`: at `at` every `every` days; `weekly`: on `day` at `at` every `every` weeks. */
  interval: 'daily' | 'weekly';
  at: string;
  /** Weekly handoffs: the weekday of the handoff. */
  day?: Weekday;
  every: number;
}

export interface Rotation {
  name: string;
  /** User names in the order they take their shifts. */
  users: readonly string[];
  handoff: Handoff;
  /** "YYYY-MM-DD", local: the first shift begins at the first handoff on or after this date. */
  start: string;
  restrict?: Restriction;
}

export interface Override {
  id: string;
  user: string;
  start: number;
  end: number;
}

export interface Schedule {
  timeZone: string;
  rotations: readonly Rotation[];
  overrides: readonly Override[];
}

/** Why a user is on call: a rotation (by name) or an override (by id). */
export type OnCallSource = { rotation: string } | { override: string };

export interface OnCallUser {
  user: string;
  source: OnCallSource;
}

/** A stretch of time with one unchanging set of people on call. */
export interface Shift extends Interval {
  users: OnCallUser[];
}

const DAY = 86_400_000;

/** Longest span a timeline may cover: the work is proportional to it. */
export const MAX_TIMELINE_MS = 400 * DAY;

function clock(text: string): { hour: number; minute: number } {
  const [hour, minute] = text.split(':').map(Number) as [number, number];
  return { hour, minute };
}

function localDate(text: string): LocalDateTime {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  return { year, month, day, hour: 0, minute: 0 };
}

/** Days between handoffs. */
function periodDays(h: Handoff): number {
  return (h.interval === 'weekly' ? 7 : 1) * h.every;
}

/** The local date of the rotation's first handoff: `start`, moved on to the handoff weekday for weekly rotations. */
function firstHandoffDate(r: Rotation): LocalDateTime {
  const start = localDate(r.start);
  if (r.handoff.interval !== 'weekly') return start;
  const wanted = WEEKDAYS.indexOf(r.handoff.day ?? 'mon');
  return addDays(start, (wanted - weekdayOf(start) + 7) % 7);
}

/**
 * The instant of handoff number `k` (0: the first shift begins). Counted in local calendar days
 * and converted per handoff, so the wall-clock time holds through DST changes; a handoff in the
 * hour the clocks skip happens at the jump, one in the hour they repeat at its first pass.
 */
function handoffAt(r: Rotation, timeZone: string, k: number): number {
  return zonedToUtc({ ...addDays(firstHandoffDate(r), k * periodDays(r.handoff)), ...clock(r.handoff.at), second: 0 }, timeZone);
}

/** The shift number running at `at` (-1 before the first handoff). */
function shiftIndex(r: Rotation, timeZone: string, at: number): number {
  const first = handoffAt(r, timeZone, 0);
  if (at < first) return -1;
  // A DST change moves a handoff by an hour at most: the estimate is off by one at most.
  let k = Math.floor((at - first) / (periodDays(r.handoff) * DAY));
  while (k > 0 && handoffAt(r, timeZone, k) > at) k--;
  while (handoffAt(r, timeZone, k + 1) <= at) k++;
  return k;
}

function restrictionSpans(r: Rotation, timeZone: string, from: number, to: number): Interval[] {
  if (!r.restrict) return [];
  return weeklySpans({ timeZone, ...r.restrict }, from, to);
}

/** The user the rotation has on call at `at`, if any (before its start or outside its hours: none). */
export function rotationUserAt(r: Rotation, timeZone: string, at: number): string | undefined {
  const k = shiftIndex(r, timeZone, at);
  if (k < 0) return undefined;
  if (r.restrict && !restrictionSpans(r, timeZone, at, at + 1).some((s) => s.start <= at && at < s.end)) return undefined;
  return r.users[k % r.users.length];
}

/**
 * Everyone on call at `at`: the users of overrides open at that instant (earliest first) when
 * there are any — an override replaces the whole schedule, as a colleague covering a shift
 * does —, otherwise each rotation's user in the schedule's order, each person once.
 */
export function onCallAt(schedule: Schedule, at: number): OnCallUser[] {
  const overrides = schedule.overrides.filter((o) => o.start <= at && at < o.end).sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  const candidates: OnCallUser[] =
    overrides.length > 0
      ? overrides.map((o) => ({ user: o.user, source: { override: o.id } }))
      : schedule.rotations.flatMap((r) => {
          const user = rotationUserAt(r, schedule.timeZone, at);
          return user === undefined ? [] : [{ user, source: { rotation: r.name } }];
        });
  const seen = new Set<string>();
  return candidates.filter((c) => !seen.has(c.user) && (seen.add(c.user), true));
}

/** Every instant in (from, to) at which who is on call may change. */
function changePoints(schedule: Schedule, from: number, to: number): number[] {
  const points = new Set<number>();
  const add = (t: number) => {
    if (from < t && t < to) points.add(t);
  };
  for (const r of schedule.rotations) {
    const first = Math.max(0, shiftIndex(r, schedule.timeZone, from));
    for (let k = first; ; k++) {
      const t = handoffAt(r, schedule.timeZone, k);
      if (t >= to) break;
      add(t);
    }
    for (const span of restrictionSpans(r, schedule.timeZone, from, to)) {
      add(span.start);
      add(span.end);
    }
  }
  for (const o of schedule.overrides) {
    add(o.start);
    add(o.end);
  }
  return [...points].sort((a, b) => a - b);
}

function sameUsers(a: readonly OnCallUser[], b: readonly OnCallUser[]): boolean {
  return a.length === b.length && a.every((u, i) => u.user === b[i]!.user && JSON.stringify(u.source) === JSON.stringify(b[i]!.source));
}

/**
 * The shifts of [from, to), clipped to the range, in order; a stretch with nobody on call is a
 * shift with no users (a gap worth seeing). Adjacent stretches with the same people merge.
 */
export function timeline(schedule: Schedule, from: number, to: number): Shift[] {
  if (to <= from) return [];
  const bounds = [from, ...changePoints(schedule, from, to), to];
  const shifts: Shift[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const users = onCallAt(schedule, bounds[i]!);
    const last = shifts.at(-1);
    if (last && sameUsers(last.users, users)) last.end = bounds[i + 1]!;
    else shifts.push({ start: bounds[i]!, end: bounds[i + 1]!, users });
  }
  return shifts;
}

/**
 * Who is on call at `at`, since when and until when it next changes. The search looks back and
 * ahead one longest rotation period (plus a day for restricted hours and DST); `since`/`until`
 * are null when the same people are on call beyond that horizon (e.g. a one-person rotation).
 */
export function shiftAt(schedule: Schedule, at: number): { users: OnCallUser[]; since: number | null; until: number | null } {
  const horizon = Math.max(DAY, ...schedule.rotations.map((r) => periodDays(r.handoff) * DAY)) + DAY;
  const around = timeline(schedule, at - horizon, at + horizon);
  const current = around.find((s) => s.start <= at && at < s.end)!;
  return {
    users: current.users,
    since: current.start === at - horizon ? null : current.start,
    until: current.end === at + horizon ? null : current.end,
  };
}
