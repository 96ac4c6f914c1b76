import type { ServiceDefinition } from '@grpc/grpc-js';
import { AgentServiceService } from './generated/rounds/agent/v1/agent.js';

export const AGENT_PROTO_PACKAGE = 'rounds.agent.v1';
export const AGENT_SERVICE_NAME = 'AgentService';

/** Metadata key carrying `Bearer <token>` on every call. */
export const AUTH_METADATA_KEY = 'authorization';

/**
 * The package definition the agent serves: AgentService with the codecs ts-proto generates from
 * agent.proto (`npm run proto:gen`; CI fails when they drift), which the collector's client uses
 * too. Methods are keyed by their name in the contract (`Collect`), as Nest matches handlers, and
 * keep the generated camelCase name as `originalName`, as proto-loader does.
 *
 * The agent used to parse agent.proto at start and (de)serialise through protobufjs' reflection.
 * The generated encoder makes about a sixth of the garbage for a Collect answer of 750 results
 * (0.8 instead of 5 MiB: reflection copies the answer into message objects, keeps an object per
 * field written and converts each uint64 through a Long), which at 1,000 checks was half of what
 * the agent's young generation promoted to its old one; and protobufjs, proto-loader and the
 * parsed contract no longer stay in the heap (about 2.6 MiB). agent-service.spec.ts holds the
 * generated codecs to what proto-loader makes of agent.proto.
 */
export function agentServiceDefinition(): Record<string, ServiceDefinition> {
  const methods: Record<string, ServiceDefinition[string]> = {};
  for (const [originalName, method] of Object.entries(AgentServiceService)) {
    methods[method.path.slice(method.path.lastIndexOf('/') + 1)] = { ...method, originalName } as ServiceDefinition[string];
  }
  return { [`${AGENT_PROTO_PACKAGE}.${AGENT_SERVICE_NAME}`]: methods };
}
