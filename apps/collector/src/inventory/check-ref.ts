import { ConflictError, NotFoundError } from '../shared/errors.js';

interface NamedCheck {
  id: string;
  name: string;
  agentId: string;
}
interface NamedAgent {
  id: string;
  name: string;
}

/**
 * A check as a person names it — its id, `agent/check name` (the agent by id or name), or its
 * name alone when only one check has it. Not found, or an ambiguous name, is an error that says
 * what to write instead. One reading for the API's paths (read model) and the CLI (database).
 */
export function resolveCheckRef<C extends NamedCheck>(ref: string, checks: readonly C[], agents: readonly NamedAgent[]): C {
  const byId = checks.find((c) => c.id === ref);
  if (byId) return byId;
  const nameOf = (agentId: string) => agents.find((a) => a.id === agentId)?.name ?? agentId;
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const agentRef = ref.slice(0, slash);
    const name = ref.slice(slash + 1);
    const agent = agents.find((a) => a.id === agentRef) ?? agents.find((a) => a.name === agentRef);
    if (!agent) throw new NotFoundError(`no agent with id or name "${agentRef}" — GET /api/v1/agents lists them`);
    const found = checks.find((c) => c.agentId === agent.id && c.name === name);
    if (!found) throw new NotFoundError(`agent "${agent.name}" has no check named "${name}" — GET /api/v1/checks?agent=${agent.name} lists its checks`);
    return found;
  }
  const named = checks.filter((c) => c.name === ref);
  if (named.length === 1) return named[0]!;
  if (named.length === 0) throw new NotFoundError(`no check with id or name "${ref}" — GET /api/v1/checks lists them`);
  const on = named.map((c) => nameOf(c.agentId)).sort();
  throw new ConflictError(`${named.length} checks are named "${ref}" (on ${on.join(', ')}): name one as <agent>/${ref}, or by its id`);
}
