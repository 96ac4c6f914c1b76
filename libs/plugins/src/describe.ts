import type { PluginDescription } from '#rounds/common/wire';
import type { RegisteredPlugin } from './registry.js';

/**
 * A registered plugin as the agent's Describe lists it: identity, the JSON Schema of its
 * config and its metric declarations, with the same names as in the plugin contract.
 */
export function describePlugin(entry: RegisteredPlugin): PluginDescription {
  const { plugin } = entry;
  return {
    name: plugin.name,
    version: plugin.version,
    description: plugin.description,
    configSchemaJson: JSON.stringify(entry.jsonSchema),
    source: entry.source,
    metrics: plugin.metrics.map((m) => ({ name: m.name, unit: m.unit, help: m.help, labels: [...(m.labels ?? [])] })),
  };
}
