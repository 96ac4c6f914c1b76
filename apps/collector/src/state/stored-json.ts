import { declarationProblem, type MetricDeclaration } from '#rounds/plugins';
import type { StoredMetric } from '../polling/result-writer.js';

/**
 * The JSON columns the read model parses once when they change (an agent's health and Describe
 * answer, a check's latest metrics), so that no reader parses them again. Each parser takes what
 * an agent of another version, or a hostile one, may have sent: what does not fit is left out.
 */

/** What the agent reported about itself in its last Collect answer (AgentHealth on the wire). */
export interface AgentHealthView {
  rssBytes?: number;
  cpuSeconds?: number;
  spoolDepth?: number;
  spoolBytes?: number;
  pluginErrors?: number;
  uptimeSeconds?: number;
}

/** A plugin's metric declarations by metric name. */
export type Declarations = ReadonlyMap<string, MetricDeclaration>;

const HEALTH_FIELDS = ['rssBytes', 'cpuSeconds', 'spoolDepth', 'spoolBytes', 'pluginErrors', 'uptimeSeconds'] as const;

export function parseMetrics(json: string): StoredMetric[] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return (value as unknown[]).filter((m): m is StoredMetric => {
      if (typeof m !== 'object' || m === null) return false;
      const { name, value: v, unit } = m as Record<string, unknown>;
      return typeof name === 'string' && typeof v === 'number' && typeof unit === 'string';
    });
  } catch {
    return [];
  }
}

/** An agent's Describe answer as the read model keeps it. */
export interface ParsedDescription {
  /**
   * The answer without the plugins' config schemas and metric declarations: what the API shows
   * and the checks service validates plugin names with. The whole answer (tens of KiB per agent)
   * stays in the database for whoever needs a schema; 2,000 agents' worth in memory was ~100 MiB.
   */
  compactJson: string | null;
  /** The metric declarations by plugin, identical ones shared between agents. */
  declared: ReadonlyMap<string, Declarations>;
  /**
   * The config schemas of the plugins whose configs hold secrets (`x-secret` somewhere): what a
   * custom plugin's check is redacted by. Only these are kept — a few small schemas, not all.
   */
  secretSchemas: ReadonlyMap<string, unknown>;
}

/**
 * Parses a Describe answer once. A plugin whose declarations break the rules (an agent of another
 * version, or a hostile one) gets none: its metrics are then left out rather than exported on
 * trust. `interned` holds the declaration maps already made, keyed by plugin and declarations.
 */
export function parseDescription(descriptionJson: string | null, interned: Map<string, Declarations>): ParsedDescription {
  const declared = new Map<string, Declarations>();
  const secretSchemas = new Map<string, unknown>();
  if (!descriptionJson) return { compactJson: null, declared, secretSchemas };
  try {
    const description = JSON.parse(descriptionJson) as {
      plugins?: ({ name?: unknown; metrics?: unknown; configSchemaJson?: unknown } & Record<string, unknown>)[];
    };
    const plugins = Array.isArray(description.plugins) ? description.plugins : [];
    for (const plugin of plugins) {
      if (typeof plugin.name === 'string' && typeof plugin.configSchemaJson === 'string' && plugin.configSchemaJson.includes('"x-secret"')) {
        const schema = parseJsonOrUndefined(plugin.configSchemaJson);
        if (schema !== undefined) secretSchemas.set(plugin.name, schema);
      }
      if (typeof plugin.name !== 'string' || !Array.isArray(plugin.metrics) || plugin.metrics.length === 0) continue;
      const metrics = plugin.metrics as MetricDeclaration[];
      const key = `${plugin.name}\u0000${JSON.stringify(metrics)}`;
      let map = interned.get(key);
      if (!map) {
        map = declarationProblem(metrics) === undefined ? new Map(metrics.map((d) => [d.name, d])) : new Map();
        interned.set(key, map);
      }
      declared.set(plugin.name, map);
    }
    const compact = { ...description, plugins: plugins.map(({ configSchemaJson: _schema, metrics: _metrics, ...rest }) => rest) };
    return { compactJson: JSON.stringify(compact), declared, secretSchemas };
  } catch {
    // An unreadable description declares nothing; the built-in declarations still apply.
    return { compactJson: null, declared, secretSchemas };
  }
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function parseHealth(json: string | null): AgentHealthView | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null) return null;
    const health: AgentHealthView = {};
    for (const field of HEALTH_FIELDS) {
      const v = (value as Record<string, unknown>)[field];
      if (typeof v === 'number' && Number.isFinite(v)) health[field] = v;
    }
    return health;
  } catch {
    return null;
  }
}
