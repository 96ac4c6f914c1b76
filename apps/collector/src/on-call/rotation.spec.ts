import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onCallAt, rotationUserAt, shiftAt, timeline, type Rotation, type Schedule } from './rotation.js';

const BERLIN = 'Europe/Berlin';
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const weekly: Rotation = {
  name: 'primary',
  users: ['alice', 'bob', 'carol'],
  handoff: { interval: 'weekly', day: 'mon', at: '08:00', every: 1 },
  // A Thursday: the first shift starts on the following Monday.
  start: '2026-03-19',
};
const schedule = (rotations: Rotation[], overrides: Schedule['overrides'] = []): Schedule => ({ timeZone: BERLIN, rotations, overrides });

describe('on-call rotations', () => {
  it('a weekly rotation hands off on Monday 08:00 local time, starting on the first Monday on or after its start date', () => {
    assert.equal(rotationUserAt(weekly, BERLIN, at('2026-03-23T06:59:59Z')), undefined, 'before the first handoff nobody is on call');
    assert.equal(rotationUserAt(weekly, BERLIN, at('2026-03-23T07:00:00Z')), 'alice', '08:00 CET is 07:00 UTC');
    assert.equal(rotationUserAt(weekly, BERLIN, at('2026-03-27T23:00:00Z')), 'alice');
    // Clocks went forward on 2026-03-29: Monday 08:00 CEST is 06:00 UTC.
    assert.equal(rotationUserAt(weekly, BERLIN, at('2026-03-30T05:59:59Z')), 'alice');
    assert.equal(rotationUserAt(weekly, BERLIN, at('2026-03-30T06:00:00Z')), 'bob');
    assert.equal(rotationUserAt(weekly, BERLIN, at('2026-04-06T06:00:00Z')), 'carol');
    assert.equal(rotationUserAt(weekly, BERLIN, at('2026-04-13T06:00:00Z')), 'alice', 'the list starts over');
  });

  it('the shift across the spring DST change is an hour shorter, and the one across the autumn change an hour longer', () => {
    const spring = timeline(schedule([weekly]), at('2026-03-23T00:00:00Z'), at('2026-04-07T00:00:00Z'));
    assert.deepEqual(
      spring.map((s) => [iso(s.start), s.users.map((u) => u.user).join()]),
      [
        ['2026-03-23T00:00:00.000Z', ''],
        ['2026-03-23T07:00:00.000Z', 'alice'],
        ['2026-03-30T06:00:00.000Z', 'bob'],
        ['2026-04-06T06:00:00.000Z', 'carol'],
      ],
    );
    assert.equal(spring[1]!.end - spring[1]!.start, 7 * 24 * 3_600_000 - 3_600_000);

    const daily: Rotation = { name: 'nights', users: ['dave', 'erin'], handoff: { interval: 'daily', at: '02:30', every: 1 }, start: '2026-10-20' };
    // 2026-10-25 02:30 happens twice in Berlin (the clocks go back from 03:00 CEST to 02:00 CET): the first pass counts.
    const autumn = timeline(schedule([daily]), at('2026-10-24T00:30:00Z'), at('2026-10-26T01:30:00Z'));
    assert.deepEqual(
      autumn.map((s) => [iso(s.start), iso(s.end), s.users[0]?.user]),
      [
        ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', 'dave'],
        ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', 'erin'],
      ],
    );
    assert.equal(autumn[1]!.end - autumn[1]!.start, 25 * 3_600_000, 'a 25-hour day');
  });

  it('a handoff in the hour the clocks skip happens at the jump', () => {
    const r: Rotation = { name: 'r', users: ['a', 'b'], handoff: { interval: 'daily', at: '02:30', every: 1 }, start: '2026-03-28' };
    // 2026-03-29 02:30 does not exist in Berlin: the clocks jump from 02:00 CET (01:00 UTC) to 03:00 CEST.
    assert.equal(rotationUserAt(r, BERLIN, at('2026-03-29T00:59:59Z')), 'a');
    assert.equal(rotationUserAt(r, BERLIN, at('2026-03-29T01:00:00Z')), 'b');
  });

  it('every: 2 hands off every other week', () => {
    const r: Rotation = { ...weekly, handoff: { ...weekly.handoff, every: 2 } };
    assert.equal(rotationUserAt(r, BERLIN, at('2026-03-30T08:00:00Z')), 'alice');
    assert.equal(rotationUserAt(r, BERLIN, at('2026-04-06T06:00:00Z')), 'bob');
  });

  it('a rotation restricted to nights has nobody in the day, and its user at night', () => {
    const nights: Rotation = { ...weekly, name: 'nights', restrict: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '18:00', end: '08:00' } };
    assert.equal(rotationUserAt(nights, BERLIN, at('2026-03-24T12:00:00Z')), undefined);
    assert.equal(rotationUserAt(nights, BERLIN, at('2026-03-24T17:00:00Z')), 'alice', '18:00 CET');
    assert.equal(rotationUserAt(nights, BERLIN, at('2026-03-25T06:59:00Z')), 'alice', '07:59 CET, the night that opened on Tuesday');
    assert.equal(rotationUserAt(nights, BERLIN, at('2026-03-25T07:00:00Z')), undefined);
  });

  it('a day rotation and a night rotation together cover the clock; each person once, in the order the schedule lists the rotations', () => {
    const days: Rotation = { ...weekly, name: 'days', restrict: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00' } };
    const always: Rotation = { name: 'backup', users: ['alice', 'zoe'], handoff: { interval: 'daily', at: '08:00', every: 1 }, start: '2026-03-23' };
    const s = schedule([days, always]);
    assert.deepEqual(
      onCallAt(s, at('2026-03-23T09:00:00Z')).map((u) => u.user),
      ['alice'],
      'alice is in both rotations: listed once, for the first',
    );
    assert.deepEqual(
      onCallAt(s, at('2026-03-24T09:00:00Z')).map((u) => u.user),
      ['alice', 'zoe'],
    );
    assert.deepEqual(
      onCallAt(s, at('2026-03-24T20:00:00Z')).map((u) => u.user),
      ['zoe'],
    );
  });

  it('an override wins over every rotation while it lasts, and the rotation resumes after it', () => {
    const s = schedule([weekly], [{ id: 'o1', user: 'zoe', start: at('2026-03-25T10:00:00Z'), end: at('2026-03-25T14:00:00Z') }]);
    assert.deepEqual(onCallAt(s, at('2026-03-25T12:00:00Z')), [{ user: 'zoe', source: { override: 'o1' } }]);
    const t = timeline(s, at('2026-03-25T00:00:00Z'), at('2026-03-26T00:00:00Z'));
    assert.deepEqual(
      t.map((x) => [iso(x.start), iso(x.end), x.users[0]!.user]),
      [
        ['2026-03-25T00:00:00.000Z', '2026-03-25T10:00:00.000Z', 'alice'],
        ['2026-03-25T10:00:00.000Z', '2026-03-25T14:00:00.000Z', 'zoe'],
        ['2026-03-25T14:00:00.000Z', '2026-03-26T00:00:00.000Z', 'alice'],
      ],
    );
  });

  it('shiftAt answers who, since the last change and until the next handoff', () => {
    const now = shiftAt(schedule([weekly]), at('2026-04-01T12:00:00Z'));
    assert.deepEqual(now.users, [{ user: 'bob', source: { rotation: 'primary' } }]);
    assert.equal(iso(now.since), '2026-03-30T06:00:00.000Z');
    assert.equal(iso(now.until), '2026-04-06T06:00:00.000Z');
  });

  it('shiftAt has no since or until when the same person is always on call', () => {
    const solo: Rotation = { name: 'solo', users: ['alice'], handoff: { interval: 'daily', at: '08:00', every: 1 }, start: '2026-01-01' };
    const now = shiftAt(schedule([solo]), at('2026-04-01T12:00:00Z'));
    assert.deepEqual(
      now.users.map((u) => u.user),
      ['alice'],
    );
    assert.equal(now.since, null);
    assert.equal(now.until, null);
  });
});
