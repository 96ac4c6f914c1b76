import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentAlertFingerprint } from './engine.js';
import { C1, MIN, Rounds, T0, firing, said } from './engine.testing.js';

describe('AlertEngine', () => {
  describe('agent unreachable', () => {
    it("raises one AgentUnreachable alert and keeps the alerts of the agent's checks quiet until it answers again", async () => {
      const r = new Rounds();
      await firing(r); // c1 fired at +2m
      r.result('OK', { checkId: 'c2', checkName: 'DICOM echo' });
      await r.to(3 * MIN);
      const down = r.keep(r.engine.agentUnreachable({ agentId: 'a1', error: 'connect ECONNREFUSED 10.0.4.7:7443' }));
      assert.deepEqual(said(down), ['firing AgentUnreachable critical']);
      assert.equal(down.notifications[0]!.alert.summary, 'agent pacs-01 is unreachable: connect ECONNREFUSED 10.0.4.7:7443');
      assert.deepEqual(r.engine.mutedBy(C1), [{ type: 'agent_unreachable', agentId: 'a1' }]);

      await r.to(18 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder AgentUnreachable critical'], 'no reminder for the check of the unreachable agent');
      assert.deepEqual(said(r.result('CRITICAL', { checkId: 'c2' })), []);
      await r.to(19 * MIN);
      r.result('CRITICAL', { checkId: 'c2' });
      await r.to(20 * MIN);
      assert.deepEqual(said(r.result('CRITICAL', { checkId: 'c2' })), ['firing CheckStatus critical (muted: agent_unreachable)']);

      await r.to(21 * MIN);
      const up = r.keep(r.engine.agentReachable({ agentId: 'a1' }));
      assert.deepEqual(said(up).sort(), ['firing CheckStatus critical', 'reminder CheckStatus critical', 'resolved AgentUnreachable critical']);
      assert.equal(r.engine.agentState('a1')?.reachable, true);
    });

    it('keeps one alert and one notification however often the poller reports the agent unreachable', async () => {
      const r = new Rounds();
      assert.deepEqual(said(r.engine.agentUnreachable({ agentId: 'a1', agentName: 'pacs-01' })), ['firing AgentUnreachable critical']);
      await r.clock.advance(MIN);
      assert.deepEqual(said(r.engine.agentUnreachable({ agentId: 'a1', error: 'deadline exceeded' })), []);
      assert.equal(r.engine.alerts().length, 1);
      assert.equal(r.engine.agentState('a1')?.since, T0);
      assert.equal(r.engine.alert(agentAlertFingerprint('a1'))?.summary, 'agent pacs-01 is unreachable: deadline exceeded');
    });
  });
});
