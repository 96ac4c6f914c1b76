/**
 * Several collectors on one PostgreSQL share the work (docs/scaling.md, "High availability").
 * The rest of the collector asks this one question-answerer who does what; on SQLite there is
 * one collector, which does everything ({@link SOLO}).
 *
 * - Agents: each agent is polled by the one collector that holds its lease; the lease's fencing
 *   epoch goes with every write of that agent's results, and a write whose epoch is no longer
 *   the lease's is refused (the agent keeps the results and the new holder fetches them).
 * - Leader: one collector at a time runs the work there must be one of — the alert engine's
 *   inputs and timers, escalation, forecasts, roll-ups and retention.
 */
export interface Cluster {
  /** This collector's id: stable while the process runs (a row of `collectors` on PostgreSQL). */
  readonly collectorId: string;
  /** Whether other collectors may share the database (PostgreSQL): then leases are real. */
  readonly shared: boolean;
  /** True while this collector holds the leader lease. */
  isLeader(): boolean;
  /** Called with the new value whenever this collector gains or loses the leader lease. */
  onLeaderChange(listener: (leader: boolean) => void): void;
  /** The fencing epoch of this collector's lease on `agentId`, or null when it does not hold one. */
  leaseOf(agentId: string): number | null;
  /** Called after the agents this collector holds changed (gained, lost, or a new epoch); SOLO's never change. */
  onLeasesChange?(listener: () => void): void;
  /**
   * The name of the collector that polls `agentId` (holds its lease), as this collector's last
   * renewal read it; null when none does or this one's own leases have lapsed (it cannot tell).
   * Absent on SOLO: one collector polls everything.
   */
  pollerOf?(agentId: string): string | null;
  /** Every collector that shared the database in the last hour, with what it holds now (the settings page, the API); absent on SOLO. */
  members?(): Promise<CollectorMember[]>;
}

/** One collector sharing the database, as its heartbeat row and the leases say. */
export interface CollectorMember {
  id: string;
  name: string;
  startedAt: number;
  heartbeatAt: number;
  /** Its heartbeat is within the lease ttl: the others count it in. */
  live: boolean;
  /** Agents whose lease it holds now. */
  agents: number;
  leader: boolean;
  /** The collector answering. */
  self: boolean;
}

/** Nest token for the {@link Cluster}. */
export const CLUSTER = Symbol('CLUSTER');

/** One collector on its own database: the leader, holding every agent at epoch 0. */
export const SOLO: Cluster = {
  collectorId: 'solo',
  shared: false,
  isLeader: () => true,
  onLeaderChange: () => {},
  leaseOf: () => 0,
};
