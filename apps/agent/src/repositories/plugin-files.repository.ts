import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentConfig } from '../config/agent-config.js';
import type { AgentEnv } from '../config/env.js';
import { systemTools, windowsWritersProblem, type WindowsTools } from './plugin-writers.windows.js';
import {
  DEFAULT_ISOLATION_LIMITS,
  IsolatedPlugin,
  importPluginModule,
  pluginsOf,
  probePluginModule,
  type IsolationLimits,
  type PluginRegistry,
} from '#rounds/plugins';

export interface LoadReport {
  loaded: string[];
  refused: string[];
}

/** Where the agent's config says custom plugins are, and what each may use. */
export interface CustomPluginSources {
  /** A folder of plugin files and folders. */
  dir?: string;
  /** npm packages' names, looked up in node_modules from `packagesFrom` upwards. */
  packages: readonly string[];
  /** The config file's folder. */
  packagesFrom: string;
  limits: Readonly<Record<string, IsolationLimits>>;
  /** Refuse what others than the agent's user and the administrators can write (`plugins.checkWriters`). */
  checkWriters: boolean;
  /** On Windows, what reads the access lists (icacls); left out elsewhere, where the mode bits tell. */
  windows?: WindowsTools;
}

/** The custom plugin settings of the agent's config. */
export function customPluginSources(config: Pick<AgentConfig, 'path' | 'pluginDir' | 'plugins'>, env: Pick<AgentEnv, 'systemRoot'>): CustomPluginSources {
  return {
    dir: config.pluginDir,
    packages: config.plugins.packages,
    packagesFrom: dirname(config.path),
    limits: config.plugins.limits,
    checkWriters: config.plugins.checkWriters,
    windows: process.platform === 'win32' ? systemTools(env.systemRoot) : undefined,
  };
}

type Log = (level: 'log' | 'error', message: string) => void;

/** Files looked at in one plugin's tree before the check gives up: a plugin with more is refused, not half-checked. */
const MAX_CHECKED_FILES = 20_000;

/**
 * Why a plugin file or folder cannot be trusted, or undefined when it can: on POSIX it must be
 * writable by none but the agent's user and root — not by its group or everyone (a mode with
 * 0o022), and owned by the agent's user or root. Anyone else who can write it can run code as
 * the agent. On Windows the mode bits say nothing: its access list is read instead
 * (plugin-writers.windows.ts).
 */
export function untrustedBecause(path: string, st: Pick<Stats, 'mode' | 'uid'>, agentUid: number): string | undefined {
  if (st.mode & 0o022) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    return `${path} is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${mode}) — run \`chmod go-w ${path}\``;
  }
  if (st.uid !== agentUid && st.uid !== 0) {
    return `${path} is owned by uid ${st.uid}, neither the agent's user (uid ${agentUid}) nor root — chown it to one of them`;
  }
  return undefined;
}

/** Why `path` — and with `deep`, anything under it — cannot be trusted; undefined when it can. */
function untrusted(path: string, deep: boolean, sources: CustomPluginSources): string | undefined {
  const getuid = process.getuid;
  if (!sources.checkWriters || (!sources.windows && !getuid)) return undefined;
  const tree: { path: string; st: Stats }[] = [];
  const pending = [path];
  while (pending.length > 0) {
    if (tree.length === MAX_CHECKED_FILES)
      return `${path} holds more than ${MAX_CHECKED_FILES.toLocaleString('en-US')} files: too many to check who may write them`;
    const next = pending.pop()!;
    const st = statSync(next);
    tree.push({ path: next, st });
    if (deep && st.isDirectory()) for (const name of readdirSync(next)) pending.push(join(next, name));
  }
  // icacls' /T on a file name would also list the files of that name in the folders below it.
  const isFolder = tree[0]!.st.isDirectory();
  if (sources.windows)
    return windowsWritersProblem(
      path,
      tree.map((t) => t.path),
      deep && isFolder,
      sources.windows,
    );
  const uid = getuid!();
  for (const { path: next, st } of tree) {
    const problem = untrustedBecause(next, st, uid);
    if (problem) return problem;
  }
  return undefined;
}

/** The module an npm package's root resolves to for `import`: `exports` ("." or the whole), then `main`, then index.js. */
function packageEntry(dir: string): string {
  let pkg: { main?: unknown; exports?: unknown };
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return join(dir, 'index.js');
  }
  let target = pkg.exports;
  if (target && typeof target === 'object' && '.' in target) target = (target as Record<string, unknown>)['.'];
  while (target && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    target = conditions['import'] ?? conditions['node'] ?? conditions['default'];
  }
  if (typeof target === 'string') return join(dir, target);
  return join(dir, typeof pkg.main === 'string' ? pkg.main : 'index.js');
}

/** The module a plugin folder entry points at: a `.js`/`.mjs` file itself, or a folder's package entry. */
function entryOf(path: string): string | undefined {
  const st = statSync(path);
  if (st.isFile()) return /\.(m?js)$/.test(path) ? path : undefined;
  return st.isDirectory() ? packageEntry(path) : undefined;
}

/** The folder of an installed npm package, looked for in node_modules from `from` up to the root. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Loads the custom plugins the agent's config names: each `.js`/`.mjs` file or sub-folder of
 * `dir` (a folder is read like an npm package), and each npm package of `packages`. A module
 * exports a plugin as `default` or `plugin`, or several as `plugins`. What others than the
 * agent's user and root may write is refused unread; a plugin that fails to load or breaks the
 * contract is refused with a message naming it; the others keep working. Each plugin registered
 * here runs in worker threads with its `limits` (the built-ins stay in-process).
 */
export async function loadCustomPlugins(sources: CustomPluginSources, registry: PluginRegistry, log: Log): Promise<LoadReport> {
  const report: LoadReport = { loaded: [], refused: [] };
  const named = [...(sources.dir ? [sources.dir] : []), ...sources.packages];
  if (named.length === 0) return report;
  if (!sources.checkWriters) log('error', 'plugins.checkWriters is false: custom plugins are loaded without checking who may write them');
  const modules: { origin: string; path: string; entry: string }[] = [];
  if (sources.dir) {
    const dir = sources.dir;
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      log('error', `plugin folder ${dir} cannot be read (${(e as Error).message}) — only built-in plugins are available`);
    }
    const problem = names.length > 0 ? untrusted(dir, false, sources) : undefined;
    if (problem) {
      report.refused.push(dir);
      log('error', `plugin folder ${dir} refused: ${problem}; none of its plugins is loaded`);
      names = [];
    }
    for (const name of names) {
      const path = join(dir, name);
      const entry = entryOf(path);
      if (entry) modules.push({ origin: path, path, entry });
    }
  }
  for (const name of sources.packages) {
    const path = packageDir(name, sources.packagesFrom);
    if (!path) {
      report.refused.push(name);
      log(
        'error',
        `plugin package ${name} refused: it is not installed in a node_modules folder from ${sources.packagesFrom} up — run \`npm install ${name}\` there`,
      );
      continue;
    }
    modules.push({ origin: name, path, entry: packageEntry(path) });
  }
  // The plugin's name, and so its own limit, is known only once it is loaded: the probe gets the largest.
  const probeMemoryMb = Math.max(DEFAULT_ISOLATION_LIMITS.memoryMb, ...Object.values(sources.limits).map((l) => l.memoryMb));
  for (const { origin, path, entry } of modules) {
    const where = origin === path ? `plugin from ${path}` : `plugin package ${origin} (${path})`;
    const problem = untrusted(path, true, sources);
    if (problem) {
      report.refused.push(origin);
      log('error', `${where} refused: ${problem}`);
      continue;
    }
    const moduleUrl = pathToFileURL(entry).href;
    const loadProblem = await probePluginModule(moduleUrl, probeMemoryMb);
    if (loadProblem) {
      report.refused.push(origin);
      log('error', `${where} refused: it ${loadProblem}`);
      continue;
    }
    let candidates: unknown[];
    try {
      candidates = pluginsOf(await importPluginModule(moduleUrl));
    } catch (e) {
      report.refused.push(origin);
      log('error', `${where} refused: it failed to load: ${(e as Error).message}`);
      continue;
    }
    for (const candidate of candidates) {
      try {
        const registered = registry.register(
          candidate,
          origin,
          (plugin) =>
            new IsolatedPlugin(plugin.name, moduleUrl, sources.limits[plugin.name] ?? DEFAULT_ISOLATION_LIMITS, {
              debug: () => {},
              warn: (message) => log('error', message),
            }),
        );
        report.loaded.push(registered.plugin.name);
        log('log', `loaded plugin ${registered.plugin.name} ${registered.plugin.version} from ${origin}`);
      } catch (e) {
        report.refused.push(origin);
        log('error', (e as Error).message);
      }
    }
  }
  for (const name of Object.keys(sources.limits)) {
    if (!report.loaded.includes(name)) log('error', `plugins.limits names ${name}, which is not a loaded custom plugin — check the name, or remove its limits`);
  }
  return report;
}
