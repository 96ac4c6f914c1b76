import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '#rounds/common';
import { AlertEngine } from './engine.js';
import { C1, MIN, Rounds, T0, firing, rule, said } from './engine.testing.js';

describe('AlertEngine', () => {
  describe('state and notification keys', () => {
    it('survives a round trip through JSON mid-episode: reminders keep their schedule and keys continue', async () => {
      const r = new Rounds({ rules: [rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.8, for: '5m' })] });
      await firing(r);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'on it', expiresAt: T0 + 20 * MIN }));
      r.metrics([{ name: 'cpu_usage_ratio', value: 0.9 }]);
      r.engine.addSilence({ id: 's1', matchers: [{ label: 'agent', op: '=', value: 'nas-01' }], durationMs: 60 * MIN, createdBy: 'dana', comment: 'c' });
      r.engine.setCheckPolicy('c1', { successesBeforeRecovery: 2 });

      const saved = JSON.parse(JSON.stringify(r.engine.toJSON()));
      const restored = AlertEngine.fromJSON(saved, { clock: r.clock });
      assert.deepEqual(restored.toJSON(), r.engine.toJSON());

      await r.to(20 * MIN);
      const a = restored.tick();
      assert.deepEqual(said(a), ['reminder CheckStatus critical']);
      assert.deepEqual(
        a.history.map((h) => h.event),
        ['ack_expired'],
      );
      assert.equal(a.notifications[0]!.key, `${C1}/${T0}/2/reminder`);
      await r.to(21 * MIN);
      assert.deepEqual(
        said(
          restored.ingest({
            agentId: 'a1',
            checkId: 'host',
            status: 0,
            reason: 'ok',
            summary: '',
            metrics: [{ name: 'cpu_usage_ratio', value: 0.95 }],
            at: r.clock.now(),
          }),
        ),
        ['firing cpu warning'],
      );
      assert.deepEqual(
        said(restored.ingest({ agentId: 'a1', checkId: 'c1', status: 0, reason: 'ok', summary: '', metrics: [], at: r.clock.now() })),
        [],
        'recovery needs 2 OKs',
      );
    });

    it('gives the same keys when the same inputs are replayed on the same saved state, so an outbox delivers once', async () => {
      const r = new Rounds();
      await firing(r);
      const saved = r.engine.toJSON();
      const replay = () => {
        const engine = AlertEngine.fromJSON(saved, { clock: r.clock });
        return [
          ...engine
            .ingest({ agentId: 'a1', checkId: 'c1', status: 'OK', reason: 'ok', summary: '', metrics: [], at: r.clock.now() })
            .notifications.map((n) => n.key),
        ];
      };
      assert.deepEqual(replay(), [`${C1}/${T0}/2/resolved`]);
      assert.deepEqual(replay(), replay());
    });

    it('gives every notification of every episode its own key', async () => {
      const r = new Rounds({ repeatMs: 5 * MIN });
      for (let episode = 0; episode < 3; episode++) {
        await firing(r);
        for (let i = 0; i < 3; i++) {
          await r.clock.advance(5 * MIN);
          r.tick();
        }
        r.result('OK');
        await r.clock.advance(MIN);
      }
      const keys = r.notifications.map((n) => n.key);
      assert.equal(keys.length, 3 * 5);
      assert.equal(new Set(keys).size, keys.length);
    });

    it('refuses saved state of another version', () => {
      assert.throws(() => AlertEngine.fromJSON({ version: 2 } as never, { clock: new ManualClock() }), {
        message: 'alert engine state version 2 is not supported (expected 1): it was written by another Rounds version',
      });
    });
  });

  it('keeps a history of every transition and of who acknowledged what', async () => {
    const r = new Rounds();
    await firing(r);
    await r.to(4 * MIN);
    r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'replacing the switch', expiresAt: T0 + 60 * MIN }));
    await r.to(10 * MIN);
    r.result('OK');
    assert.deepEqual(
      r.history.map((h) => [h.at - T0, h.event, h.by ?? null, h.comment ?? null]),
      [
        [0, 'pending', null, null],
        [2 * MIN, 'firing', null, null],
        [4 * MIN, 'acknowledged', 'dana', 'replacing the switch'],
        [10 * MIN, 'resolved', null, null],
        [10 * MIN, 'ack_cleared', 'dana', null],
      ],
    );
    assert.equal(r.history[2]!.expiresAt, T0 + 60 * MIN);
    assert.ok(r.history.every((h) => h.fingerprint === C1 && h.name === 'CheckStatus' && h.labels.check === 'PACS web'));
  });

  it('lists firing alerts before pending ones, most severe first', async () => {
    const r = new Rounds();
    r.result('CRITICAL', { checkId: 'p' });
    await firing(r, { checkId: 'w', status: 'WARNING' });
    await firing(r, { checkId: 'c' });
    r.engine.agentUnreachable({ agentId: 'a9' });
    assert.deepEqual(
      r.engine.alerts().map((a) => `${a.state} ${a.severity} ${a.source.type === 'agent' ? 'a9' : a.labels.check_id}`),
      ['firing critical c', 'firing critical a9', 'firing warning w', 'pending critical p'],
    );
  });
});
