import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeWeeklySpan, msWithin, weeklySpans, type WeeklySpan } from './weekly-spans.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;
const weekdays: WeeklySpan = { timeZone: 'Europe/Berlin', start: '07:00', end: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] };

describe('weekly spans', () => {
  it('lists the occurrences that overlap a range as UTC instants, skipping days the span does not open', () => {
    // Friday 2026-01-09 to Monday 2026-01-12, CET (UTC+1).
    const spans = weeklySpans(weekdays, at('2026-01-09T00:00:00Z'), at('2026-01-13T00:00:00Z')).map((o) => [
      new Date(o.start).toISOString(),
      new Date(o.end).toISOString(),
    ]);
    assert.deepEqual(spans, [
      ['2026-01-09T06:00:00.000Z', '2026-01-09T17:00:00.000Z'],
      ['2026-01-12T06:00:00.000Z', '2026-01-12T17:00:00.000Z'],
    ]);
  });

  it('counts only working time: Friday 17:50 to Monday 07:05 is 15 minutes', () => {
    assert.equal(msWithin(weekdays, at('2026-01-09T16:50:00Z'), at('2026-01-12T06:05:00Z')), 15 * 60_000);
  });

  it('counts nothing for a range that lies outside every occurrence', () => {
    assert.equal(msWithin(weekdays, at('2026-01-10T08:00:00Z'), at('2026-01-11T20:00:00Z')), 0);
  });

  it('makes a working day an hour shorter on the night the clocks go forward inside it', () => {
    const night: WeeklySpan = { timeZone: 'Europe/Berlin', start: '22:00', end: '06:00', days: ['sat'] };
    // Saturday 2026-03-28 22:00 CET to Sunday 06:00 CEST: 8 wall-clock hours, 7 real ones.
    assert.equal(msWithin(night, at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z')), 7 * HOUR);
  });

  it('takes an end equal to the start as a whole day', () => {
    const always: WeeklySpan = { timeZone: 'UTC', start: '00:00', end: '00:00', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] };
    assert.equal(msWithin(always, at('2026-01-01T10:00:00Z'), at('2026-01-03T10:00:00Z')), 48 * HOUR);
  });

  it('is described with a day range where three or more days run on, else with the days listed in week order', () => {
    assert.equal(describeWeeklySpan(weekdays), 'mon–fri 07:00–18:00 Europe/Berlin');
    assert.equal(describeWeeklySpan({ ...weekdays, days: ['sun', 'sat'] }), 'sun,sat 07:00–18:00 Europe/Berlin');
  });
});
