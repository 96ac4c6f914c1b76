import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { nagiosExitCode } from '#rounds/common';
import { PluginRegistry, formatFieldErrors, runRegistered } from '#rounds/plugins';
import { loadAgentConfig } from '../config/agent-config.js';
import { readAgentEnv } from '../config/env.js';
import { customPluginSources, loadCustomPlugins } from '../repositories/plugin-files.repository.js';

/**
 * Runs one plugin with a config file and prints what it sees. Returns the Nagios
 * exit code, so operators can try a config on site or call it from other tools.
 */
export async function runOnce(
  pluginName: string,
  configPath: string,
  timeoutMs: number,
  print: (line: string) => void,
  agentConfigPath?: string,
): Promise<number> {
  // The agent's config matters to plugins that depend on it (the nagios allow-list) and names the custom plugins, run as the agent runs them.
  const agentConfig = agentConfigPath ? loadAgentConfig(agentConfigPath, readAgentEnv({})) : undefined;
  const registry = PluginRegistry.withBuiltins({ nagiosCommands: agentConfig?.nagios.commands ?? {} });
  try {
    if (agentConfig) {
      await loadCustomPlugins(
        customPluginSources(agentConfig, readAgentEnv()),
        registry,
        (level, line) => level === 'error' && print(`plugin folder: ${line}`),
      );
    }
    return await runWith(registry, pluginName, configPath, timeoutMs, print);
  } finally {
    await registry.close();
  }
}

async function runWith(registry: PluginRegistry, pluginName: string, configPath: string, timeoutMs: number, print: (line: string) => void): Promise<number> {
  const entry = registry.get(pluginName);
  if (!entry) {
    print(`UNKNOWN: no plugin "${pluginName}" — this agent has: ${registry.names().join(', ')}`);
    return 3;
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(configPath, 'utf8'));
  } catch (e) {
    print(`UNKNOWN: cannot read ${configPath}: ${(e as Error).message}`);
    return 3;
  }
  const v = registry.validate(pluginName, raw ?? {});
  if (!v.ok) {
    print(`UNKNOWN: ${configPath} is not a valid ${pluginName} config: ${formatFieldErrors(v.errors)}`);
    return 3;
  }
  const report = await runRegistered(entry, v.value, { timeoutMs });
  const o = report.outcome;
  print(`${o.status} (${o.reason}) ${o.summary}`);
  print(`took ${report.durationMs} ms`);
  for (const m of o.metrics) {
    const labels = Object.entries(m.labels ?? {})
      .map(([k, val]) => `${k}="${val}"`)
      .join(',');
    print(`  ${m.name}${labels ? `{${labels}}` : ''} = ${m.value} ${m.unit}`);
  }
  return nagiosExitCode(o.status);
}
