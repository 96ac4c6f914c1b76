import type { z } from 'zod';
import type { CheckStatus, Reason } from '#rounds/common';

export type { CheckStatus, Reason };

/**
 * Units of metric values: base units only, so the collector and Prometheus never
 * convert. `count` is a gauge of things, `counter` a monotonic count, '' unitless
 * (a status code, an exit code).
 */
export const METRIC_UNITS = ['seconds', 'bytes', 'ratio', 'percent', 'days', 'bytes_per_second', 'count', 'counter', ''] as const;
export type MetricUnit = (typeof METRIC_UNITS)[number];

/**
 * One metric a plugin may report, declared in {@link Plugin.metrics}. The declarations are
 * the one list of what a plugin exports: the runner drops (and reports) a metric that is not
 * declared, carries another unit or an undeclared label; the collector's label allow-list,
 * the metrics table in the plugin's README and the exposition fixtures are derived from them.
 */
export interface MetricDeclaration {
  /** snake_case, as in {@link Metric.name}; unique within the plugin. */
  readonly name: string;
  /** The unit every reported value of this metric has. */
  readonly unit: MetricUnit;
  /** One sentence for people: what the value is and when it is reported. Becomes the `# HELP` text. */
  readonly help: string;
  /**
   * Label names the metric may carry (each value bounded by the monitored thing: cores, mounts,
   * modalities, …). Snake_case identifiers; `agent`, `check`, `plugin` and `status` are the
   * collector's own. Left out: the metric carries no labels.
   */
  readonly labels?: readonly string[];
}

/** One measured value; `name` in snake_case, value in the base unit named by `unit`. */
export interface Metric {
  name: string;
  value: number;
  unit: MetricUnit;
  labels?: Record<string, string>;
}

/**
 * What a check found. A target that is down is an outcome (CRITICAL with a reason),
 * not an exception: exceptions are plugin bugs and the runner reports them as
 * UNKNOWN/plugin_error.
 */
export interface CheckOutcome {
  status: CheckStatus;
  reason: Reason;
  /** One line for people: what was seen, with figures. */
  summary: string;
  metrics: Metric[];
}

export interface PluginLogger {
  debug(message: string): void;
  warn(message: string): void;
}

/** What the runner hands a plugin for one run. */
export interface CheckContext {
  /**
   * Aborted at the check's deadline. Pass it to every socket, HTTP, SMB or DICOM call;
   * plugins never set timers of their own — the runner owns time.
   */
  signal: AbortSignal;
  /** Epoch ms by which the run must end. */
  deadline: number;
  /** Current time in epoch ms (injectable in tests). */
  now(): number;
  /**
   * Waits `ms` by the runner's clock, or until `signal` fires if that comes first; never
   * rejects. The one way a plugin paces repeated attempts (polling until something appears)
   * without a timer of its own; check `signal.aborted` after it.
   */
  sleep(ms: number): Promise<void>;
  log: PluginLogger;
}

/** What a plugin's name must be: kebab-case ("pacs-queue"), the form a check's `plugin` field takes. */
export const PLUGIN_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * A check plugin. Build one with {@link definePlugin} so the config type follows
 * from the schema.
 */
export interface Plugin<S extends z.ZodType = z.ZodType> {
  /** kebab-case ({@link PLUGIN_NAME}), unique in a registry; what a check's `plugin` field names. */
  readonly name: string;
  /** semver of the plugin. */
  readonly version: string;
  /**
   * The plugin API major version (`PLUGIN_API_VERSION`, api-version.ts) the plugin was written for. Plugins
   * outside this repository declare it (the scaffold writes it) so that an agent can refuse one
   * built for a contract it does not speak; the built-ins follow the contract they ship with.
   */
  readonly apiVersion?: number;
  /** One sentence for the UI and `Describe`. */
  readonly description: string;
  /**
   * The single source of truth for the config: its parsed type is what `run` gets,
   * it validates with field-named errors (unknown keys rejected — use `z.strictObject`),
   * carries defaults, marks secrets with {@link secret}, and becomes the JSON Schema
   * sent to the collector.
   */
  readonly configSchema: S;
  /**
   * Every metric `run` may report ({@link MetricDeclaration}); an empty list when it reports
   * none. Checked by the registry when the plugin is registered.
   */
  readonly metrics: readonly MetricDeclaration[];
  /** Runs one check. Must honour `ctx.signal`; must not throw for a down target. */
  run(config: z.output<S>, ctx: CheckContext): Promise<CheckOutcome>;
}

/** Identity function that ties `run`'s config type to the schema. */
export function definePlugin<S extends z.ZodType>(plugin: Plugin<S>): Plugin<S> {
  return plugin;
}

/** Builds an outcome; keeps plugin code short and uniform. */
export function outcome(status: CheckStatus, reason: Reason, summary: string, metrics: Metric[] = []): CheckOutcome {
  return { status, reason, summary, metrics };
}
