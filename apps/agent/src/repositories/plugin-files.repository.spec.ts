import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describePlugin, PluginRegistry, runRegistered } from '#rounds/plugins';
import { loadCustomPlugins, untrustedBecause, type CustomPluginSources } from './plugin-files.repository.js';
import type { WindowsTools } from './plugin-writers.windows.js';

/** This file runs as dist/apps/agent/src/repositories/…; temp folders go under dist so a plugin's `import 'zod'` finds the repo's node_modules. */
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const roots: string[] = [];
after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

/** A fresh config folder; every file and folder written with an explicit mode, whatever the umask. */
function configFolder(): string {
  const root = mkdtempSync(join(repoRoot, 'dist', 'plugin-files-spec-'));
  chmodSync(root, 0o755);
  roots.push(root);
  return root;
}
function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  writeFileSync(path, text);
  chmodSync(path, 0o644);
  return path;
}

/** A plugin module exporting one plugin named `name`, reporting `summary`. */
function pluginSource(name: string, extra = ''): string {
  return `import { z } from 'zod';
export default {
  name: '${name}', version: '2.1.0', apiVersion: 1, description: 'test plugin ${name}',
  configSchema: z.strictObject({ word: z.string().default('fine') }), metrics: [],
  run: async (config) => ({ status: 'OK', reason: 'ok', summary: '${name} says ' + config.word, metrics: [] }),
  ${extra}
};
`;
}

async function load(sources: Partial<CustomPluginSources> & { packagesFrom: string }) {
  const registry = PluginRegistry.withBuiltins();
  const lines: string[] = [];
  const report = await loadCustomPlugins({ packages: [], limits: {}, checkWriters: true, ...sources }, registry, (level, line) =>
    lines.push(`${level}: ${line}`),
  );
  return { registry, report, lines, errors: lines.filter((l) => l.startsWith('error: ')).map((l) => l.slice('error: '.length)) };
}

describe('loadCustomPlugins', { timeout: 60_000 }, () => {
  it('loads a file and a folder from the plugin folder and an npm package, each reported by Describe with its origin and version', async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    write(join(dir, 'ups-status.mjs'), pluginSource('ups-status'));
    cpSync(join(repoRoot, 'test/fixtures/plugins/fixture-queue'), join(dir, 'fixture-queue'), { recursive: true });
    chmodSync(join(dir, 'fixture-queue'), 0o755);
    chmodSync(join(dir, 'fixture-queue/index.js'), 0o644);
    const pkg = join(root, 'node_modules/@acme/rounds-plugin-printer');
    write(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/rounds-plugin-printer', type: 'module', exports: { '.': { import: './lib/plugin.js' } } }));
    write(join(pkg, 'lib/plugin.js'), pluginSource('printer-page'));
    for (const folder of [join(root, 'node_modules'), join(root, 'node_modules/@acme'), pkg, join(pkg, 'lib')]) chmodSync(folder, 0o755);

    const { registry, report, errors } = await load({ dir, packages: ['@acme/rounds-plugin-printer'], packagesFrom: root });
    assert.deepEqual(errors, []);
    assert.deepEqual(report.loaded.sort(), ['fixture-queue', 'printer-page', 'ups-status']);
    const described = registry
      .list()
      .filter((e) => e.source !== 'builtin')
      .map(describePlugin);
    assert.deepEqual(
      described.map((d) => [d.name, d.source, d.version]),
      [
        ['fixture-queue', join(dir, 'fixture-queue'), '1.0.0'],
        ['printer-page', '@acme/rounds-plugin-printer', '2.1.0'],
        ['ups-status', join(dir, 'ups-status.mjs'), '2.1.0'],
      ],
    );
    assert.deepEqual((JSON.parse(described[1]!.configSchemaJson) as { properties: unknown }).properties, { word: { type: 'string', default: 'fine' } });
    // Custom plugins run in their workers; the built-ins stay in-process.
    assert.ok(registry.get('printer-page')!.isolated);
    assert.equal(registry.get('http')!.isolated, undefined);
    const run = await runRegistered(registry.get('printer-page')!, { word: 'ready' }, { timeoutMs: 5000 });
    assert.equal(run.outcome.summary, 'printer-page says ready');
    await registry.close();
  });

  it('refuses a group-writable plugin file naming the file and its mode, and loads the rest', async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    write(join(dir, 'good.mjs'), pluginSource('good-one'));
    const bad = write(join(dir, 'shared.mjs'), pluginSource('shared-one'));
    chmodSync(bad, 0o664);
    const { registry, report, errors } = await load({ dir, packagesFrom: root });
    assert.deepEqual(report.loaded, ['good-one']);
    assert.deepEqual(errors, [`plugin from ${bad} refused: ${bad} is writable by its group (mode 0664) — run \`chmod go-w ${bad}\``]);
    await registry.close();
  });

  it('refuses a plugin folder with a world-writable file inside, naming that file', async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    write(join(dir, 'good.mjs'), pluginSource('good-one'));
    write(join(dir, 'folder-one/index.js'), "export { default } from './lib.js';\n");
    const lib = write(join(dir, 'folder-one/lib.js'), pluginSource('folder-one'));
    chmodSync(join(dir, 'folder-one'), 0o755);
    chmodSync(lib, 0o666);
    const { registry, report, errors } = await load({ dir, packagesFrom: root });
    assert.deepEqual(report.loaded, ['good-one']);
    assert.deepEqual(errors, [`plugin from ${join(dir, 'folder-one')} refused: ${lib} is writable by every user (mode 0666) — run \`chmod go-w ${lib}\``]);
    await registry.close();
  });

  it('refuses a whole plugin folder others can write, loading none of it', async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    write(join(dir, 'good.mjs'), pluginSource('good-one'));
    chmodSync(dir, 0o775);
    const { report, errors } = await load({ dir, packagesFrom: root });
    assert.deepEqual(report.loaded, []);
    assert.deepEqual(errors, [
      `plugin folder ${dir} refused: ${dir} is writable by its group (mode 0775) — run \`chmod go-w ${dir}\`; none of its plugins is loaded`,
    ]);
  });

  it("on Windows, reads the plugin's access list instead of its mode, a folder's with /T, and refuses a file Users may modify, naming it and them", async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    write(join(dir, 'good.mjs'), pluginSource('good-one'));
    const folderOne = join(dir, 'folder-one');
    write(join(folderOne, 'index.js'), pluginSource('folder-one'));
    chmodSync(folderOne, 0o755);
    const open = write(join(dir, 'open.mjs'), pluginSource('open-one'));
    // What icacls prints for each path asked about (the layout of the captured outputs in test/fixtures/icacls); with /T the folder's file too.
    const acl = (path: string) => `${path} NT AUTHORITY\\SYSTEM:(I)(F)\r\n${path === open ? 'BUILTIN\\Users:(M)' : 'BUILTIN\\Users:(I)(RX)'}\r\n\r\n`;
    const asked: string[] = [];
    const windows: WindowsTools = {
      icacls: (path, tree) => (asked.push(`${path}${tree ? ' /T' : ''}`), [path, ...(tree ? [join(path, 'index.js')] : [])].map(acl).join('')),
      whoami: () => 'CT-GATEWAY\\rounds-agent',
    };
    const { registry, report, errors } = await load({ dir, packagesFrom: root, windows });
    assert.deepEqual(report.loaded, ['folder-one', 'good-one']);
    assert.deepEqual(asked, [dir, `${folderOne} /T`, join(dir, 'good.mjs'), open]);
    assert.equal(errors.length, 1);
    assert.ok(errors[0]!.startsWith(`plugin from ${open} refused: ${open} can be written by BUILTIN\\Users (M) — run \`icacls "${open}"`), errors[0]);
    await registry.close();
  });

  it('loads without asking who may write when plugins.checkWriters is false, and says so', async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    write(join(dir, 'good.mjs'), pluginSource('good-one'));
    chmodSync(dir, 0o777);
    const windows: WindowsTools = { icacls: () => assert.fail('icacls was run'), whoami: () => 'x' };
    const { registry, report, errors } = await load({ dir, packagesFrom: root, checkWriters: false, windows });
    assert.deepEqual(report.loaded, ['good-one']);
    assert.deepEqual(errors, ['plugins.checkWriters is false: custom plugins are loaded without checking who may write them']);
    await registry.close();
  });

  it('refuses a duplicate, a plugin for another API version and a package that is not installed, each named, and loads the rest', async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    const first = write(join(dir, 'a-first.mjs'), pluginSource('twin'));
    const second = write(join(dir, 'b-second.mjs'), pluginSource('twin'));
    const future = write(join(dir, 'c-future.mjs'), pluginSource('future-one', 'apiVersion: 2,'));
    write(join(dir, 'd-good.mjs'), pluginSource('good-one'));
    const { registry, report, errors } = await load({
      dir,
      packages: ['rounds-plugin-absent'],
      packagesFrom: root,
      limits: { 'no-such': { concurrency: 1, memoryMb: 32 } },
    });
    assert.deepEqual(report.loaded, ['twin', 'good-one']);
    assert.deepEqual(errors, [
      `plugin package rounds-plugin-absent refused: it is not installed in a node_modules folder from ${root} up — run \`npm install rounds-plugin-absent\` there`,
      `plugin "twin" from ${second} refused: the name is already taken by the plugin from ${first} — rename one of them`,
      `plugin "future-one" from ${future} refused: it is built for plugin API 2, this agent runs plugin API 1 — set apiVersion: 1 and build it against @rounds/plugin-sdk 1.x`,
      'plugins.limits names no-such, which is not a loaded custom plugin — check the name, or remove its limits',
    ]);
    await registry.close();
  });

  it('refuses a plugin that exits the process as it is imported, having loaded it in a worker first, and loads the rest', async () => {
    const root = configFolder();
    const dir = join(root, 'plugins');
    write(join(dir, 'good.mjs'), pluginSource('good-one'));
    const quits = write(join(dir, 'quits.mjs'), `process.exit(3);\n${pluginSource('quits-one')}`);
    const { registry, report, errors } = await load({ dir, packagesFrom: root });
    assert.deepEqual(report.loaded, ['good-one']);
    assert.deepEqual(errors, [`plugin from ${quits} refused: it could not be loaded in its worker: the worker exited with code 3`]);
    await registry.close();
  });
});

describe('untrustedBecause', () => {
  const agent = 1000;
  it("trusts a file owned by the agent's user or by root that only its owner can write", () => {
    assert.equal(untrustedBecause('/p/a.mjs', { mode: 0o100644, uid: agent }, agent), undefined);
    assert.equal(untrustedBecause('/p/a.mjs', { mode: 0o100755, uid: 0 }, agent), undefined);
  });

  it('refuses a file owned by another user who is not root, naming the owner', () => {
    assert.equal(
      untrustedBecause('/p/a.mjs', { mode: 0o100644, uid: 1234 }, agent),
      "/p/a.mjs is owned by uid 1234, neither the agent's user (uid 1000) nor root — chown it to one of them",
    );
  });

  it('refuses a folder everyone can write even with its sticky bit, naming the mode', () => {
    assert.equal(untrustedBecause('/p', { mode: 0o41777, uid: 0 }, agent), '/p is writable by every user (mode 1777) — run `chmod go-w /p`');
  });
});
