import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster } from './cluster.js';
import { SOLO } from './cluster.js';
import { followLeader } from './follow-leader.js';

describe('followLeader', () => {
  it('starts the work at once on SOLO, which always leads', () => {
    const calls: string[] = [];
    followLeader(
      SOLO,
      () => calls.push('start'),
      () => calls.push('stop'),
    );
    assert.deepEqual(calls, ['start']);
  });

  it('starts it when leadership is gained and stops it when lost, not before', () => {
    let leader = false;
    const listeners: ((leader: boolean) => void)[] = [];
    const cluster: Cluster = {
      collectorId: 'b',
      shared: true,
      isLeader: () => leader,
      onLeaderChange: (l) => listeners.push(l),
      leaseOf: () => null,
    };
    const calls: string[] = [];
    followLeader(
      cluster,
      () => calls.push('start'),
      () => calls.push('stop'),
    );
    assert.deepEqual(calls, []);
    const change = (to: boolean) => {
      leader = to;
      for (const l of listeners) l(to);
    };
    change(true);
    change(false);
    change(true);
    assert.deepEqual(calls, ['start', 'stop', 'start']);
  });
});
