import type { Cluster } from './cluster.js';

/**
 * Runs work there must be one of (escalation, forecasts, history upkeep) while this collector is
 * the leader: `start` now if it is, and again whenever it becomes it; `stop` whenever it stops
 * being it. SOLO is the leader from the start and never changes.
 */
export function followLeader(cluster: Cluster, start: () => void, stop: () => unknown): void {
  if (cluster.isLeader()) start();
  cluster.onLeaderChange((leader) => {
    if (leader) start();
    else void stop();
  });
}
