import { Script, constants } from 'node:vm';
import { isSingleFileBuild } from '../../../common/src/embedded.js'; // not #rounds/common: the worker imports this file, see runner.ts

/**
 * The plugins an ES module exports: `default` or `plugin`, or several as `plugins`. One rule,
 * read by the agent's loader (to register them) and by a plugin's worker (to find the one it runs).
 */
export function pluginsOf(mod: { default?: unknown; plugin?: unknown; plugins?: unknown }): unknown[] {
  return Array.isArray(mod.plugins) ? mod.plugins : [mod.default ?? mod.plugin];
}

/**
 * Imports a plugin's module file into the agent's thread (for its schema and declarations; it
 * runs in workers). The single-file agent's main script is a CommonJS bundle whose `import()`
 * has no loader behind it once the build embeds a code cache (Linux: ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING);
 * a script compiled here with Node's default loader imports the file, and the plugin's own
 * imports (zod, the SDK from its node_modules), as the npm package's agent does. Node prints one
 * ExperimentalWarning for it, once.
 */
export function importPluginModule(moduleUrl: string): Promise<Record<string, unknown>> {
  if (!isSingleFileBuild()) return import(moduleUrl) as Promise<Record<string, unknown>>;
  const script = new Script(`import(${JSON.stringify(moduleUrl)})`, { importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  return script.runInThisContext() as Promise<Record<string, unknown>>;
}
