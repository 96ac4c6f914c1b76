#!/usr/bin/env node
// Builds the plugin SDK (libs/plugin-sdk) and packs it into an npm tarball:
//
//   <out>/rounds-plugin-sdk-<version>.tgz      (default out: build/plugin-sdk)
//
// How: tsc compiles libs/plugin-sdk/src's entries and every file they reach in libs/plugins and
// libs/common to JS and .d.ts (libs/plugin-sdk/tsconfig.json narrows #rounds/common to what
// plugins use); the package folder gets that, the SDK's package.json and README, and a copy of
// the zod the repository is built with; `npm pack` makes the tarball. zod is a bundled dependency
// so that installing the tarball needs no registry: imaging sites are often offline, and a plugin
// then uses the same zod as the SDK's helpers.
//
// Usage: `npm run build:plugin-sdk`, or `node scripts/pack-plugin-sdk.mjs [--out <folder>]`
// (tests pack into a folder of their own). Prints the tarball's path on its last line.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SDK = join(ROOT, 'libs', 'plugin-sdk');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = resolve(values.out ?? join(ROOT, 'build', 'plugin-sdk'));
const stage = join(out, 'package');

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const require = createRequire(import.meta.url);
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(SDK, 'tsconfig.json'), '--outDir', join(stage, 'dist')], {
  stdio: 'inherit',
});
cpSync(join(SDK, 'README.md'), join(stage, 'README.md'));
// Without its scripts: libs/plugin-sdk's prepack refuses a pack there (it would have no dist/), not here.
const { scripts: _refusal, ...manifest } = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8'));
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

const zodDir = dirname(require.resolve('zod/package.json'));
const zodVersion = JSON.parse(readFileSync(join(zodDir, 'package.json'), 'utf8')).version;
const wanted = manifest.dependencies.zod;
if (!wanted.startsWith(`^${zodVersion.split('.')[0]}.`)) {
  throw new Error(`libs/plugin-sdk/package.json wants zod ${wanted} but the repository has ${zodVersion}: align them`);
}
// zod's TypeScript sources are not what a plugin imports (its .js and .d.ts are): left out of the copy.
cpSync(zodDir, join(stage, 'node_modules', 'zod'), { recursive: true, filter: (src) => !src.startsWith(join(zodDir, 'src')) });

const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }).trim().split('\n').pop();
console.log(join(out, packed));
