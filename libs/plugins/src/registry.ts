import { PLUGIN_NAME, type MetricDeclaration, type Plugin } from './plugin.js';
import { PLUGIN_API_VERSION } from './api-version.js';
import type { IsolatedRunner } from './runner.js';
import { declarationProblem, metricLabelNames } from './metrics.js';
import { formatFieldErrors, toJsonSchema, validateWith, type Validation } from './schema.js';
import { httpPlugin } from './http/http.plugin.js';
import { tcpPlugin } from './tcp/tcp.plugin.js';
import { dicomEchoPlugin } from './dicom-echo/dicom-echo.plugin.js';
import { dicomWorklistPlugin } from './dicom-worklist/dicom-worklist.plugin.js';
import { dicomStorePlugin } from './dicom-store/dicom-store.plugin.js';
import { orthancPlugin } from './orthanc/orthanc.plugin.js';
import { hl7MllpPlugin } from './hl7-mllp/hl7-mllp.plugin.js';
import { dicomwebPlugin } from './dicomweb/dicomweb.plugin.js';
import { smbSharePlugin } from './smb-share/smb-share.plugin.js';
import { hostMetricsPlugin } from './host-metrics/host-metrics.plugin.js';
import { createNagiosPlugin, type NagiosCommands } from './nagios/nagios.plugin.js';

/** What the built-ins take from the agent's own config. */
export interface BuiltinOptions {
  /**
   * The agent's allow-list of Nagios commands. Left out where no allow-list is known
   * (the collector): nagios checks are then validated for shape only.
   */
  nagiosCommands?: NagiosCommands;
}

/**
 * The built-in plugins: the one list. Valid plugin names, UI dropdowns and docs
 * tables are derived from the registry built from it, never kept by hand elsewhere.
 */
export function builtinPlugins(options: BuiltinOptions = {}): Plugin[] {
  return [
    httpPlugin,
    tcpPlugin,
    dicomEchoPlugin,
    dicomWorklistPlugin,
    dicomStorePlugin,
    hl7MllpPlugin,
    orthancPlugin,
    dicomwebPlugin,
    smbSharePlugin,
    hostMetricsPlugin,
    createNagiosPlugin(options.nagiosCommands),
  ] as Plugin[];
}

const SEMVER = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;

export class PluginRejectedError extends Error {}

export interface RegisteredPlugin {
  plugin: Plugin;
  /** Where it came from, as `Describe` reports it: `builtin`, the file or folder path, or the npm package name. */
  source: string;
  /** JSON Schema of the config, computed once. */
  jsonSchema: Record<string, unknown>;
  /** Runs it away from the agent's thread; left out for the built-ins, which run in-process. */
  isolated?: IsolatedRunner;
}

/**
 * Holds the plugins an agent can run. It refuses a plugin that breaks the contract
 * (bad or duplicate name, missing schema or run, metric declarations that break a rule of
 * {@link declarationProblem}) with a message saying what to fix, so one broken custom
 * plugin never takes the others down.
 */
export class PluginRegistry {
  private readonly plugins = new Map<string, RegisteredPlugin>();

  static withBuiltins(options: BuiltinOptions = {}): PluginRegistry {
    const registry = new PluginRegistry();
    for (const plugin of builtinPlugins(options)) registry.register(plugin, 'builtin');
    return registry;
  }

  /**
   * Adds a plugin; throws {@link PluginRejectedError} naming the source and the problem.
   * `isolate` is asked for the plugin's out-of-thread runner once the plugin is accepted.
   */
  register(candidate: unknown, source: string, isolate?: (plugin: Plugin) => IsolatedRunner): RegisteredPlugin {
    const where = `plugin from ${source}`;
    if (typeof candidate !== 'object' || candidate === null) {
      throw new PluginRejectedError(`${where} refused: it does not export a plugin object (use definePlugin from libs/plugins)`);
    }
    const p = candidate as Partial<Plugin>;
    if (typeof p.name !== 'string' || !PLUGIN_NAME.test(p.name)) {
      throw new PluginRejectedError(`${where} refused: name ${JSON.stringify(p.name)} must be kebab-case (e.g. "pacs-queue")`);
    }
    const named = `plugin "${p.name}" from ${source}`;
    const existing = this.plugins.get(p.name);
    if (existing) {
      throw new PluginRejectedError(`${named} refused: the name is already taken by the plugin from ${existing.source} — rename one of them`);
    }
    if (typeof p.version !== 'string' || !SEMVER.test(p.version)) {
      throw new PluginRejectedError(`${named} refused: version ${JSON.stringify(p.version)} must be semver (e.g. "1.0.0")`);
    }
    // The built-ins follow the contract they ship with; a plugin from elsewhere says which one it was built for.
    if (source !== 'builtin' && p.apiVersion !== PLUGIN_API_VERSION) {
      const built = p.apiVersion === undefined ? 'has no apiVersion' : `is built for plugin API ${JSON.stringify(p.apiVersion)}`;
      throw new PluginRejectedError(
        `${named} refused: it ${built}, this agent runs plugin API ${PLUGIN_API_VERSION} — set apiVersion: ${PLUGIN_API_VERSION} and build it against @rounds/plugin-sdk ${PLUGIN_API_VERSION}.x`,
      );
    }
    if (typeof p.description !== 'string' || p.description.trim() === '') {
      throw new PluginRejectedError(`${named} refused: description is missing`);
    }
    const schema = p.configSchema;
    if (!schema || typeof (schema as { safeParse?: unknown }).safeParse !== 'function') {
      throw new PluginRejectedError(`${named} refused: configSchema is missing or is not a zod schema`);
    }
    if (typeof p.run !== 'function') {
      throw new PluginRejectedError(`${named} refused: run(config, ctx) is missing`);
    }
    const problem = declarationProblem(p.metrics);
    if (problem) throw new PluginRejectedError(`${named} refused: ${problem}`);
    let jsonSchema: Record<string, unknown>;
    try {
      jsonSchema = toJsonSchema(schema);
    } catch (e) {
      throw new PluginRejectedError(`${named} refused: its configSchema cannot be expressed as JSON Schema (${(e as Error).message})`);
    }
    const entry: RegisteredPlugin = { plugin: p as Plugin, source, jsonSchema };
    if (isolate) entry.isolated = isolate(entry.plugin);
    this.plugins.set(p.name, entry);
    return entry;
  }

  /** Stops the workers of the isolated plugins (at the agent's stop). */
  async close(): Promise<void> {
    await Promise.all(this.list().flatMap((entry) => (entry.isolated ? [entry.isolated.close()] : [])));
  }

  get(name: string): RegisteredPlugin | undefined {
    return this.plugins.get(name);
  }

  names(): string[] {
    return [...this.plugins.keys()].sort();
  }

  list(): RegisteredPlugin[] {
    return this.names().map((n) => this.plugins.get(n)!);
  }

  /** The metrics the named plugin declares; undefined for a plugin this registry does not have. */
  metricDeclarations(pluginName: string): readonly MetricDeclaration[] | undefined {
    return this.plugins.get(pluginName)?.plugin.metrics;
  }

  /** Every label name a plugin here declares, sorted (see {@link metricLabelNames}). */
  metricLabelNames(): string[] {
    return metricLabelNames(this.list().map((entry) => entry.plugin));
  }

  /** Validates a check's config for the named plugin, with field-named errors. */
  validate(pluginName: string, config: unknown): Validation<unknown> {
    const entry = this.plugins.get(pluginName);
    if (!entry) {
      return {
        ok: false,
        errors: [{ field: 'plugin', message: `unknown plugin "${pluginName}" (this agent has: ${this.names().join(', ')})` }],
      };
    }
    return validateWith(entry.plugin.configSchema, config);
  }

  /** Like {@link validate} but throws one readable error. */
  parseConfig(pluginName: string, config: unknown): unknown {
    const v = this.validate(pluginName, config);
    if (!v.ok) throw new Error(`invalid ${pluginName} config: ${formatFieldErrors(v.errors)}`);
    return v.value;
  }
}
