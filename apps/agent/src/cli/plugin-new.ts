import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_API_VERSION, PLUGIN_NAME, PluginRegistry } from '#rounds/plugins';
import { PLUGIN_TEMPLATE } from './plugin-template.js';

export interface NewPluginOptions {
  /** The plugin's name: kebab-case, not a built-in plugin's. */
  name: string;
  /** The folder the plugin's folder is made in (default: the working directory). */
  parentDir?: string;
  /** The SDK tarball the plugin depends on (default: the one `npm run build:plugin-sdk` made in this Rounds folder). */
  sdk?: string;
}

/** The Rounds folder this agent runs from (dist/apps/agent/src/cli/ → ../../../../..). */
const ROUNDS_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Where `npm run build:plugin-sdk` leaves the tarball of the SDK version in this folder, if it is there. */
function builtSdkTarball(): string | undefined {
  try {
    const { version } = JSON.parse(readFileSync(join(ROUNDS_ROOT, 'libs', 'plugin-sdk', 'package.json'), 'utf8')) as { version: string };
    const tarball = join(ROUNDS_ROOT, 'build', 'plugin-sdk', `rounds-plugin-sdk-${version}.tgz`);
    return existsSync(tarball) ? tarball : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes a plugin folder `<parentDir>/<name>`: plugin, schema, spec, sample config, README,
 * tsconfig for type checks, and a package.json that depends on the SDK by its tarball's path.
 * Refuses a name that is not kebab-case or is a built-in plugin's, and a folder that exists.
 * Returns the lines to print: what was written and what to do next.
 */
export function newPlugin(options: NewPluginOptions): string[] {
  const { name } = options;
  if (!PLUGIN_NAME.test(name)) {
    throw new Error(
      `plugin name "${name}" must be kebab-case — lower-case letters and digits in words joined by "-", starting with a letter (e.g. "modality-disk")`,
    );
  }
  if (PluginRegistry.withBuiltins().get(name)) {
    throw new Error(`"${name}" is a built-in plugin of this agent: choose another name (an agent refuses a second plugin of the same name)`);
  }
  const dir = resolve(options.parentDir ?? '.', name);
  if (existsSync(dir)) throw new Error(`${dir} already exists: choose another name or --dir, or remove the folder first (nothing was written)`);
  const sdk = options.sdk ? resolve(options.sdk) : builtSdkTarball();
  if (!sdk || !existsSync(sdk)) {
    throw new Error(
      sdk
        ? `no SDK tarball at ${sdk}: pass --sdk <path to rounds-plugin-sdk-<version>.tgz>`
        : 'no SDK tarball to depend on: run `npm run build:plugin-sdk` in the Rounds source folder, or pass --sdk <path to rounds-plugin-sdk-<version>.tgz>',
    );
  }

  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = { 'package.json': packageJson(name, relative(dir, sdk).split(sep).join('/')) };
  for (const [file, text] of Object.entries(PLUGIN_TEMPLATE)) {
    files[file] = text.replaceAll('__NAME__', name).replaceAll('__API_VERSION__', String(PLUGIN_API_VERSION));
  }
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const shown = relative(process.cwd(), dir) || '.';
  return [
    `wrote plugin ${name} in ${dir}: ${Object.keys(files).sort().join(', ')}`,
    'next:',
    `  cd ${shown.startsWith('..') ? dir : shown} && npm install && npm test`,
    `  rounds-agent run-once ${name} --config sample.yaml --agent-config <agent.yaml whose plugins.dir is ${dirname(dir)}>`,
  ];
}

function packageJson(name: string, sdkPath: string): string {
  const pkg = {
    name,
    version: '0.1.0',
    description: 'A Rounds check plugin',
    private: true,
    type: 'module',
    // The agent imports this file's default export (its plugin folder loader reads `main`).
    main: 'plugin.js',
    scripts: {
      test: 'node --test plugin.spec.js',
      typecheck: 'tsc -p .',
    },
    dependencies: {
      // zod comes with the SDK (bundled in its tarball): import `z` from '@rounds/plugin-sdk'.
      '@rounds/plugin-sdk': `file:${sdkPath}`,
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}
