import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromJSON, type Options, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { embeddedFile } from './embedded.js';

/** Where the wire contract lives at run time (proto/ at the package root). */
export function agentProtoPath(): string {
  // Compiled to dist/libs/common/src/agent-proto.js: the package root is four levels up.
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', '..', '..', 'proto', 'rounds', 'agent', 'v1', 'agent.proto');
}

/**
 * The agent service's definition for gRPC, parsed from agent.proto's text: the copy the
 * single-file build embeds, else the file in proto/. One path for both, so every run from the
 * package exercises what the single file does.
 */
export function agentProtoDefinition(): PackageDefinition {
  return agentProtoDefinitionFromText(embeddedFile('agent.proto') ?? readFileSync(agentProtoPath(), 'utf8'));
}

/** What proto-loader's `loadSync(agentProtoPath(), AGENT_PROTO_LOADER)` gives, from the text alone. */
export function agentProtoDefinitionFromText(text: string): PackageDefinition {
  const parsed = protobuf.parse(text, { keepCase: AGENT_PROTO_LOADER.keepCase ?? false });
  const imports = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
  if (imports.length > 0) {
    // The single-file build embeds this one file; an import would have nothing to resolve against.
    throw new Error(`agent.proto imports ${imports.join(', ')}: embed those too (scripts/build-agent.mjs) and resolve them here`);
  }
  return fromJSON(parsed.root.toJSON(), AGENT_PROTO_LOADER);
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
