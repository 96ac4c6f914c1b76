import type { EntityManager } from 'typeorm';
import { num } from '../storage/bulk-sql.js';

/** Under which lease a collector polled an agent: what its writes carry, and what they are checked against. */
export interface LeaseClaim {
  collector: string;
  epoch: number;
}

/** The lease row's name for an agent. */
export function agentLeaseName(agentId: string): string {
  return `agent:${agentId}`;
}

/**
 * A write under a lease that is no longer current: another collector took the agent over (or it
 * was released and taken) since this one polled it. The agent keeps the results; the new holder
 * fetches them.
 */
export class LeaseLostError extends Error {
  constructor(
    readonly agentId: string,
    readonly claim: LeaseClaim,
    readonly current: LeaseClaim | null,
  ) {
    super(
      `the lease on agent ${agentId} was lost: polled under epoch ${claim.epoch} of collector ${claim.collector}, ` +
        (current ? `the lease is now at epoch ${current.epoch} of collector ${current.collector}` : 'there is no lease on it now') +
        ' — the results were not stored; the agent keeps them for the lease holder',
    );
    this.name = 'LeaseLostError';
  }
}

/**
 * The current holder and epoch of each agent's lease, read FOR SHARE (PostgreSQL only: the one
 * dialect with leases) inside the caller's transaction, so a takeover commits before or after it,
 * never in between.
 */
export async function currentLeases(m: EntityManager, agentIds: readonly string[]): Promise<Map<string, LeaseClaim>> {
  if (agentIds.length === 0) return new Map();
  // In name order, as the renewal locks them (cluster.service.ts): else the two deadlock (bench: postgres).
  const rows: { name: string; holder: string; epoch: unknown }[] = await m.query(
    'SELECT name, holder, epoch FROM leases WHERE name = ANY($1) ORDER BY name FOR SHARE',
    [agentIds.map(agentLeaseName)],
  );
  const byName = new Map(rows.map((r) => [r.name, { collector: r.holder, epoch: num(r.epoch) }]));
  return new Map(agentIds.flatMap((id) => (byName.has(agentLeaseName(id)) ? [[id, byName.get(agentLeaseName(id))!] as const] : [])));
}

/** Null when `claim` is still the agent's lease; else the error to refuse the write with. */
export function fenced(agentId: string, claim: LeaseClaim, current: Map<string, LeaseClaim>): LeaseLostError | null {
  const now = current.get(agentId) ?? null;
  return now && now.collector === claim.collector && now.epoch === claim.epoch ? null : new LeaseLostError(agentId, claim, now);
}
