/**
 * The plugins an ES module exports: `default` or `plugin`, or several as `plugins`. One rule,
 * read by the agent's loader (to register them) and by a plugin's worker (to find the one it runs).
 */
export function pluginsOf(mod: { default?: unknown; plugin?: unknown; plugins?: unknown }): unknown[] {
  return Array.isArray(mod.plugins) ? mod.plugins : [mod.default ?? mod.plugin];
}
