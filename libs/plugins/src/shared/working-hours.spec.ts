import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeWorkingHours, withinWorkingHours, workingHoursSchema } from './working-hours.js';

const at = (iso: string) => Date.parse(iso);
const hours = (input: Record<string, unknown>) => workingHoursSchema.parse(input);

describe('working hours', () => {
  const office = hours({ timeZone: 'Europe/Berlin' });

  it('are Monday to Friday 07:00–18:00 by default, local time in their zone', () => {
    assert.equal(withinWorkingHours(office, at('2026-03-10T06:00:00Z'), 'UTC'), true, 'Tuesday 07:00 Berlin opens them');
    assert.equal(withinWorkingHours(office, at('2026-03-10T05:59:00Z'), 'UTC'), false, 'Tuesday 06:59 Berlin is before');
    assert.equal(withinWorkingHours(office, at('2026-03-10T16:59:00Z'), 'UTC'), true, 'Tuesday 17:59 Berlin is inside');
    assert.equal(withinWorkingHours(office, at('2026-03-10T17:00:00Z'), 'UTC'), false, 'Tuesday 18:00 Berlin closes them');
    assert.equal(withinWorkingHours(office, at('2026-03-14T10:00:00Z'), 'UTC'), false, 'Saturday is not a working day');
  });

  it('follow the wall clock across a change to daylight saving time', () => {
    // Berlin moves to UTC+2 on 29 March 2026; Monday 30 March 07:00 local is 05:00 UTC.
    assert.equal(withinWorkingHours(office, at('2026-03-30T05:00:00Z'), 'UTC'), true);
    assert.equal(withinWorkingHours(office, at('2026-03-30T16:30:00Z'), 'UTC'), false, '18:30 local');
  });

  it("take the check's zone when they name none", () => {
    const plain = hours({});
    assert.equal(withinWorkingHours(plain, at('2026-03-10T06:30:00Z'), 'Europe/Berlin'), true, '07:30 in Berlin');
    assert.equal(withinWorkingHours(plain, at('2026-03-10T06:30:00Z'), 'America/New_York'), false, '02:30 in New York');
  });

  it('run into the next day when they end at or before they begin, belonging to the day they began', () => {
    const nights = hours({ days: ['fri'], from: '22:00', to: '06:00', timeZone: 'UTC' });
    assert.equal(withinWorkingHours(nights, at('2026-03-13T23:00:00Z'), 'UTC'), true, 'Friday 23:00');
    assert.equal(withinWorkingHours(nights, at('2026-03-14T05:59:00Z'), 'UTC'), true, 'Saturday 05:59 is still Friday night');
    assert.equal(withinWorkingHours(nights, at('2026-03-14T23:00:00Z'), 'UTC'), false, 'Saturday night is not a working night');
    assert.equal(withinWorkingHours(nights, at('2026-03-13T05:00:00Z'), 'UTC'), false, 'Friday 05:00 belongs to Thursday night');
    const allDay = hours({ days: ['sun'], from: '00:00', to: '00:00', timeZone: 'UTC' });
    assert.equal(withinWorkingHours(allDay, at('2026-03-15T23:59:00Z'), 'UTC'), true, 'equal times: the whole day');
    assert.equal(withinWorkingHours(allDay, at('2026-03-16T00:00:00Z'), 'UTC'), false);
  });

  it('are described for summaries with a day range where the days run on', () => {
    assert.equal(describeWorkingHours(office, 'UTC'), 'mon–fri 07:00–18:00 Europe/Berlin');
    assert.equal(describeWorkingHours(hours({ days: ['sat', 'mon'], from: '08:00', to: '12:00' }), 'UTC'), 'mon,sat 08:00–12:00 UTC');
  });
});
