import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, isTimeZone, localDateTime, weekdayOf, zoneOffsetMs, zonedToUtc } from './time-zone.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('time-zone', () => {
  it('knows IANA zone names and refuses made-up ones', () => {
    assert.equal(isTimeZone('Europe/Berlin'), true);
    assert.equal(isTimeZone('UTC'), true);
    assert.equal(isTimeZone('Europe/Berlim'), false);
    assert.equal(isTimeZone(''), false);
  });

  it('reads the local date and time of an instant in a zone', () => {
    assert.deepEqual(localDateTime(Date.UTC(2025, 2, 30, 1, 0, 0), 'Europe/Berlin'), {
      year: 2025,
      month: 3,
      day: 30,
      hour: 3,
      minute: 0,
      second: 0,
    });
    assert.deepEqual(localDateTime(Date.UTC(2025, 0, 1, 23, 30, 15), 'Europe/Berlin'), {
      year: 2025,
      month: 1,
      day: 2,
      hour: 0,
      minute: 30,
      second: 15,
    });
  });

  it('gives Berlin an offset of one hour in winter and two in summer, switching at 01:00 UTC', () => {
    assert.equal(zoneOffsetMs(Date.UTC(2025, 2, 30, 0, 59, 59), 'Europe/Berlin'), HOUR);
    assert.equal(zoneOffsetMs(Date.UTC(2025, 2, 30, 1, 0, 0), 'Europe/Berlin'), 2 * HOUR);
    assert.equal(zoneOffsetMs(Date.UTC(2025, 9, 26, 0, 59, 59), 'Europe/Berlin'), 2 * HOUR);
    assert.equal(zoneOffsetMs(Date.UTC(2025, 9, 26, 1, 0, 0), 'Europe/Berlin'), HOUR);
  });

  it('turns an ordinary local time into the one instant it stands for', () => {
    assert.equal(iso(zonedToUtc({ year: 2025, month: 1, day: 15, hour: 9, minute: 30 }, 'Europe/Berlin')), '2025-01-15T08:30:00.000Z');
    assert.equal(iso(zonedToUtc({ year: 2025, month: 7, day: 15, hour: 9, minute: 30 }, 'Europe/Berlin')), '2025-07-15T07:30:00.000Z');
    assert.equal(iso(zonedToUtc({ year: 2025, month: 7, day: 15, hour: 9, minute: 30 }, 'America/New_York')), '2025-07-15T13:30:00.000Z');
  });

  it('maps a local time in the hour skipped in spring to the instant the clocks jump', () => {
    const jump = '2025-03-30T01:00:00.000Z';
    for (const minute of [0, 30, 59]) {
      assert.equal(iso(zonedToUtc({ year: 2025, month: 3, day: 30, hour: 2, minute }, 'Europe/Berlin')), jump);
    }
    assert.equal(iso(zonedToUtc({ year: 2025, month: 3, day: 9, hour: 2, minute: 30 }, 'America/New_York')), '2025-03-09T07:00:00.000Z');
  });

  it('maps a local time in the hour repeated in autumn to its first or second pass, as asked', () => {
    const local = { year: 2025, month: 10, day: 26, hour: 2, minute: 30 };
    assert.equal(iso(zonedToUtc(local, 'Europe/Berlin', 'earlier')), '2025-10-26T00:30:00.000Z');
    assert.equal(iso(zonedToUtc(local, 'Europe/Berlin', 'later')), '2025-10-26T01:30:00.000Z');
    assert.equal(iso(zonedToUtc(local, 'Europe/Berlin')), '2025-10-26T00:30:00.000Z');
  });

  it('adds calendar days across month and year ends and names the weekday', () => {
    assert.deepEqual(addDays({ year: 2025, month: 12, day: 31, hour: 2, minute: 0 }, 1), { year: 2026, month: 1, day: 1, hour: 2, minute: 0 });
    assert.deepEqual(addDays({ year: 2025, month: 3, day: 1, hour: 0, minute: 0 }, -1), { year: 2025, month: 2, day: 28, hour: 0, minute: 0 });
    assert.equal(weekdayOf({ year: 2025, month: 3, day: 30, hour: 0, minute: 0 }), 0);
    assert.equal(weekdayOf({ year: 2025, month: 10, day: 25, hour: 0, minute: 0 }), 6);
  });
});
