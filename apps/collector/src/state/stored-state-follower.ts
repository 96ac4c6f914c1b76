import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import type { CollectorConfig } from '../config/env.js';
import { DueLoop } from '../shared/due-loop.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { storageFault } from '../storage/storage-fault.js';
import { CurrentState, POLLED_FIELDS, type AgentPatch } from './current-state.js';
import { StateRepository } from './state.repository.js';

/**
 * Keeps the read model current for the agents another collector polls (several collectors on one
 * database): each poll interval it reads their polled fields and their checks' states from the
 * database and takes in what is newer. The read model is fed by this collector's own poller and
 * writer; without this, pages, the API and /metrics on one collector showed every agent another
 * collector held as it was when this one started — stale within two intervals. On SQLite (one
 * collector, holding every agent) it never runs.
 */
@Injectable()
export class StoredStateFollower implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('CurrentState');
  private readonly loop: DueLoop;

  constructor(
    private readonly state: CurrentState,
    private readonly repository: StateRepository,
    @Inject(CLOCK) clock: Clock,
    @Inject(COLLECTOR_CONFIG) private readonly config: Pick<CollectorConfig, 'pollIntervalMs'>,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {
    this.loop = new DueLoop(clock, () => this.round());
  }

  onApplicationBootstrap(): void {
    if (this.cluster.shared) this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }

  /** One round: the loop calls it; specs call it directly. */
  async follow(): Promise<void> {
    const others = (ids: Iterable<string>) => [...ids].filter((id) => this.cluster.leaseOf(id) === null);
    const ids = others(this.state.agentIds());
    if (ids.length === 0) return;
    const stored = await this.repository.loadStored(ids, POLLED_FIELDS);
    // Asked again after the read: an agent this collector took over meanwhile is its poller's to report.
    const still = new Set(others(ids));
    for (const agent of stored.agents) {
      const record = this.state.agent(agent.id);
      if (!record || !still.has(agent.id)) continue;
      const patch: AgentPatch = {};
      for (const field of POLLED_FIELDS) if (record.agent[field] !== agent[field]) (patch as Record<string, unknown>)[field] = agent[field];
      if (Object.keys(patch).length > 0) this.state.agentPolled(agent.id, patch);
    }
    this.state.statesCommitted(
      stored.states.filter((s) => {
        const record = this.state.check(s.checkId);
        return record !== undefined && still.has(record.check.agentId) && (record.state?.lastResultAt ?? -Infinity) < (s.lastResultAt ?? -Infinity);
      }),
    );
  }

  private async round(): Promise<number> {
    try {
      await this.follow();
    } catch (e) {
      // A failing database is reported once per episode by StorageHealth, not every round.
      if (!storageFault(e)) this.log.error(`reading what other collectors stored failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return this.config.pollIntervalMs;
  }
}
