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
}

const LOG_LEVELS = ['error', 'warn', 'log', 'debug'] as const;

export function readAgentEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const level = env['ROUNDS_AGENT_LOG_LEVEL'] ?? 'log';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`ROUNDS_AGENT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  return Object.freeze({
    configPath: env['ROUNDS_AGENT_CONFIG'] || undefined,
    listen: env['ROUNDS_AGENT_LISTEN'] || undefined,
    token: env['ROUNDS_AGENT_TOKEN'] || undefined,
    logLevel: level as AgentEnv['logLevel'],
  });
}
