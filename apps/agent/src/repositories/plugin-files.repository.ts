import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isSingleFileBuild } from '#rounds/common';
import type { PluginRegistry } from '#rounds/plugins';

export interface LoadReport {
  loaded: string[];
  refused: string[];
}

/** The module a plugin folder or file points at: `<dir>/package.json` main, `<dir>/index.js`, or the file itself. */
function entryOf(path: string): string | undefined {
  const st = statSync(path);
  if (st.isFile()) return /\.(m?js)$/.test(path) ? path : undefined;
  if (!st.isDirectory()) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as { main?: string; exports?: unknown };
    if (typeof pkg.exports === 'string') return join(path, pkg.exports);
    return join(path, pkg.main ?? 'index.js');
  } catch {
    return join(path, 'index.js');
  }
}

/**
 * Loads custom plugins from a folder: each `.js`/`.mjs` file, or sub-folder (an npm
 * package or a folder with index.js), exporting a plugin as `default` or `plugin`,
 * or several as `plugins`. A plugin that fails to load or breaks the contract is
 * refused with a message naming it; the others keep working.
 */
export async function loadPluginDir(dir: string, registry: PluginRegistry, log: (level: 'log' | 'error', message: string) => void): Promise<LoadReport> {
  const report: LoadReport = { loaded: [], refused: [] };
  if (isSingleFileBuild()) {
    // Node 20's single executables cannot import() a file; a plugin's own imports (zod…) would not find the bundled ones either.
    report.refused.push(dir);
    log(
      'error',
      `plugin folder ${dir} is not loaded: the single-file agent runs built-in plugins only — run the agent from the npm package ` +
        `(\`npx rounds-agent start\`) to use custom plugins, or remove plugins.dir from the config`,
    );
    return report;
  }
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    log('error', `plugin folder ${dir} cannot be read (${(e as Error).message}) — only built-in plugins are available`);
    return report;
  }
  for (const name of names) {
    const path = join(dir, name);
    const entry = entryOf(path);
    if (!entry) continue;
    let candidates: unknown[];
    try {
      const mod = (await import(pathToFileURL(entry).href)) as { default?: unknown; plugin?: unknown; plugins?: unknown };
      candidates = Array.isArray(mod.plugins) ? mod.plugins : [mod.default ?? mod.plugin];
    } catch (e) {
      report.refused.push(path);
      log('error', `plugin from ${path} refused: it failed to load: ${(e as Error).message}`);
      continue;
    }
    for (const candidate of candidates) {
      try {
        const entryReg = registry.register(candidate, path);
        report.loaded.push(entryReg.plugin.name);
        log('log', `loaded plugin ${entryReg.plugin.name} ${entryReg.plugin.version} from ${path}`);
      } catch (e) {
        report.refused.push(path);
        log('error', (e as Error).message);
      }
    }
  }
  return report;
}
