import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ROOT, runProgram } from './harness.js';

/**
 * What the plugin specs share: the SDK packed as `npm run build:plugin-sdk` packs it, and a plugin
 * folder installed, tested and type-checked the way its author would — without the registry
 * (`npm --offline`: the SDK tarball bundles zod, and nothing else is needed).
 */

/** Packs the SDK into `dir` (a folder of the caller's, so that specs running at once do not share one); the tarball's path. */
export async function packPluginSdk(dir: string): Promise<string> {
  const { code, output } = await runProgram(process.execPath, [join(ROOT, 'scripts', 'pack-plugin-sdk.mjs'), '--out', dir]);
  if (code !== 0) throw new Error(`pack-plugin-sdk failed: ${output}`);
  return output.trim().split('\n').pop()!;
}

/**
 * `npm <args>` in `folder`, never reaching for the registry. Without the test runner's
 * NODE_TEST_CONTEXT, which would make the plugin's own `node --test` skip its files as nested.
 */
export function npmOffline(folder: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return runProgram('npm', ['--prefix', folder, '--offline', '--no-audit', '--no-fund', ...args], { NODE_TEST_CONTEXT: undefined });
}

/**
 * Type-checks a plugin folder with its tsconfig.json, as `npm run typecheck` does once the author
 * has installed typescript and @types/node; here both are the repository's own.
 */
export function typecheck(folder: string): Promise<{ code: number | null; output: string }> {
  const types = join(folder, 'node_modules', '@types', 'node');
  if (!existsSync(types)) {
    mkdirSync(join(folder, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), types);
  }
  return runProgram(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', folder]);
}

/**
 * What an author does before deploying a plugin folder, each step asserted: `npm install` (offline),
 * `npm test` with `tests` passing and none failing, and the type check.
 */
export async function installTestTypecheck(folder: string, tests: number): Promise<void> {
  const install = await npmOffline(folder, ['install']);
  assert.equal(install.code, 0, install.output);
  const run = await npmOffline(folder, ['test']);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, new RegExp(`^# pass ${tests}$`, 'm'));
  assert.match(run.output, /^# fail 0$/m);
  const types = await typecheck(folder);
  assert.equal(types.code, 0, types.output);
}

const EXAMPLE = join(ROOT, 'examples', 'plugins', 'modality-disk');
const GIB = 2 ** 30;

/**
 * examples/plugins/modality-disk copied into the plugin folder `plugins` as it is deployed, its
 * SDK dependency pointed at `tarball` (not installed yet); the copy's folder.
 */
export function copyModalityDisk(plugins: string, tarball: string): string {
  const folder = join(plugins, 'modality-disk');
  cpSync(EXAMPLE, folder, { recursive: true, filter: (src) => !src.includes('node_modules') });
  const pkgPath = join(folder, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { dependencies: Record<string, string> };
  assert.match(pkg.dependencies['@rounds/plugin-sdk']!, /^file:.*rounds-plugin-sdk-\d+\.\d+\.\d+\.tgz$/);
  pkg.dependencies['@rounds/plugin-sdk'] = `file:${tarball}`;
  writeFileSync(pkgPath, JSON.stringify(pkg));
  return folder;
}

/** The vendor API modality-disk checks, on a port of its own: two volumes, images 85 % used, behind Basic auth. */
export const MODALITY_API = {
  volumes: [
    { name: 'images', totalBytes: 1000 * GIB, freeBytes: 150 * GIB },
    { name: 'system', totalBytes: 100 * GIB, freeBytes: 60 * GIB },
  ],
  username: 'rounds-monitor',
  password: 's3cret',
};

export async function startModalityApi(): Promise<{ server: Server; port: number }> {
  const auth = `Basic ${Buffer.from(`${MODALITY_API.username}:${MODALITY_API.password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    if (req.url !== '/service/api/v2/storage') return void res.writeHead(404).end();
    if (req.headers.authorization !== auth) return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ volumes: MODALITY_API.volumes }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}
