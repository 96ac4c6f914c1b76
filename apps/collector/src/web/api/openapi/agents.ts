import { z } from 'zod';
import { AGENT_STATES } from '../../../storage/entities/agent.entity.js';
import { enrolAgentDto, listAgentsQuery, updateAgentDto } from '../../../inventory/agents.dto.js';
import type { ApiRoutes } from './routes.js';
import { epochMs, muteReason, tags, TOTAL_COUNT } from './shared.js';

/** inventory/agents.service.ts AgentView: an agent, never its token. */
export const agentView = z.strictObject({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  fingerprint: z.string(),
  tags,
  dependsOn: z.array(z.string()).meta({ description: 'parents as `check:<agent>/<check>` or `agent:<name>`: while one is down this one raises no new alert' }),
  state: z.enum(AGENT_STATES),
  lastSeenAt: epochMs.nullable(),
  lastError: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  ackSeq: z.number().int(),
  dropped: z.number().int(),
  checksInSync: z.boolean(),
  health: z.unknown().meta({ description: "the agent's last health report, as it sent it" }),
  agent: z
    .object({
      id: z.string(),
      version: z.string(),
      hostname: z.string(),
      os: z.string(),
      arch: z.string(),
      plugins: z.array(z.strictObject({ name: z.string(), version: z.string(), source: z.string() })),
    })
    .nullable()
    .meta({ description: 'what the agent said about itself when last described' }),
  versionSkew: z.strictObject({ older: z.enum(['agent', 'collector']), message: z.string() }).nullable(),
  polledBy: z
    .string()
    .nullable()
    .meta({ description: 'several collectors on one PostgreSQL: the name of the one polling this agent; null on a single collector or while none holds it' }),
  createdAt: epochMs,
});

const withWarning = agentView.extend({ warning: z.string().optional().meta({ description: 'set when the agent could not be reached now' }) });

export const AGENT_ID = { id: "the agent's id or name" };

export function agentRoutes(api: ApiRoutes): void {
  const agent = api.component('AgentView', agentView);
  const agentWithWarning = api.component('AgentViewWithWarning', withWarning);
  api.add({
    method: 'get',
    path: '/agents',
    role: 'viewer',
    summary: 'List agents',
    query: listAgentsQuery,
    ok: { status: 200, schema: z.array(agent), description: 'One page of agents, sorted.', headers: TOTAL_COUNT },
  });
  api.add({
    method: 'get',
    path: '/agents/:id',
    role: 'viewer',
    summary: 'One agent',
    params: AGENT_ID,
    ok: {
      status: 200,
      schema: api.component(
        'AgentViewSuppressed',
        agentView.extend({
          suppressedBy: z
            .array(muteReason)
            .meta({ description: 'what holds its new alerts back now: a parent that is down (its agent unreachable, for a check)' }),
        }),
      ),
      description: 'The agent.',
    },
  });
  api.add({
    method: 'post',
    path: '/agents',
    role: 'operator',
    summary: 'Enrol an agent',
    description: 'With the enrolment string `rounds-agent init` printed; registered even when it cannot be reached now (then with a `warning`).',
    body: enrolAgentDto,
    ok: { status: 201, schema: agentWithWarning, description: 'The agent registered.' },
    errors: [409],
  });
  api.add({
    method: 'patch',
    path: '/agents/:id',
    role: 'operator',
    summary: "Change an agent's tags",
    params: AGENT_ID,
    body: updateAgentDto,
    ok: { status: 200, schema: agent, description: 'The agent as changed.' },
  });
  api.add({
    method: 'post',
    path: '/agents/:id/rotate-token',
    role: 'operator',
    summary: "Rotate an agent's bearer token",
    description: 'The collector makes the new token and hands it to the agent; it is never shown.',
    params: AGENT_ID,
    ok: { status: 200, schema: agentWithWarning, description: 'The agent; `warning` when it has not used the new token yet.' },
    errors: [502],
  });
  api.add({
    method: 'delete',
    path: '/agents/:id',
    role: 'operator',
    summary: 'Remove an agent and its checks',
    params: AGENT_ID,
    ok: { status: 204, description: 'Removed.' },
  });
}
