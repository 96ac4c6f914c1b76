import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isActive, nextOccurrence, occurrences, parseMaintenanceWindow, windowsMuting, type MaintenanceWindow, type RecurringWindow } from './maintenance.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);
const spans = (list: { start: number; end: number }[]) => list.map((o) => `${iso(o.start)} – ${iso(o.end)}`);

function recurring(fields: Partial<RecurringWindow>): RecurringWindow {
  return {
    id: 'w1',
    name: 'PACS patching',
    matchers: [],
    comment: null,
    kind: 'weekly',
    timeZone: 'Europe/Berlin',
    start: '02:00',
    end: '04:00',
    days: ['sun'],
    ...fields,
  };
}

describe('maintenance windows', () => {
  describe('a weekly window "Sunday 02:00–04:00 Europe/Berlin"', () => {
    const sunday = recurring({});

    it('is two hours on an ordinary winter Sunday: 01:00–03:00 UTC', () => {
      assert.deepEqual(spans(occurrences(sunday, at('2025-03-22T00:00:00Z'), at('2025-03-24T00:00:00Z'))), [
        '2025-03-23T01:00:00.000Z – 2025-03-23T03:00:00.000Z',
      ]);
    });

    it('is one hour on the spring-forward Sunday (30 March 2025): clocks jump from 02:00 to 03:00, so 01:00–02:00 UTC', () => {
      assert.deepEqual(spans(occurrences(sunday, at('2025-03-29T00:00:00Z'), at('2025-03-31T00:00:00Z'))), [
        '2025-03-30T01:00:00.000Z – 2025-03-30T02:00:00.000Z',
      ]);
      assert.equal(isActive(sunday, at('2025-03-30T00:59:59.999Z')), false);
      assert.equal(isActive(sunday, at('2025-03-30T01:00:00Z')), true);
      assert.equal(isActive(sunday, at('2025-03-30T01:59:59.999Z')), true);
      assert.equal(isActive(sunday, at('2025-03-30T02:00:00Z')), false);
    });

    it('is two hours on the first summer Sunday: 00:00–02:00 UTC', () => {
      assert.deepEqual(spans(occurrences(sunday, at('2025-04-05T00:00:00Z'), at('2025-04-07T00:00:00Z'))), [
        '2025-04-06T00:00:00.000Z – 2025-04-06T02:00:00.000Z',
      ]);
    });

    it('is three hours on the fall-back Sunday (26 October 2025): 02:00–03:00 happens twice, so 00:00–03:00 UTC', () => {
      assert.deepEqual(spans(occurrences(sunday, at('2025-10-25T00:00:00Z'), at('2025-10-27T00:00:00Z'))), [
        '2025-10-26T00:00:00.000Z – 2025-10-26T03:00:00.000Z',
      ]);
      assert.equal(isActive(sunday, at('2025-10-25T23:59:59.999Z')), false);
      assert.equal(isActive(sunday, at('2025-10-26T00:00:00Z')), true);
      assert.equal(isActive(sunday, at('2025-10-26T00:30:00Z')), true, 'first 02:30 (CEST)');
      assert.equal(isActive(sunday, at('2025-10-26T01:30:00Z')), true, 'second 02:30 (CET)');
      assert.equal(isActive(sunday, at('2025-10-26T02:59:59.999Z')), true);
      assert.equal(isActive(sunday, at('2025-10-26T03:00:00Z')), false);
    });

    it('is 01:00–03:00 UTC again on the first winter Sunday', () => {
      assert.deepEqual(spans(occurrences(sunday, at('2025-11-01T00:00:00Z'), at('2025-11-03T00:00:00Z'))), [
        '2025-11-02T01:00:00.000Z – 2025-11-02T03:00:00.000Z',
      ]);
    });

    it('is closed on the other days of the week at the same local time', () => {
      assert.equal(isActive(sunday, at('2025-03-29T01:30:00Z')), false);
      assert.equal(isActive(sunday, at('2025-03-31T00:30:00Z')), false);
    });

    it('names the next occurrence from any instant, including the one that is open', () => {
      assert.deepEqual(nextOccurrence(sunday, at('2025-03-26T12:00:00Z')), { start: at('2025-03-30T01:00:00Z'), end: at('2025-03-30T02:00:00Z') });
      assert.deepEqual(nextOccurrence(sunday, at('2025-03-30T01:30:00Z')), { start: at('2025-03-30T01:00:00Z'), end: at('2025-03-30T02:00:00Z') });
    });
  });

  it('opens a window whose start falls in the skipped hour when the clocks jump', () => {
    const w = recurring({ kind: 'daily', days: [], start: '02:30', end: '03:30' });
    assert.deepEqual(spans(occurrences(w, at('2025-03-30T00:00:00Z'), at('2025-03-30T12:00:00Z'))), ['2025-03-30T01:00:00.000Z – 2025-03-30T01:30:00.000Z']);
  });

  it('keeps a window whose end falls in the repeated hour open until the second pass of that time', () => {
    const w = recurring({ kind: 'daily', days: [], start: '01:00', end: '02:30' });
    assert.deepEqual(spans(occurrences(w, at('2025-10-25T12:00:00Z'), at('2025-10-26T12:00:00Z'))), ['2025-10-25T23:00:00.000Z – 2025-10-26T01:30:00.000Z']);
  });

  it('runs a daily window that ends at or before its start into the next day', () => {
    const nightly = recurring({ kind: 'daily', days: [], start: '22:00', end: '02:00' });
    assert.deepEqual(spans(occurrences(nightly, at('2025-01-10T12:00:00Z'), at('2025-01-11T12:00:00Z'))), [
      '2025-01-10T21:00:00.000Z – 2025-01-11T01:00:00.000Z',
    ]);
    assert.equal(isActive(nightly, at('2025-01-11T00:30:00Z')), true);
    assert.equal(isActive(nightly, at('2025-01-11T01:00:00Z')), false);
    const wholeDay = recurring({ kind: 'daily', days: [], start: '06:00', end: '06:00' });
    assert.deepEqual(spans(occurrences(wholeDay, at('2025-01-10T05:00:00Z'), at('2025-01-10T06:00:00Z'))), [
      '2025-01-10T05:00:00.000Z – 2025-01-11T05:00:00.000Z',
    ]);
  });

  it('opens a weekly window across midnight on its day and closes it on the next', () => {
    const saturdayNight = recurring({ days: ['sat'], start: '23:00', end: '01:00', timeZone: 'America/New_York' });
    assert.equal(isActive(saturdayNight, at('2025-01-12T05:30:00Z')), true, 'Sunday 00:30 New York');
    assert.equal(isActive(saturdayNight, at('2025-01-13T05:30:00Z')), false, 'Monday 00:30 New York');
  });

  it('covers a one-off window from its start up to, not including, its end', () => {
    const once: MaintenanceWindow = { id: 'o', name: 'Orthanc upgrade', matchers: [], comment: null, kind: 'once', startsAt: 1000, endsAt: 2000 };
    assert.equal(isActive(once, 999), false);
    assert.equal(isActive(once, 1000), true);
    assert.equal(isActive(once, 1999), true);
    assert.equal(isActive(once, 2000), false);
    assert.equal(nextOccurrence(once, 2000), null);
  });

  it('names a one-off window planned months ahead as the next occurrence', () => {
    const upgrade: MaintenanceWindow = {
      id: 'u',
      name: 'PACS upgrade',
      matchers: [],
      comment: null,
      kind: 'once',
      startsAt: at('2031-01-05T22:00:00Z'),
      endsAt: at('2031-01-06T00:00:00Z'),
    };
    assert.deepEqual(nextOccurrence(upgrade, at('2030-10-01T00:00:00Z')), { start: at('2031-01-05T22:00:00Z'), end: at('2031-01-06T00:00:00Z') });
    assert.deepEqual(nextOccurrence(upgrade, at('2031-01-05T23:00:00Z')), { start: at('2031-01-05T22:00:00Z'), end: at('2031-01-06T00:00:00Z') });
  });

  it('mutes only the alerts its matchers select', () => {
    const w = recurring({ kind: 'daily', days: [], start: '00:00', end: '00:00', matchers: [{ label: 'agent', op: '=', value: 'pacs-01' }] });
    const now = at('2025-01-10T12:00:00Z');
    assert.deepEqual(
      windowsMuting([w], { agent: 'pacs-01' }, now).map((x) => x.id),
      ['w1'],
    );
    assert.deepEqual(windowsMuting([w], { agent: 'pacs-02' }, now), []);
  });

  describe('schema', () => {
    it('reads a weekly window and orders its days', () => {
      const parsed = parseMaintenanceWindow({
        id: 'w1',
        name: 'Sunday patching',
        kind: 'weekly',
        timeZone: 'Europe/Berlin',
        days: ['sun', 'sat'],
        start: '02:00',
        end: '04:00',
        matchers: ['agent=~"pacs-.*"'],
      });
      assert.deepEqual(parsed, {
        ok: true,
        value: {
          id: 'w1',
          name: 'Sunday patching',
          matchers: [{ label: 'agent', op: '=~', value: 'pacs-.*' }],
          comment: null,
          kind: 'weekly',
          timeZone: 'Europe/Berlin',
          start: '02:00',
          end: '04:00',
          days: ['sun', 'sat'],
        },
      });
    });

    it('reads a one-off window given as ISO times', () => {
      const parsed = parseMaintenanceWindow({ id: 'o', name: 'upgrade', kind: 'once', startsAt: '2025-03-30T01:00:00Z', endsAt: '2025-03-30T05:00:00+02:00' });
      assert.deepEqual(parsed, {
        ok: true,
        value: {
          id: 'o',
          name: 'upgrade',
          matchers: [],
          comment: null,
          kind: 'once',
          startsAt: at('2025-03-30T01:00:00Z'),
          endsAt: at('2025-03-30T03:00:00Z'),
        },
      });
    });

    const valid = { id: 'w1', name: 'n', kind: 'daily', timeZone: 'Europe/Berlin', start: '02:00', end: '04:00' };
    const invalid: [string, Record<string, unknown>, { field: string; message: string }][] = [
      ['an unknown kind', { ...valid, kind: 'monthly' }, { field: 'kind', message: 'must be once, daily or weekly' }],
      [
        'a misspelt zone',
        { ...valid, timeZone: 'Europe/Berlim' },
        { field: 'timeZone', message: '"Europe/Berlim" is not an IANA time zone name: write one like Europe/Berlin or UTC' },
      ],
      ['a missing zone', { ...valid, timeZone: undefined }, { field: 'timeZone', message: 'is required' }],
      ['a time without leading zero', { ...valid, start: '2:00' }, { field: 'start', message: 'must be a time of day like 02:00 (24-hour HH:MM)' }],
      ['24:00', { ...valid, end: '24:00' }, { field: 'end', message: 'must be a time of day like 02:00 (24-hour HH:MM)' }],
      ['a weekly window without days', { ...valid, kind: 'weekly', days: [] }, { field: 'days', message: 'needs at least one weekday, e.g. ["sun"]' }],
      ['a misspelt weekday', { ...valid, kind: 'weekly', days: ['sunday'] }, { field: 'days.0', message: 'must be one of sun, mon, tue, wed, thu, fri, sat' }],
      [
        'a one-off window that ends before it starts',
        { id: 'o', name: 'n', kind: 'once', startsAt: 2000, endsAt: 1000 },
        { field: 'endsAt', message: 'must be after startsAt' },
      ],
      [
        'a local time without a zone',
        { id: 'o', name: 'n', kind: 'once', startsAt: '2025-03-30T02:00', endsAt: 1000 },
        { field: 'startsAt', message: 'must be a time like 2025-03-30T01:00:00Z (with Z or an offset) or epoch milliseconds, got "2025-03-30T02:00"' },
      ],
      [
        'a bad matcher',
        { ...valid, matchers: ['agent'] },
        { field: 'matchers.0', message: '`agent` is not a matcher: write label="value", label!="value", label=~"regex" or label!~"regex"' },
      ],
      ['an unknown field', { ...valid, days: ['sun'] }, { field: 'days', message: 'unknown field' }],
      ['an empty name', { ...valid, name: '  ' }, { field: 'name', message: 'must not be empty' }],
    ];
    for (const [what, input, error] of invalid) {
      it(`refuses ${what} with "${error.field}: ${error.message}"`, () => {
        assert.deepEqual(parseMaintenanceWindow(input), { ok: false, errors: [error] });
      });
    }
  });
});
