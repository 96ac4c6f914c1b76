import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSilence, isSilenceActive, parseSilenceRequest, silencesMuting, SilenceError, type SilenceRequest } from './silences.js';

const HOUR = 3_600_000;
const request: SilenceRequest = { matchers: [{ label: 'agent', op: '=', value: 'pacs-01' }], durationMs: 2 * HOUR, createdBy: 'dana', comment: 'disk swap' };

describe('silences', () => {
  it('starts now and ends after its duration unless told otherwise', () => {
    const s = createSilence(request, 10_000, () => 's1');
    assert.deepEqual(s, {
      id: 's1',
      matchers: request.matchers,
      startsAt: 10_000,
      endsAt: 10_000 + 2 * HOUR,
      createdBy: 'dana',
      comment: 'disk swap',
      createdAt: 10_000,
    });
  });

  it('is active from its start up to, not including, its end', () => {
    const s = createSilence({ ...request, startsAt: 1000, durationMs: undefined, endsAt: 2000 }, 500, () => 's1');
    assert.deepEqual(
      [999, 1000, 1999, 2000].map((t) => isSilenceActive(s, t)),
      [false, true, true, false],
    );
  });

  it('mutes only the alerts its matchers select', () => {
    const s = createSilence(request, 0, () => 's1');
    assert.equal(silencesMuting([s], { agent: 'pacs-01', check: 'web' }, 1).length, 1);
    assert.equal(silencesMuting([s], { agent: 'pacs-02', check: 'web' }, 1).length, 0);
  });

  const refusals: [string, SilenceRequest, string][] = [
    ['without matchers', { ...request, matchers: [] }, 'a silence needs at least one matcher: one that matches everything would mute every alert'],
    ['without an end', { ...request, durationMs: undefined }, 'a silence needs an end: give endsAt or a duration'],
    ['that ends before it starts', { ...request, durationMs: undefined, startsAt: 5000, endsAt: 4000 }, 'a silence must end after it starts'],
    [
      'that is already over',
      { ...request, durationMs: undefined, startsAt: 0, endsAt: 5000 },
      'the silence would end at 1970-01-01T00:00:05.000Z, which is already past',
    ],
  ];
  for (const [what, input, message] of refusals) {
    it(`refuses a silence ${what}`, () => {
      assert.throws(
        () => createSilence(input, 10_000, () => 's1'),
        (e: unknown) => e instanceof SilenceError && e.message === message,
      );
    });
  }

  describe('request schema', () => {
    it('reads matchers, a duration and ISO times', () => {
      assert.deepEqual(parseSilenceRequest({ matchers: ['agent="pacs-01"'], duration: '2h', createdBy: 'dana', comment: ' disk swap ' }), {
        ok: true,
        value: { matchers: [{ label: 'agent', op: '=', value: 'pacs-01' }], createdBy: 'dana', comment: 'disk swap', durationMs: 2 * HOUR },
      });
      assert.deepEqual(
        parseSilenceRequest({
          matchers: ['agent="pacs-01"'],
          startsAt: '2025-01-01T00:00:00Z',
          endsAt: '2025-01-01T01:00:00+01:00',
          createdBy: 'd',
          comment: 'c',
        }),
        {
          ok: false,
          errors: [{ field: 'endsAt', message: 'must be after startsAt' }],
        },
      );
    });

    const base = { matchers: ['agent="pacs-01"'], duration: '1h', createdBy: 'dana', comment: 'disk swap' };
    const invalid: [string, Record<string, unknown>, { field: string; message: string }][] = [
      [
        'no matchers',
        { ...base, matchers: [] },
        { field: 'matchers', message: 'needs at least one matcher: a silence that matches everything would mute every alert' },
      ],
      ['both an end and a duration', { ...base, endsAt: 5000 }, { field: 'endsAt', message: 'give either endsAt or duration (one of them, not both)' }],
      [
        'neither an end nor a duration',
        { ...base, duration: undefined },
        { field: 'endsAt', message: 'give either endsAt or duration (one of them, not both)' },
      ],
      ['a zero duration', { ...base, duration: '0s' }, { field: 'duration', message: 'must be longer than 0' }],
      ['no comment', { ...base, comment: undefined }, { field: 'comment', message: 'is required' }],
      ['a blank author', { ...base, createdBy: ' ' }, { field: 'createdBy', message: 'must not be empty' }],
      ['an unknown field', { ...base, reason: 'x' }, { field: 'reason', message: 'unknown field' }],
    ];
    for (const [what, input, error] of invalid) {
      it(`refuses ${what} with "${error.field}: ${error.message}"`, () => {
        assert.deepEqual(parseSilenceRequest(input), { ok: false, errors: [error] });
      });
    }
  });
});
