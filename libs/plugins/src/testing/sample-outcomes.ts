import type { CheckOutcome, Metric, Plugin } from '../plugin.js';
import { PluginRegistry } from '../registry.js';

/**
 * An outcome with one metric per declaration of `plugin`, each with every declared label set
 * to a sample value (`sample-<label>`) and a distinct value, as the runner passes it. From
 * these the collector's exposition fixtures are derived, so a new plugin or metric shows up
 * in them without anyone writing a sample by hand.
 */
export function sampleOutcome(plugin: Pick<Plugin, 'name' | 'metrics'>): CheckOutcome {
  const metrics = plugin.metrics.map((d, i): Metric => {
    const metric: Metric = { name: d.name, value: i + 1, unit: d.unit };
    if (d.labels?.length) metric.labels = Object.fromEntries(d.labels.map((label) => [label, `sample-${label}`]));
    return metric;
  });
  return { status: 'OK', reason: 'ok', summary: `sample outcome of ${plugin.name}`, metrics };
}

/** {@link sampleOutcome} of every plugin in `registry` (the built-ins by default), by plugin name, in name order. */
export function sampleOutcomes(registry = PluginRegistry.withBuiltins()): Map<string, CheckOutcome> {
  return new Map(registry.list().map(({ plugin }) => [plugin.name, sampleOutcome(plugin)]));
}
