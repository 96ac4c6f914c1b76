import { fingerprintOf, type Condition, type EngineStep } from './alerts.js';
import { dropCheck } from './engine-checks.js';
import { applyObservation, endAlerts } from './engine-lifecycle.js';
import type { AgentStateData, EngineStore } from './engine-state.js';

export const AGENT_ALERT = 'AgentUnreachable';

export interface AgentEvent {
  agentId: string;
  agentName?: string;
  /** Defaults to the clock's now. */
  at?: number;
  /** Why it is unreachable (the last poll error). */
  error?: string;
}

export function agentAlertFingerprint(agentId: string): string {
  return fingerprintOf(['agent', agentId]);
}

/**
 * Records the poller's verdict on an agent and raises or ends its AgentUnreachable alert.
 * `since` moves only on a change, so a repeated verdict does not restart the episode.
 */
export function setReachable(store: EngineStore, event: AgentEvent, reachable: boolean, step: EngineStep): void {
  const at = event.at ?? store.clock.now();
  const agent = store.agent(event.agentId, event.agentName);
  if (agent.reachable !== reachable || agent.since === null) {
    agent.reachable = reachable;
    agent.since = at;
  }
  agent.error = reachable ? null : (event.error ?? null);
  observeAgent(store, agent, reachable ? 'inactive' : 'firing', at, step);
}

/** The agent was removed: its checks are dropped, its alerts resolve and its state is forgotten. */
export function removeAgent(store: EngineStore, agentId: string, step: EngineStep): void {
  for (const c of [...store.checks.values()]) if (c.agentId === agentId) dropCheck(store, c.checkId, step);
  // A check that moved to another agent leaves its rule alerts here (their fingerprints hold the agent).
  endAlerts(store, (record) => record.source.agentId === agentId && record.source.type !== 'agent', 'agent removed', step);
  const agent = store.agents.get(agentId);
  if (agent) {
    observeAgent(store, agent, 'inactive', store.clock.now(), step, 'agent removed');
    store.agents.delete(agentId);
  }
}

function observeAgent(store: EngineStore, agent: AgentStateData, condition: Condition, at: number, step: EngineStep, detail?: string): void {
  const name = agent.name ?? agent.agentId;
  applyObservation(
    store,
    {
      fingerprint: agentAlertFingerprint(agent.agentId),
      name: AGENT_ALERT,
      source: { type: 'agent', agentId: agent.agentId },
      labels: { alertname: AGENT_ALERT, agent: name, agent_id: agent.agentId, severity: 'critical' },
      severity: 'critical',
      summary: detail ?? (condition === 'inactive' ? `agent ${name} answers again` : `agent ${name} is unreachable${agent.error ? `: ${agent.error}` : ''}`),
      reason: 'unreachable',
      value: null,
      status: null,
      repeatMs: store.repeatMs,
    },
    condition,
    at,
    step,
  );
}
