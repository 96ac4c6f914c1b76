import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckStatus } from '#rounds/common';
import { validateWith } from '#rounds/plugins';
import {
  DEFAULT_CHECK_POLICY,
  applyResult,
  checkPolicySchema,
  initialCheckState,
  percentStateChange,
  resolvePolicy,
  type CheckEvent,
  type CheckPolicy,
  type CheckStateData,
} from './check-state.js';

function feed(state: CheckStateData, statuses: CheckStatus[], policy: CheckPolicy = DEFAULT_CHECK_POLICY): CheckEvent[][] {
  return statuses.map((status, i) =>
    applyResult(state, { status, reason: status === 'OK' ? 'ok' : 'timeout', summary: `result ${i}`, at: (state.lastResultAt ?? 0) + 1000 }, policy),
  );
}

const hardChanges = (events: CheckEvent[][]) =>
  events.map((e) =>
    e
      .filter((x) => x.type === 'hard_change')
      .map((x) => `${(x as { from: string }).from}→${(x as { to: string }).to}`)
      .join(''),
  );

describe('check state', () => {
  it('defaults to 3 failures before hard, recovery on the first OK, and flap thresholds 30 % / 25 % over 21 results', () => {
    assert.deepEqual(DEFAULT_CHECK_POLICY, {
      failuresBeforeHard: 3,
      successesBeforeRecovery: 1,
      flap: { enabled: true, window: 21, high: 30, low: 25, weighted: true },
      repeatMs: null,
    });
  });

  it('stays hard OK through two soft failures and turns hard CRITICAL on the third', () => {
    const s = initialCheckState('c1', 'a1');
    const events = feed(s, ['CRITICAL', 'CRITICAL']);
    assert.deepEqual(hardChanges(events), ['', '']);
    assert.deepEqual([s.status, s.hardStatus, s.stateType, s.failures], ['CRITICAL', 'OK', 'SOFT', 2]);
    assert.deepEqual(hardChanges(feed(s, ['CRITICAL'])), ['OK→CRITICAL']);
    assert.deepEqual([s.hardStatus, s.stateType, s.failures, s.lastHardChangeAt], ['CRITICAL', 'HARD', 3, 3000]);
  });

  it('counts any non-OK status as a failure and makes the latest one hard', () => {
    const s = initialCheckState('c1', 'a1');
    assert.deepEqual(hardChanges(feed(s, ['UNKNOWN', 'WARNING', 'CRITICAL'])), ['', '', 'OK→CRITICAL']);
  });

  it('restarts the failure count after an OK result', () => {
    const s = initialCheckState('c1', 'a1');
    assert.deepEqual(hardChanges(feed(s, ['CRITICAL', 'CRITICAL', 'OK', 'CRITICAL', 'CRITICAL'])), ['', '', '', '', '']);
    assert.equal(s.hardStatus, 'OK');
    assert.equal(s.failures, 2);
  });

  it('changes between non-OK states at once while hard (WARNING escalates to CRITICAL without waiting)', () => {
    const s = initialCheckState('c1', 'a1');
    feed(s, ['WARNING', 'WARNING', 'WARNING']);
    assert.deepEqual(hardChanges(feed(s, ['CRITICAL', 'WARNING'])), ['WARNING→CRITICAL', 'CRITICAL→WARNING']);
  });

  it('recovers only after successesBeforeRecovery OK results in a row; a failure in between restarts the count', () => {
    const policy = resolvePolicy({ failuresBeforeHard: 1, successesBeforeRecovery: 3 });
    const s = initialCheckState('c1', 'a1');
    assert.deepEqual(hardChanges(feed(s, ['CRITICAL', 'OK', 'OK', 'CRITICAL', 'OK', 'OK'], policy)), ['OK→CRITICAL', '', '', '', '', '']);
    assert.deepEqual([s.status, s.hardStatus, s.stateType, s.successes], ['OK', 'CRITICAL', 'SOFT', 2]);
    assert.equal(s.problemSummary, 'result 3', 'the summary of the latest failure is kept while recovering');
    assert.deepEqual(hardChanges(feed(s, ['OK'], policy)), ['CRITICAL→OK']);
    assert.deepEqual([s.hardStatus, s.stateType], ['OK', 'HARD']);
  });

  it('recovers on the first OK with the default policy', () => {
    const s = initialCheckState('c1', 'a1');
    assert.deepEqual(hardChanges(feed(s, ['CRITICAL', 'CRITICAL', 'CRITICAL', 'OK'])), ['', '', 'OK→CRITICAL', 'CRITICAL→OK']);
  });

  describe('percent state change', () => {
    it('is 0 without changes and 100 for a full window that alternates, unweighted', () => {
      assert.equal(percentStateChange([0, 0, 0, 0, 0], 5, false), 0);
      assert.equal(percentStateChange([0, 2, 0, 2, 0], 5, false), 100);
      assert.equal(percentStateChange([0, 2, 0], 5, false), 50, 'a short history counts against the full window');
    });

    it('weighs the newest change 1.25 and the oldest 0.75 (Nagios)', () => {
      assert.equal(percentStateChange([0, 2, 2, 2, 2], 5, true), 18.75);
      assert.equal(percentStateChange([0, 0, 0, 0, 2], 5, true), 31.25);
      assert.equal(percentStateChange([0, 2, 0, 2, 0], 5, true), 100);
    });
  });

  it('starts flapping above the high threshold and stops only below the low one', () => {
    const policy = resolvePolicy({ failuresBeforeHard: 1, flap: { window: 11, high: 50, low: 20, weighted: false } });
    const s = initialCheckState('c1', 'a1');
    const events = feed(s, ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK'], policy);
    const flapEvents = events.map((e) =>
      e
        .filter((x) => x.type !== 'hard_change')
        .map((x) => x.type)
        .join(''),
    );
    // 6 changes out of 10 is 60 %: above 50 on the seventh result.
    assert.deepEqual(flapEvents, ['', '', '', '', '', '', 'flapping_started']);
    assert.equal(s.percentChange, 60);

    const settle = feed(s, Array<CheckStatus>(9).fill('OK'), policy).map((e) => e.map((x) => x.type).join(''));
    // The window slides the changes out: 60 % … 40, 30, 20 % is not below 20 — 10 % is.
    assert.equal(settle.indexOf('flapping_stopped'), 8);
    assert.equal(s.flapping, false);
    assert.equal(s.percentChange, 10);
  });

  it('never flaps when flap detection is off', () => {
    const policy = resolvePolicy({ failuresBeforeHard: 1, flap: { enabled: false } });
    const s = initialCheckState('c1', 'a1');
    feed(
      s,
      Array.from({ length: 30 }, (_, i): CheckStatus => (i % 2 ? 'CRITICAL' : 'OK')),
      policy,
    );
    assert.equal(s.flapping, false);
    assert.ok(s.percentChange > 90);
  });

  it('keeps only the last window of statuses as stored numbers', () => {
    const policy = resolvePolicy({ flap: { window: 4 } });
    const s = initialCheckState('c1', 'a1');
    feed(s, ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN', 'OK'], policy);
    assert.deepEqual(s.recent, [1, 2, 3, 0]);
  });

  describe('policy schema', () => {
    it('reads overrides, with repeat as a duration', () => {
      assert.deepEqual(validateWith(checkPolicySchema, { failuresBeforeHard: 5, flap: { high: 40 }, repeat: '1h' }), {
        ok: true,
        value: { failuresBeforeHard: 5, flap: { high: 40 }, repeatMs: 3_600_000 },
      });
    });

    const invalid: [string, unknown, { field: string; message: string }][] = [
      ['zero failures', { failuresBeforeHard: 0 }, { field: 'failuresBeforeHard', message: 'must be a whole number of results from 1 to 100' }],
      [
        'a fraction of successes',
        { successesBeforeRecovery: 1.5 },
        { field: 'successesBeforeRecovery', message: 'must be a whole number of results from 1 to 100' },
      ],
      ['a window of two', { flap: { window: 2 } }, { field: 'flap.window', message: 'must be a whole number of results from 3 to 100' }],
      ['a percentage above 100', { flap: { high: 120 } }, { field: 'flap.high', message: 'must be a percentage from 0 to 100' }],
      [
        'low above high',
        { flap: { high: 20, low: 40 } },
        { field: 'flap.low', message: 'must not be above high (20 %): a check stops flapping below low and starts above high' },
      ],
      [
        'low above the default high',
        { flap: { low: 35 } },
        { field: 'flap.low', message: 'must not be above high (30 %): a check stops flapping below low and starts above high' },
      ],
      ['a bad repeat', { repeat: '15 minutes' }, { field: 'repeat', message: 'must be a duration like 30s, 5m, 1h or 1d, got "15 minutes"' }],
      ['an unknown field', { maxAttempts: 3 }, { field: 'maxAttempts', message: 'unknown field' }],
    ];
    for (const [what, input, error] of invalid) {
      it(`refuses ${what} with "${error.field}: ${error.message}"`, () => {
        assert.deepEqual(validateWith(checkPolicySchema, input), { ok: false, errors: [error] });
      });
    }
  });
});
