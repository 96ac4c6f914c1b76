import { Injectable } from '@nestjs/common';
import { CHECK_STATUSES } from '#rounds/common';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultsRepository } from '../polling/results.repository.js';
import type { StatusPageModel } from '../web/views/status.page.js';
import { ROUNDS_VERSION as COLLECTOR_VERSION } from '#rounds/common';

/** Agents and checks joined with their current state, for the status page and the dashboard API. */
@Injectable()
export class OverviewService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly checks: ChecksRepository,
    private readonly results: ResultsRepository,
  ) {}

  async snapshot(now = Date.now()): Promise<StatusPageModel> {
    const [agents, checks, states] = await Promise.all([this.agents.findAllLean(), this.checks.listSummaries(), this.results.stateFor()]);
    const stateOf = new Map(states.map((s) => [s.checkId, s]));
    const agentName = new Map(agents.map((a) => [a.id, a.name]));
    const checksPerAgent = new Map<string, number>();
    for (const c of checks) checksPerAgent.set(c.agentId, (checksPerAgent.get(c.agentId) ?? 0) + 1);
    return {
      version: COLLECTOR_VERSION,
      now,
      agents: agents.map((a) => ({
        id: a.id,
        name: a.name,
        address: `${a.host}:${a.port}`,
        state: a.state,
        lastSeenAt: a.lastSeenAt,
        lastError: a.lastError,
        checks: checksPerAgent.get(a.id) ?? 0,
      })),
      checks: checks.map((c) => {
        const s = stateOf.get(c.id);
        return {
          id: c.id,
          name: c.name,
          agent: agentName.get(c.agentId) ?? c.agentId,
          plugin: c.plugin,
          status: s && s.lastResultAt !== null ? CHECK_STATUSES[s.status]! : 'PENDING',
          summary: s?.summary ?? 'waiting for the first result',
          lastResultAt: s?.lastResultAt ?? null,
          enabled: c.enabled,
        };
      }),
    };
  }
}
