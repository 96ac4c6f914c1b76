import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Options } from '@grpc/proto-loader';

/** Where the wire contract lives at run time (proto/ at the package root). */
export function agentProtoPath(): string {
  // Compiled to dist/libs/common/src/agent-proto.js: the package root is four levels up.
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', '..', '..', 'proto', 'rounds', 'agent', 'v1', 'agent.proto');
}

export const AGENT_PROTO_PACKAGE = 'rounds.agent.v1';
export const AGENT_SERVICE_NAME = 'AgentService';

/** proto-loader options matching ts-proto's generated shapes (camelCase, numbers, defaults). */
export const AGENT_PROTO_LOADER: Options = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

/** Metadata key carrying `Bearer <token>` on every call. */
export const AUTH_METADATA_KEY = 'authorization';
