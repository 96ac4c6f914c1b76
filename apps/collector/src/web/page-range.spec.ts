import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localInputValue, pageRange } from './page-range.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0);

describe('the range of a history page', () => {
  it('takes a preset, and the last 24 hours for anything else, with the form showing it in the zone asked', () => {
    const week = pageRange({ range: '7d' }, NOW);
    assert.deepEqual(
      [week.range, week.to - week.from, week.form],
      ['7d', 7 * 86_400_000, { from: '2026-11-27T12:00', to: '2026-12-04T12:00', tz: 'UTC', zoneChosen: false }],
    );
    assert.equal(pageRange({ range: '1y' }, NOW).range, '24h');
    assert.equal(pageRange({ range: '24h', tz: 'Asia/Tokyo' }, NOW).form.from, '2026-12-03T21:00', 'noon UTC is nine in the evening in Tokyo');
  });

  it('reads a chosen range as local times in its zone, daylight saving included', () => {
    const r = pageRange({ from: '2026-03-29T01:00', to: '2026-03-29T04:00', tz: 'Europe/Berlin' }, NOW);
    assert.equal(r.range, 'custom');
    assert.equal(r.from, Date.UTC(2026, 2, 29, 0, 0), '01:00 CET');
    assert.equal(r.to, Date.UTC(2026, 2, 29, 2, 0), '04:00 CEST: the clocks went forward at two');
    assert.deepEqual(r.form, { from: '2026-03-29T01:00', to: '2026-03-29T04:00', tz: 'Europe/Berlin', zoneChosen: true });
    assert.equal(pageRange({ from: '2026-11-20T08:00', to: '2026-11-21T08:00' }, NOW).from, Date.UTC(2026, 10, 20, 8), 'UTC without a zone');
    assert.equal(localInputValue(r.to, 'Europe/Berlin'), '2026-03-29T04:00');
  });

  it('says why a chosen range is not taken, keeps what was typed, and shows the last 24 hours', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ from: '2026-11-21T08:00', to: '2026-11-20T08:00' }, /start must come before the end/],
      [{ from: 'yesterday', to: '2026-11-20T08:00' }, /start must be a date and time/],
      [{ from: '2026-11-20T08:00', to: '' }, /end must be a date and time/],
      [{ from: '2000-01-01T00:00', to: '2026-11-20T08:00' }, /10 years at most/],
      [{ from: '2026-11-20T08:00', to: '2026-11-21T08:00', tz: 'Mars/Olympus' }, /"Mars\/Olympus" is not an IANA time zone/],
    ];
    for (const [query, why] of cases) {
      const r = pageRange(query, NOW);
      assert.match(r.error ?? '', why, JSON.stringify(query));
      assert.deepEqual([r.range, r.to - r.from], ['24h', 86_400_000]);
      assert.equal(r.form.from, query['from'], 'what was typed stays in the form');
    }
  });
});
