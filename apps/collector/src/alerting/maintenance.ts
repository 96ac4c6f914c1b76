import { z } from 'zod';
import { timeOfDay, timeZoneName, validateWith, type Validation } from '#rounds/plugins';
import { instantField, nameField } from './fields.js';
import { matcherField, matchesAll, type Labels, type Matcher } from './matchers.js';
import { weeklySpans, WEEKDAYS, type Interval, type Weekday } from '#rounds/common';

export { WEEKDAYS, type Weekday };

interface WindowBase {
  id: string;
  name: string;
  /** Alerts whose labels match are muted while the window is open; empty: every alert. */
  matchers: Matcher[];
  comment: string | null;
}

/** From one instant to another. */
export interface OneOffWindow extends WindowBase {
  kind: 'once';
  startsAt: number;
  endsAt: number;
}

/**
 * Every day (or on the given weekdays) from `start` to `end` local time in `timeZone`; an
 * `end` at or before `start` closes the next day (equal: a whole day). Local times mean wall-clock times: the
 * window covers every instant at which the zone's clocks read a time inside it, so it is an
 * hour shorter when the clocks skip an hour inside it and an hour longer when they repeat one.
 */
export interface RecurringWindow extends WindowBase {
  kind: 'daily' | 'weekly';
  timeZone: string;
  /** "HH:MM", 24-hour. */
  start: string;
  end: string;
  /** Weekly windows: the days on which the window opens. */
  days: Weekday[];
}

export type MaintenanceWindow = OneOffWindow | RecurringWindow;

export type { Interval };

const DAY = 86_400_000;

/** The window's occurrences that overlap [fromMs, toMs), in order, as exact UTC instants. */
export function occurrences(window: MaintenanceWindow, fromMs: number, toMs: number): Interval[] {
  if (window.kind === 'once') {
    return window.startsAt < toMs && fromMs < window.endsAt ? [{ start: window.startsAt, end: window.endsAt }] : [];
  }
  return weeklySpans({ timeZone: window.timeZone, start: window.start, end: window.end, days: window.kind === 'daily' ? WEEKDAYS : window.days }, fromMs, toMs);
}

/**
 * When the windows whose matchers select `labels` were open within [fromMs, toMs): their
 * occurrences clipped to the range, merged where they overlap, in order.
 */
export function maintenanceIntervals(windows: readonly MaintenanceWindow[], labels: Labels, fromMs: number, toMs: number): Interval[] {
  const all = windows
    .filter((w) => matchesAll(w.matchers, labels))
    .flatMap((w) => occurrences(w, fromMs, toMs))
    .map((o) => ({ start: Math.max(o.start, fromMs), end: Math.min(o.end, toMs) }))
    .sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const o of all) {
    const last = merged.at(-1);
    if (last && o.start <= last.end) last.end = Math.max(last.end, o.end);
    else merged.push({ ...o });
  }
  return merged;
}

/** True when the window is open at `atMs`. */
export function isActive(window: MaintenanceWindow, atMs: number): boolean {
  return occurrences(window, atMs, atMs + 1).length > 0;
}

/** The next occurrence that is open at `atMs` or opens after it; none for a one-off window that is over. */
export function nextOccurrence(window: MaintenanceWindow, atMs: number): Interval | null {
  // A one-off window may be planned months ahead, beyond the look-ahead below.
  if (window.kind === 'once') return window.endsAt > atMs ? { start: window.startsAt, end: window.endsAt } : null;
  // Weekly windows open at least once a week; eight days always contains the next one.
  return occurrences(window, atMs, atMs + 8 * DAY).find((o) => o.end > atMs) ?? null;
}

/** The windows that mute an alert with these labels at `atMs`. */
export function windowsMuting(windows: readonly MaintenanceWindow[], labels: Labels, atMs: number): MaintenanceWindow[] {
  return windows.filter((w) => matchesAll(w.matchers, labels) && isActive(w, atMs));
}

const base = {
  id: nameField('text', 100),
  name: nameField('text', 200),
  matchers: z.array(matcherField(), { error: 'must be a list of matchers, e.g. ["agent=\\"pacs-01\\""]' }).default([]),
  comment: z.string({ error: 'must be text' }).max(1000, 'must be at most 1000 characters').optional(),
};

const recurring = {
  ...base,
  timeZone: timeZoneName(),
  start: timeOfDay(),
  end: timeOfDay(),
};

/** A maintenance window as written in a config or sent to the API. */
export const maintenanceWindowSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({ ...base, kind: z.literal('once'), startsAt: instantField(), endsAt: instantField() }),
      z.strictObject({ ...recurring, kind: z.literal('daily') }),
      z.strictObject({
        ...recurring,
        kind: z.literal('weekly'),
        days: z
          .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }), { error: 'must be a list of weekdays, e.g. ["sun"]' })
          .min(1, 'needs at least one weekday, e.g. ["sun"]'),
      }),
    ],
    { error: 'must be once, daily or weekly' },
  )
  .superRefine((w, ctx) => {
    if (w.kind === 'once' && w.endsAt <= w.startsAt) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
  })
  .transform((w): MaintenanceWindow => {
    const common = { id: w.id, name: w.name, matchers: w.matchers, comment: w.comment ?? null };
    if (w.kind === 'once') return { ...common, kind: 'once', startsAt: w.startsAt, endsAt: w.endsAt };
    const days = w.kind === 'weekly' ? WEEKDAYS.filter((d) => w.days.includes(d)) : [];
    return { ...common, kind: w.kind, timeZone: w.timeZone, start: w.start, end: w.end, days };
  });

export function parseMaintenanceWindow(input: unknown): Validation<MaintenanceWindow> {
  return validateWith(maintenanceWindowSchema, input);
}
