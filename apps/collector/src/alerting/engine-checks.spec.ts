import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckStatus } from '#rounds/common';
import { C1, MIN, Rounds, T0, feed, firing, said } from './engine.testing.js';

describe('AlertEngine', () => {
  describe('check alerts: soft and hard states', () => {
    it('notifies "firing" only on the third failure in a row; the first two are pending (soft)', async () => {
      const r = new Rounds();
      assert.deepEqual(said(r.result('CRITICAL')), []);
      assert.equal(r.engine.alert(C1)?.state, 'pending');
      assert.equal(r.engine.checkState('c1')?.stateType, 'SOFT');
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.result('CRITICAL')), []);
      await r.clock.advance(MIN);
      const step = r.result('CRITICAL');
      assert.deepEqual(said(step), ['firing CheckStatus critical']);
      const alert = step.notifications[0]!.alert;
      assert.deepEqual(alert.labels, {
        alertname: 'CheckStatus',
        severity: 'critical',
        agent: 'pacs-01',
        agent_id: 'a1',
        check: 'PACS web',
        check_id: 'c1',
        plugin: 'http',
      });
      assert.equal(alert.summary, 'PACS web on pacs-01 is CRITICAL: no answer within 10 s');
      assert.equal(alert.reason, 'timeout');
      assert.equal(alert.activeAt, T0);
      assert.equal(alert.firedAt, T0 + 2 * MIN);
      assert.deepEqual(r.events(), ['pending', 'firing']);
    });

    it('clears a pending check alert without a notification when the check passes again', async () => {
      const r = new Rounds();
      assert.deepEqual(await feed(r, ['CRITICAL', 'CRITICAL', 'OK', 'CRITICAL', 'OK']), {});
      assert.deepEqual(r.events(), ['pending', 'cleared', 'pending', 'cleared']);
      assert.deepEqual(r.engine.alerts(), []);
    });

    it('sends "resolved" on the first OK after a hard failure by default', async () => {
      const r = new Rounds();
      assert.deepEqual(await feed(r, ['CRITICAL', 'CRITICAL', 'CRITICAL', 'OK']), { 3: ['firing CheckStatus critical'], 4: ['resolved CheckStatus critical'] });
      assert.deepEqual(r.engine.alerts(), [], 'a resolved alert that has been announced is forgotten');
    });

    it('with successesBeforeRecovery 3 keeps firing through a short recovery and resolves after three OKs in a row', async () => {
      const r = new Rounds();
      r.engine.setCheckPolicy('c1', { successesBeforeRecovery: 3 });
      const out = await feed(r, ['CRITICAL', 'CRITICAL', 'CRITICAL', 'OK', 'OK', 'CRITICAL', 'OK', 'OK', 'OK']);
      assert.deepEqual(out, { 3: ['firing CheckStatus critical'], 9: ['resolved CheckStatus critical'] });
      assert.deepEqual(r.events(C1), ['pending', 'firing', 'resolved']);
    });

    it('honours failuresBeforeHard set for all checks and overridden for one', async () => {
      const r = new Rounds({ checkPolicy: { failuresBeforeHard: 5 } });
      r.engine.setCheckPolicy('c2', { failuresBeforeHard: 1 });
      assert.equal(r.engine.checkPolicy('c1').failuresBeforeHard, 5);
      assert.deepEqual(said(r.result('CRITICAL', { checkId: 'c2' })), ['firing CheckStatus critical']);
      assert.deepEqual(await feed(r, ['CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL']), { 5: ['firing CheckStatus critical'] });
    });

    it('notifies "firing" again when a hard WARNING turns CRITICAL, and drops the acknowledgement', async () => {
      const r = new Rounds();
      assert.deepEqual(await feed(r, ['WARNING', 'WARNING', 'WARNING']), { 3: ['firing CheckStatus warning'] });
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'looking' }));
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.result('CRITICAL')), ['firing CheckStatus critical']);
      assert.equal(r.engine.alert(C1)?.ack, null);
      assert.deepEqual(r.events(C1), ['pending', 'firing', 'acknowledged', 'severity_changed', 'ack_cleared']);
      assert.equal(r.history.find((h) => h.event === 'severity_changed')?.from, 'warning');
    });

    it('takes stored status numbers: three 3s (UNKNOWN) fire with severity warning', async () => {
      const r = new Rounds();
      r.result(3);
      await r.clock.advance(MIN);
      r.result(3);
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.result(3)), ['firing CheckStatus warning']);
      assert.equal(r.engine.alert(C1)?.status, 'UNKNOWN');
      assert.equal(r.engine.checkState('c1')?.hardStatus, 'UNKNOWN');
    });

    it('ignores a result older than the latest one it has seen', async () => {
      const r = new Rounds();
      await firing(r);
      assert.deepEqual(said(r.result('OK', { at: T0 })), []);
      assert.equal(r.engine.alert(C1)?.state, 'firing');
    });

    it('resolves the alerts of a check that is forgotten', async () => {
      const r = new Rounds();
      await firing(r);
      assert.deepEqual(said(r.keep(r.engine.forgetCheck('c1'))), ['resolved CheckStatus critical']);
      assert.equal(r.engine.checkState('c1'), undefined);
    });
  });

  describe('flapping', () => {
    const flappy = { failuresBeforeHard: 1, flap: { window: 10, high: 40, low: 25, weighted: false } };

    it('holds the notifications of a flapping check and sends "resolved" once it settles OK', async () => {
      const r = new Rounds({ checkPolicy: flappy });
      const out = await feed(r, ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK', ...Array<CheckStatus>(7).fill('OK')]);
      // 4 changes in the window (44 %) on the fifth result; below 25 % again on the 14th.
      assert.deepEqual(out, {
        2: ['firing CheckStatus critical'],
        3: ['resolved CheckStatus critical'],
        4: ['firing CheckStatus critical'],
        14: ['resolved CheckStatus critical'],
      });
      assert.deepEqual(r.events(C1).slice(5), ['flapping_started', 'resolved', 'reopened', 'resolved', 'flapping_stopped']);
      assert.equal(r.engine.checkState('c1')?.flapping, false);
    });

    it('announces a check that flaps into a failure once, when it settles failing', async () => {
      const r = new Rounds({ checkPolicy: { ...flappy, failuresBeforeHard: 2 } });
      const out = await feed(r, ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK', 'CRITICAL', ...Array<CheckStatus>(7).fill('CRITICAL')]);
      assert.deepEqual(out, {
        7: ['firing CheckStatus critical (muted: flapping)'],
        13: ['firing CheckStatus critical'],
      });
    });

    it('sends no reminders while a firing check flaps', async () => {
      const r = new Rounds({ checkPolicy: { ...flappy, failuresBeforeHard: 1, successesBeforeRecovery: 5 } });
      await feed(r, ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'OK']);
      assert.equal(r.engine.checkState('c1')?.flapping, true);
      assert.deepEqual(r.engine.mutedBy(C1), [{ type: 'flapping', checkId: 'c1' }]);
      await r.clock.advance(60 * MIN);
      assert.deepEqual(said(r.tick()), []);
    });
  });
});
