import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAlertFingerprint } from './engine.js';
import { C1, MIN, Rounds, T0, firing, rule, said } from './engine.testing.js';
import type { MaintenanceWindow } from './maintenance.js';
import { AlertEngine } from './engine.js';

describe('AlertEngine', () => {
  describe('reminders and acknowledgements', () => {
    it('reminds every 15 minutes while firing by default', async () => {
      const r = new Rounds();
      await firing(r); // fired at +2m
      await r.to(17 * MIN - 1);
      assert.deepEqual(said(r.tick()), []);
      await r.to(17 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
      await r.to(31 * MIN);
      assert.deepEqual(said(r.tick()), []);
      await r.to(32 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
    });

    it('reminds every `repeat` of the rule or check, and never when it is 0', async () => {
      const r = new Rounds({ rules: [rule({ name: 'cpu', metric: 'cpu_usage_ratio', op: '>', value: 0.8, repeat: '1h' })] });
      r.engine.setCheckPolicy('c1', { repeatMs: 0 });
      r.metrics([{ name: 'cpu_usage_ratio', value: 0.9 }]);
      await firing(r);
      await r.to(59 * MIN);
      assert.deepEqual(said(r.tick()), []);
      await r.to(60 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder cpu warning']);
      await r.to(600 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder cpu warning']);
    });

    it('stops reminders while acknowledged, and reminds at once when the acknowledgement expires', async () => {
      const r = new Rounds();
      await firing(r);
      await r.to(5 * MIN);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'restarting Orthanc', expiresAt: T0 + 45 * MIN }));
      assert.deepEqual(r.engine.mutedBy(C1), [{ type: 'acknowledged', by: 'dana', expiresAt: T0 + 45 * MIN }]);
      for (const m of [17, 30, 44]) {
        await r.to(m * MIN);
        assert.deepEqual(said(r.tick()), [], `at +${m}m`);
      }
      await r.to(45 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
      assert.deepEqual(r.events(C1).slice(-2), ['acknowledged', 'ack_expired']);
      await r.to(60 * MIN - 1);
      assert.deepEqual(said(r.tick()), []);
      await r.to(60 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical']);
    });

    it('keeps an acknowledgement without expiry until the alert resolves; the next episode needs its own', async () => {
      const r = new Rounds();
      await firing(r);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'on it' }));
      await r.to(300 * MIN);
      assert.deepEqual(said(r.tick()), []);
      assert.deepEqual(said(r.result('OK')), ['resolved CheckStatus critical'], '"resolved" is sent for an acknowledged alert');
      await r.clock.advance(MIN);
      await firing(r);
      assert.equal(r.engine.alert(C1)?.ack, null);
      assert.deepEqual(said(r.tick()), []);
      assert.equal(r.notifications.at(-1)?.kind, 'firing');
    });

    it('sends an overdue reminder at once when the acknowledgement is withdrawn', async () => {
      const r = new Rounds();
      await firing(r);
      r.keep(r.engine.acknowledge(C1, { by: 'dana', comment: 'on it' }));
      await r.to(40 * MIN);
      assert.deepEqual(said(r.keep(r.engine.unacknowledge(C1, 'lee'))), ['reminder CheckStatus critical']);
      assert.equal(r.history.at(-1)?.by, 'lee');
    });

    it('refuses to acknowledge without a comment, an alert that is not firing, an unknown alert, or with an expiry in the past', async () => {
      const r = new Rounds();
      r.result('CRITICAL');
      assert.throws(() => r.engine.acknowledge(C1, { by: 'dana', comment: 'x' }), {
        name: 'AlertStateError',
        message: `alert CheckStatus (${C1}) is pending: only a firing alert can be acknowledged`,
      });
      await firing(r);
      assert.throws(() => r.engine.acknowledge(C1, { by: 'dana', comment: '  ' }), {
        message: 'an acknowledgement needs a comment: say who is on it or why the alert can wait',
      });
      assert.throws(() => r.engine.acknowledge(C1, { by: 'dana', comment: 'x', expiresAt: r.clock.now() }), {
        message: 'the acknowledgement would expire at 2025-01-06T08:02:00.000Z, which is not in the future',
      });
      assert.throws(() => r.engine.acknowledge('0000000000000000', { by: 'dana', comment: 'x' }), {
        name: 'AlertNotFoundError',
        message: 'there is no alert 0000000000000000: it may have resolved in the meantime — reload the alert list',
      });
      assert.throws(() => r.engine.unacknowledge(C1, 'dana'), { message: `alert CheckStatus (${C1}) is not acknowledged` });
    });
  });

  describe('silences', () => {
    it('mute matching alerts only, record the held "firing", and send it when the silence expires while the alert still fires', async () => {
      const r = new Rounds();
      const { silence } = r.engine.addSilence({
        matchers: [{ label: 'check', op: '=', value: 'PACS web' }],
        durationMs: 60 * MIN,
        createdBy: 'dana',
        comment: 'migrating',
      });
      await firing(r);
      await firing(r, { checkId: 'c2', checkName: 'DICOM echo' });
      const muted = r.notifications.filter((n) => n.muted.length);
      assert.deepEqual(
        muted.map((n) => [n.kind, n.alert.labels.check, n.muted]),
        [['firing', 'PACS web', [{ type: 'silence', id: silence.id, createdBy: 'dana', comment: 'migrating' }]]],
      );
      assert.deepEqual(
        r.notifications.filter((n) => !n.muted.length).map((n) => n.alert.labels.check),
        ['DICOM echo'],
      );

      await r.to(30 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical'], 'only the unsilenced check reminds');
      assert.deepEqual(said(r.keep(r.engine.expireSilence(silence.id))), ['firing CheckStatus critical']);
      assert.equal(r.engine.silences()[0]?.endsAt, T0 + 30 * MIN);
    });

    it('match a check’s tags (with its agent’s), which its alerts carry as labels; a tag cannot override a built-in label', async () => {
      const r = new Rounds();
      const { silence } = r.engine.addSilence({
        matchers: [{ label: 'site', op: '=', value: 'north' }],
        durationMs: 60 * MIN,
        createdBy: 'dana',
        comment: 'north wing network works',
      });
      await firing(r, { tags: { site: 'north', modality: 'CT', check: 'not-this' } });
      await firing(r, { checkId: 'c2', checkName: 'DICOM echo', tags: { site: 'south' } });
      const north = r.notifications.find((n) => n.alert.labels.check_id === 'c1')!;
      assert.deepEqual(
        [north.alert.labels.site, north.alert.labels.modality, north.alert.labels.check, north.muted.map((m) => m.type === 'silence' && m.id)],
        ['north', 'CT', 'PACS web', [silence.id]],
      );
      const south = r.notifications.find((n) => n.alert.labels.check_id === 'c2')!;
      assert.deepEqual([south.alert.labels.site, south.muted], ['south', []]);
      // Saved and restored (a collector restart), the labels stay.
      const restored = AlertEngine.fromJSON(JSON.parse(JSON.stringify(r.engine.toJSON())) as ReturnType<AlertEngine['toJSON']>, { clock: r.clock });
      assert.equal(restored.checkState('c1')?.tags?.['site'], 'north');
    });

    it('let an alert that fired before the silence send "resolved" while silenced', async () => {
      const r = new Rounds();
      await firing(r);
      r.engine.addSilence({ matchers: [{ label: 'agent', op: '=', value: 'pacs-01' }], durationMs: 60 * MIN, createdBy: 'dana', comment: 'migrating' });
      await r.to(20 * MIN);
      assert.deepEqual(said(r.tick()), []);
      assert.deepEqual(said(r.result('OK')), ['resolved CheckStatus critical']);
    });

    it('end on their own: a firing alert they held back is sent at the first tick after', async () => {
      const r = new Rounds();
      r.engine.addSilence({ matchers: [{ label: 'alertname', op: '=', value: 'CheckStatus' }], durationMs: 10 * MIN, createdBy: 'dana', comment: 'c' });
      await firing(r);
      await r.to(10 * MIN - 1);
      assert.deepEqual(said(r.tick()), []);
      await r.to(10 * MIN);
      assert.deepEqual(said(r.tick()), ['firing CheckStatus critical']);
    });

    it('are forgotten a week after they end', async () => {
      const r = new Rounds();
      r.engine.addSilence({ id: 's1', matchers: [{ label: 'agent', op: '=', value: 'x' }], durationMs: MIN, createdBy: 'dana', comment: 'c' });
      await r.to(MIN + 7 * 24 * 60 * MIN - 1);
      r.tick();
      assert.equal(r.engine.silences().length, 1);
      await r.to(MIN + 7 * 24 * 60 * MIN);
      r.tick();
      assert.equal(r.engine.silences().length, 0);
      assert.throws(() => r.engine.expireSilence('s1'), { message: 'there is no silence s1: it may have expired and been removed — reload the list' });
    });
  });

  describe('maintenance windows', () => {
    it('mute notifications but keep recording, and "resolved" still goes out for what fired before', async () => {
      const r = new Rounds();
      await firing(r); // c1 fired and was announced before the window
      const window: MaintenanceWindow = {
        id: 'm1',
        name: 'PACS upgrade',
        matchers: [{ label: 'agent', op: '=', value: 'pacs-01' }],
        comment: null,
        kind: 'once',
        startsAt: T0 + 10 * MIN,
        endsAt: T0 + 70 * MIN,
      };
      r.engine.putMaintenanceWindow(window);
      await r.to(10 * MIN);
      assert.deepEqual(said(r.tick()), []);
      await firing(r, { checkId: 'c2', checkName: 'DICOM echo' });
      assert.deepEqual(said({ notifications: r.notifications.slice(-1), history: [] }), ['firing CheckStatus critical (muted: maintenance)']);
      assert.deepEqual(r.notifications.at(-1)?.muted, [{ type: 'maintenance', id: 'm1', name: 'PACS upgrade' }]);
      assert.deepEqual(r.events(checkAlertFingerprint('c2')), ['pending', 'firing'], 'the history is kept during maintenance');

      await r.to(40 * MIN);
      assert.deepEqual(said(r.tick()), [], 'no reminders in maintenance');
      assert.deepEqual(said(r.result('OK')), ['resolved CheckStatus critical'], 'c1 fired before the window: its "resolved" goes out');
      assert.deepEqual(said(r.result('OK', { checkId: 'c2' })), [], 'c2 was never announced: nothing to resolve');
      assert.deepEqual(r.events(checkAlertFingerprint('c2')), ['pending', 'firing', 'resolved']);
    });

    it('send what still fires when the window closes', async () => {
      const r = new Rounds();
      r.engine.putMaintenanceWindow({ id: 'm1', name: 'patching', matchers: [], comment: null, kind: 'once', startsAt: T0, endsAt: T0 + 30 * MIN });
      await firing(r);
      await r.to(30 * MIN);
      assert.deepEqual(said(r.tick()), ['firing CheckStatus critical']);
      r.keep(r.engine.removeMaintenanceWindow('m1'));
      assert.deepEqual(r.engine.maintenanceWindows(), []);
    });

    it('mute a weekly Sunday 02:00–04:00 Europe/Berlin window on the spring-forward Sunday from 01:00 to 02:00 UTC only', async () => {
      const r = new Rounds({}, Date.parse('2025-03-30T00:43:00Z'));
      r.engine.putMaintenanceWindow({
        id: 'sun',
        name: 'Sunday patching',
        matchers: [],
        comment: null,
        kind: 'weekly',
        timeZone: 'Europe/Berlin',
        start: '02:00',
        end: '04:00',
        days: ['sun'],
      });
      await firing(r); // announced at 00:45Z, before the window
      assert.equal(r.notifications.at(-1)?.at, Date.parse('2025-03-30T00:45:00Z'));
      const at = async (text: string) => {
        await r.clock.advance(Date.parse(text) - r.clock.now());
        return said(r.tick());
      };
      assert.deepEqual(await at('2025-03-30T01:00:00Z'), [], 'reminder due, but 03:00 CEST is inside the window');
      assert.deepEqual(await at('2025-03-30T01:59:59Z'), []);
      assert.deepEqual(await at('2025-03-30T02:00:00Z'), ['reminder CheckStatus critical'], '04:00 CEST: the window has closed');
    });

    it('mute the same window on the fall-back Sunday from 00:00 to 03:00 UTC', async () => {
      const r = new Rounds({ repeatMs: 30 * MIN }, Date.parse('2025-10-25T23:28:00Z'));
      r.engine.putMaintenanceWindow({
        id: 'sun',
        name: 'Sunday patching',
        matchers: [],
        comment: null,
        kind: 'weekly',
        timeZone: 'Europe/Berlin',
        start: '02:00',
        end: '04:00',
        days: ['sun'],
      });
      await firing(r); // announced at 23:30Z on Saturday
      const at = async (text: string) => {
        await r.clock.advance(Date.parse(text) - r.clock.now());
        return said(r.tick());
      };
      assert.deepEqual(await at('2025-10-26T00:00:00Z'), [], '02:00 CEST, first pass');
      assert.deepEqual(await at('2025-10-26T01:30:00Z'), [], '02:30 CET, second pass');
      assert.deepEqual(await at('2025-10-26T02:59:59Z'), []);
      assert.deepEqual(await at('2025-10-26T03:00:00Z'), ['reminder CheckStatus critical']);
    });
  });
});
