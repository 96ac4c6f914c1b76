import { RESULT_LIMITS } from '../../common/src/limits.js'; // not #rounds/common: see runner.ts
import { METRIC_UNITS, type Metric, type MetricDeclaration } from './plugin.js';

/**
 * Labels the collector puts on every exported plugin sample itself (`status` on the check
 * families beside them): a plugin that declared one would clash with it.
 */
export const RESERVED_METRIC_LABELS = ['agent', 'check', 'plugin', 'status'] as const;

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
/** Prometheus reads these suffixes on a gauge as a counter or a histogram part. */
const COUNTER_LIKE = /_(total|count|sum|bucket)$/;

const quoted = (value: unknown) => JSON.stringify(value) ?? String(value);
const unitList = METRIC_UNITS.map((u) => (u === '' ? '"" (unitless)' : u)).join(', ');

/**
 * The first rule a plugin's metric declarations break, as the text that follows
 * "refused: ", or undefined when they keep every rule. Takes `unknown` because it checks
 * what a custom plugin exported and what an agent described over the wire alike.
 */
export function declarationProblem(metrics: unknown): string | undefined {
  if (!Array.isArray(metrics)) return 'metrics is missing — declare every metric run() reports (an empty list when it reports none)';
  const names = new Set<string>();
  for (const [i, entry] of metrics.entries()) {
    if (typeof entry !== 'object' || entry === null) return `metrics[${i}] is not a declaration ({ name, unit, help, labels? })`;
    const d = entry as Partial<Record<keyof MetricDeclaration, unknown>>;
    if (typeof d.name !== 'string' || !SNAKE_CASE.test(d.name)) return `metric name ${quoted(d.name)} must be snake_case (e.g. "queue_depth")`;
    if (d.name.length > RESULT_LIMITS.metricNameChars) return `metric name "${d.name}" is longer than ${RESULT_LIMITS.metricNameChars} characters`;
    const metric = `metric "${d.name}"`;
    if (names.has(d.name)) return `${metric} is declared twice`;
    names.add(d.name);
    if (typeof d.unit !== 'string' || !(METRIC_UNITS as readonly string[]).includes(d.unit)) {
      return `${metric} has unit ${quoted(d.unit)}, not one of: ${unitList}`;
    }
    if ((d.unit === '' || d.unit === 'count') && COUNTER_LIKE.test(d.name)) {
      return `${metric} ends in ${d.name.match(COUNTER_LIKE)![0]}, which Prometheus reads as a counter or histogram part — rename it, or declare unit "counter" for a count that only goes up`;
    }
    if (typeof d.help !== 'string' || d.help.trim() === '') return `${metric} has no help (one sentence saying what it measures)`;
    if (d.labels === undefined) continue;
    if (!Array.isArray(d.labels)) return `${metric} labels must be a list of label names`;
    const labels = new Set<string>();
    for (const label of d.labels) {
      if (typeof label !== 'string' || !SNAKE_CASE.test(label)) return `${metric} label ${quoted(label)} must be snake_case (e.g. "queue")`;
      if ((RESERVED_METRIC_LABELS as readonly string[]).includes(label)) {
        return `${metric} label "${label}" is reserved: the collector adds ${RESERVED_METRIC_LABELS.join(', ')} itself — rename it`;
      }
      if (labels.has(label)) return `${metric} declares label "${label}" twice`;
      labels.add(label);
    }
  }
  return undefined;
}

/**
 * Every label name the given plugins declare, sorted: the collector's label allow-list. Takes
 * registered plugins and wire `PluginDescription`s alike (both have `metrics`).
 */
export function metricLabelNames(plugins: Iterable<{ readonly metrics: readonly { readonly labels?: readonly string[] }[] }>): string[] {
  const names = new Set<string>();
  for (const plugin of plugins) for (const m of plugin.metrics) for (const label of m.labels ?? []) names.add(label);
  return [...names].sort();
}

/** A metric name as it is quoted in problems: the names a broken plugin reports may be huge. */
function shown(name: string): string {
  return quoted(name.length > 64 ? `${name.slice(0, 63)}…` : name);
}

/** A plugin's declarations indexed by name, to check reported metrics against them. */
export class DeclaredMetrics {
  private readonly byName = new Map<string, { unit: string; labels: ReadonlySet<string> }>();

  constructor(declarations: readonly MetricDeclaration[]) {
    for (const d of declarations) this.byName.set(d.name, { unit: d.unit, labels: new Set(d.labels ?? []) });
  }

  /** Why `metric` is not as declared (`"x" is not declared`, …), or undefined when it is. */
  problem(metric: Metric): string | undefined {
    const declared = this.byName.get(metric.name);
    if (!declared) return `${shown(metric.name)} is not declared`;
    if (metric.unit !== declared.unit) return `${shown(metric.name)} has unit ${quoted(metric.unit)}, declared ${quoted(declared.unit)}`;
    for (const label of Object.keys(metric.labels ?? {})) {
      if (!declared.labels.has(label)) return `${shown(metric.name)} carries label ${shown(label)}, not declared`;
    }
    return undefined;
  }
}

/** How a plugin metric becomes a Prometheus family. */
export interface PluginFamilySpec {
  name: string;
  type: 'gauge' | 'counter';
  unit?: string;
  /** Factor from the plugin's unit to the Prometheus base unit (days → seconds, percent → ratio). */
  scale: number;
}

/** The collector's own families; a plugin metric mapped onto one of these names is left out. */
const RESERVED_PREFIXES = ['rounds_agent_', 'rounds_check_', 'rounds_collector_'];

/**
 * `rounds_<plugin>_<metric>` with the plugin's `-` as `_`, in base units with the unit as
 * suffix: seconds, bytes, ratio (percent ÷ 100), seconds (days × 86400), bytes_per_second;
 * `counter` becomes a `_total` counter; `count` and unitless values are gauges as named.
 * Undefined when the names cannot make a valid, unreserved metric name. Lives beside the
 * declarations so that the README tables name what the collector exports.
 */
export function pluginFamily(plugin: string, metric: string, unit: string): PluginFamilySpec | undefined {
  if (!/^[a-z][a-z0-9-]*$/.test(plugin) || !/^[a-z][a-z0-9_]*$/.test(metric)) return undefined;
  if (!(METRIC_UNITS as readonly string[]).includes(unit)) return undefined;
  const base = `rounds_${plugin.replace(/-/g, '_')}_${metric}`;
  const suffixed = (name: string, suffix: string) => (name.endsWith(`_${suffix}`) ? name : `${name}_${suffix}`);
  let spec: PluginFamilySpec;
  switch (unit) {
    case 'seconds':
    case 'bytes':
    case 'ratio':
    case 'bytes_per_second':
      spec = { name: suffixed(base, unit), type: 'gauge', scale: 1, ...(unit === 'bytes_per_second' ? {} : { unit }) };
      break;
    case 'percent':
      spec = { name: suffixed(base.replace(/_percent$/, ''), 'ratio'), type: 'gauge', unit: 'ratio', scale: 0.01 };
      break;
    case 'days':
      spec = { name: suffixed(base.replace(/_days$/, ''), 'seconds'), type: 'gauge', unit: 'seconds', scale: 86_400 };
      break;
    case 'counter':
      spec = { name: suffixed(base, 'total'), type: 'counter', scale: 1 };
      break;
    default:
      if (COUNTER_LIKE.test(base)) return undefined;
      spec = { name: base, type: 'gauge', scale: 1 };
  }
  if (RESERVED_PREFIXES.some((p) => spec.name.startsWith(p))) return undefined;
  return spec;
}
