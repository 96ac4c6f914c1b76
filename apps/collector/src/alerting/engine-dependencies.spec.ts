import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckStatus } from '#rounds/common';
import { checkAlertFingerprint, findCycle, type DependencyRef } from './engine.js';
import { suppressedText } from './engine-dependencies.js';
import { MIN, Rounds, said } from './engine.testing.js';

const check = (id: string): DependencyRef => ({ kind: 'check', id });

/** Gives every named check one result of its status (one batch, as a poll hands them over). */
function round(r: Rounds, statuses: Record<string, CheckStatus>): string[] {
  const step = r.engine.ingest(
    Object.entries(statuses).map(([id, status]) => ({
      agentId: 'a1',
      agentName: 'pacs-01',
      checkId: id,
      checkName: id,
      plugin: 'tcp',
      status,
      reason: status === 'OK' ? 'ok' : 'refused',
      summary: status === 'OK' ? 'connected' : 'connection refused',
      metrics: [],
      at: r.clock.now(),
    })),
  );
  return said(r.keep(step)).map((line, i) => `${step.notifications[i]!.alert.labels.check} ${line}`);
}

/** A chain `child → parent` per entry, set on the engine. */
function depend(r: Rounds, edges: Record<string, string[]>): void {
  r.keep(r.engine.setDependencies(new Map(Object.entries(edges).map(([child, parents]) => [`check:${child}`, parents.map(check)]))));
}

describe('AlertEngine', () => {
  describe('dependencies', () => {
    it('notifies once for a parent that goes down with its three children, and sends only its resolution when it comes back', async () => {
      const r = new Rounds();
      depend(r, { web: ['port'], dicom: ['port'], hl7: ['port'] });
      const all = (s: CheckStatus) => ({ port: s, web: s, dicom: s, hl7: s });
      assert.deepEqual(round(r, all('OK')), []);
      const said1: string[] = [];
      for (let i = 0; i < 3; i++) {
        await r.clock.advance(MIN);
        said1.push(...round(r, all('CRITICAL')));
      }
      assert.deepEqual(said1, [
        'port firing CheckStatus critical',
        'web firing CheckStatus critical (muted: dependency)',
        'dicom firing CheckStatus critical (muted: dependency)',
        'hl7 firing CheckStatus critical (muted: dependency)',
      ]);
      const reason = r.engine.mutedBy(checkAlertFingerprint('web'))[0]!;
      assert.deepEqual(reason, { type: 'dependency', parent: { kind: 'check', id: 'port', name: 'port' }, verdict: 'down', rootCause: null });
      assert.equal(reason.type === 'dependency' && suppressedText(reason), 'suppressed by check port (is down)');

      await r.to(30 * MIN);
      assert.deepEqual(said(r.tick()), ['reminder CheckStatus critical'], 'reminders only for the parent');

      await r.clock.advance(MIN);
      assert.deepEqual(round(r, { port: 'OK' }), ['port resolved CheckStatus critical']);
      assert.deepEqual(said(r.tick()), [], 'the children wait for their own next result after the parent recovered');
      assert.deepEqual(r.engine.mutedBy(checkAlertFingerprint('web'))[0], {
        type: 'dependency',
        parent: { kind: 'check', id: 'port', name: 'port' },
        verdict: 'recovered',
        rootCause: null,
      });
      await r.clock.advance(MIN);
      assert.deepEqual(round(r, { web: 'OK', dicom: 'OK', hl7: 'OK' }), []);
      assert.deepEqual(r.engine.alerts(), [], 'the children cleared without a word: receivers never heard of them');
    });

    it('announces a child that is still down at its first result after the parent recovered', async () => {
      const r = new Rounds();
      depend(r, { web: ['port'] });
      for (let i = 0; i < 3; i++) {
        await r.clock.advance(MIN);
        round(r, { port: 'CRITICAL', web: 'CRITICAL' });
      }
      await r.clock.advance(MIN);
      assert.deepEqual(round(r, { port: 'OK' }), ['port resolved CheckStatus critical']);
      await r.clock.advance(MIN);
      assert.deepEqual(round(r, { web: 'CRITICAL' }), ['web firing CheckStatus critical']);
    });

    it('holds a child that goes hard before its parent does while the parent is failing (soft), and lets it fire when the parent turns out OK', async () => {
      const r = new Rounds();
      depend(r, { web: ['port'] });
      for (let i = 0; i < 2; i++) round(r, { web: 'CRITICAL' });
      await r.clock.advance(MIN);
      assert.deepEqual(round(r, { port: 'CRITICAL', web: 'CRITICAL' }), ['web firing CheckStatus critical (muted: dependency)']);
      assert.deepEqual(r.engine.suppressedBy(check('web')), [
        { type: 'dependency', parent: { kind: 'check', id: 'port', name: 'port' }, verdict: 'failing', rootCause: null },
      ]);
      await r.clock.advance(MIN);
      assert.deepEqual(round(r, { port: 'OK', web: 'CRITICAL' }), ['web firing CheckStatus critical']);
    });

    it('suppresses transitively through each parent’s real state: C under B under A', async () => {
      const r = new Rounds();
      depend(r, { B: ['A'], C: ['B'] });
      const out: string[] = [];
      for (let i = 0; i < 3; i++) {
        await r.clock.advance(MIN);
        out.push(...round(r, { A: 'CRITICAL', B: 'CRITICAL', C: 'CRITICAL' }));
      }
      assert.deepEqual(out, [
        'A firing CheckStatus critical',
        'B firing CheckStatus critical (muted: dependency)',
        'C firing CheckStatus critical (muted: dependency)',
      ]);
      const c = r.engine.suppressedBy(check('C'));
      assert.equal(c.length, 1);
      assert.equal(c[0]!.type === 'dependency' && suppressedText(c[0]!), 'suppressed by check B (is down, because check A is down)');
    });

    it('does not suppress C when only A is down and B, between them, is up', async () => {
      const r = new Rounds();
      depend(r, { B: ['A'], C: ['B'] });
      const out: string[] = [];
      for (let i = 0; i < 3; i++) {
        await r.clock.advance(MIN);
        out.push(...round(r, { A: 'CRITICAL', B: 'OK', C: 'CRITICAL' }));
      }
      assert.deepEqual(out, ['A firing CheckStatus critical', 'C firing CheckStatus critical']);
      assert.deepEqual(r.engine.suppressedBy(check('C')), []);
    });

    it('suppresses a check whose parent is another agent while that agent is unreachable, and that agent’s own alert by its parents', async () => {
      const r = new Rounds();
      r.keep(
        r.engine.setDependencies(
          new Map([
            ['check:web', [{ kind: 'agent', id: 'router' }]],
            ['agent:router', [{ kind: 'agent', id: 'core' }]],
          ]),
        ),
      );
      assert.deepEqual(said(r.keep(r.engine.agentUnreachable({ agentId: 'core', agentName: 'core-switch' }))), ['firing AgentUnreachable critical']);
      assert.deepEqual(said(r.keep(r.engine.agentUnreachable({ agentId: 'router', agentName: 'router' }))), [
        'firing AgentUnreachable critical (muted: dependency)',
      ]);
      const out: string[] = [];
      for (let i = 0; i < 3; i++) {
        await r.clock.advance(MIN);
        out.push(...round(r, { web: 'CRITICAL' }));
      }
      assert.deepEqual(out, ['web firing CheckStatus critical (muted: dependency)']);
      const [reason] = r.engine.suppressedBy(check('web'));
      assert.equal(reason?.type === 'dependency' && suppressedText(reason), 'suppressed by agent router (is unreachable, because agent core-switch is down)');
    });

    it('keeps agent_unreachable as the reason for an agent’s own checks, not a dependency', async () => {
      const r = new Rounds();
      round(r, { web: 'OK' });
      r.keep(r.engine.agentUnreachable({ agentId: 'a1' }));
      assert.deepEqual(r.engine.suppressedBy(check('web')), [{ type: 'agent_unreachable', agentId: 'a1' }]);
    });

    it('finds a cycle and names it in order, the implied check → agent edges included', () => {
      const edges: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'] };
      assert.deepEqual(
        findCycle(['d', 'a'], (n) => edges[n] ?? []),
        ['a', 'b', 'c', 'a'],
      );
      assert.equal(
        findCycle(['x'], (n) => ({ x: ['y'], y: [] })[n] ?? []),
        null,
      );
      assert.deepEqual(
        findCycle(['agent:p'], (n) => ({ 'agent:p': ['check:c'], 'check:c': ['agent:p'] })[n] ?? []),
        ['agent:p', 'check:c', 'agent:p'],
      );
    });
  });
});
