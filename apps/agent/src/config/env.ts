/**
 * The only place the agent reads process.env. Parsed once at start into a frozen object.
 */
export interface AgentEnv {
  /** Config file path when `--config` is not given. */
  readonly configPath?: string;
  /** Overrides `listen` from the config file (e.g. `0.0.0.0:7443`). */
  readonly listen?: string;
  /** Overrides the token hash in the config file with this clear token (containers, secrets managers). */
  readonly token?: string;
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug';
  /** Windows: the Application event log source to send errors to (the service's WinSW definition sets it). */
  readonly eventLogSource?: string;
  /** Windows' own folders, for `service install`: %ProgramData%, and %ProgramFiles% with %ProgramFiles(x86)%. */
  readonly windowsFolders?: { readonly programData: string; readonly programFiles: readonly string[] };
  /** Windows: %SystemRoot%, where the tools the agent runs (icacls, whoami) are taken from by full path. */
  readonly systemRoot?: string;
}

const LOG_LEVELS = ['error', 'warn', 'log', 'debug'] as const;
export const AGENT_HEAPS = ['small', 'node'] as const;
export type AgentHeap = (typeof AGENT_HEAPS)[number];

/**
 * ROUNDS_AGENT_HEAP — how V8 sizes the agent's heap (heap.ts): `small`, the default, or `node`
 * (V8's own sizing) — or undefined when it is not one of those. heap.ts reads it before anything
 * else loads, so it is not part of AgentEnv; readAgentEnv refuses a bad value with the others.
 */
export function agentHeapFromEnv(env: NodeJS.ProcessEnv = process.env): AgentHeap | undefined {
  const heap = env['ROUNDS_AGENT_HEAP'] || 'small';
  return (AGENT_HEAPS as readonly string[]).includes(heap) ? (heap as AgentHeap) : undefined;
}

export function readAgentEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const level = env['ROUNDS_AGENT_LOG_LEVEL'] ?? 'log';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`ROUNDS_AGENT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  if (!agentHeapFromEnv(env)) {
    throw new Error(
      `ROUNDS_AGENT_HEAP must be one of ${AGENT_HEAPS.join(', ')} (small: a young generation of 1 MiB semi-spaces and an old one collected at 30 % growth; node: V8's own sizing), got "${env['ROUNDS_AGENT_HEAP']}"`,
    );
  }
  return Object.freeze({
    configPath: env['ROUNDS_AGENT_CONFIG'] || undefined,
    listen: env['ROUNDS_AGENT_LISTEN'] || undefined,
    token: env['ROUNDS_AGENT_TOKEN'] || undefined,
    logLevel: level as AgentEnv['logLevel'],
    eventLogSource: env['ROUNDS_AGENT_EVENT_LOG'] || undefined,
    systemRoot: env['SystemRoot'] || undefined,
    windowsFolders: env['ProgramData']
      ? Object.freeze({
          programData: env['ProgramData'],
          programFiles: Object.freeze([env['ProgramFiles'], env['ProgramFiles(x86)']].filter((f): f is string => Boolean(f))),
        })
      : undefined,
  });
}
