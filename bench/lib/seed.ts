import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AgentEntity, CheckEntity } from '../../apps/collector/src/storage/entities/index.js';
import { newAssignmentVersion } from '../../apps/collector/src/inventory/agents.repository.js';

export interface SeedAgent {
  name: string;
  host: string;
  port: number;
  token: string;
  fingerprint: string;
}

export interface SeededAgent extends SeedAgent {
  id: string;
  checkIds: string[];
}

/**
 * Agents and their checks inserted in bulk, in one transaction, into a migrated database —
 * the rows `agent add` and `check add` would write, without 20,000 round trips through
 * the API (enrolment itself is not what the suite measures).
 */
export async function seedAgents(
  ds: DataSource,
  agents: readonly SeedAgent[],
  checksPerAgent: number,
  check: (agentIndex: number, checkIndex: number) => { plugin: string; config: unknown; intervalMs: number },
): Promise<SeededAgent[]> {
  const now = Date.now();
  const seeded: SeededAgent[] = agents.map((a) => ({ ...a, id: randomUUID(), checkIds: Array.from({ length: checksPerAgent }, () => randomUUID()) }));
  const agentRows = seeded.map((a) => ({
    id: a.id,
    name: a.name,
    host: a.host,
    port: a.port,
    token: a.token,
    fingerprint: a.fingerprint,
    state: 'UNKNOWN' as const,
    assignmentVersion: newAssignmentVersion(),
    createdAt: now,
    updatedAt: now,
  }));
  const checkRows = seeded.flatMap((a, i) =>
    a.checkIds.map((id, j) => {
      const c = check(i, j);
      return {
        id,
        agentId: a.id,
        name: `check-${j}`,
        plugin: c.plugin,
        configJson: JSON.stringify(c.config),
        intervalMs: c.intervalMs,
        timeoutMs: 5000,
        enabled: true,
        createdAt: now,
        updatedAt: now,
      };
    }),
  );
  await ds.transaction(async (m) => {
    for (let i = 0; i < agentRows.length; i += 50) {
      await m
        .createQueryBuilder()
        .insert()
        .into(AgentEntity)
        .values(agentRows.slice(i, i + 50))
        .updateEntity(false)
        .execute();
    }
    for (let i = 0; i < checkRows.length; i += 80) {
      await m
        .createQueryBuilder()
        .insert()
        .into(CheckEntity)
        .values(checkRows.slice(i, i + 80))
        .updateEntity(false)
        .execute();
    }
  });
  return seeded;
}
