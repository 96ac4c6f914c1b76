#!/usr/bin/env node
// Builds build/msi/rounds-agent.msi, the Rounds agent for Windows as one installer, on Linux:
//
//   1. check the inputs: the single-file rounds-agent-win-x64.exe (`npm run build:agent`), WinSW
//      from node-windows (scripts/windows-node), the compiled agent (for the WinSW definition)
//      and msitools' wixl (Debian package `wixl`);
//   2. write the WinSW definition and .exe.config with the same code `rounds-agent service
//      install` uses (apps/agent/src/service/winsw.windows.ts), its paths as %BASE% (WinSW's own
//      folder) and %ProgramData%, which WinSW expands on the target;
//   3. run wixl over deploy/windows/rounds-agent.wxs;
//   4. set what wixl 0.101 cannot express, with msitools' msibuild (SQL on the tables): the
//      upgrade removes the old version before installing (its service must be gone before the new
//      one is registered), the install's command line is hidden from the log (it carries
//      SITEKEY), and LISTEN and SITEKEY reach the elevated part of a managed install.
//
// Usage: `npm run build:msi` (after `npm run build:agent`). Downloads nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'build', 'msi');
const WORK = join(OUT, 'work');
const MSI = join(OUT, 'rounds-agent.msi');
const AGENT_EXE = join(ROOT, 'build', 'agent', 'rounds-agent-win-x64.exe');
const WINSW = join(ROOT, 'scripts', 'windows-node', 'node_modules', 'node-windows', 'bin', 'winsw', 'winsw.exe');
const WINSW_MODULE = join(ROOT, 'dist', 'apps', 'agent', 'src', 'service', 'winsw.windows.js');
const DEPLOY = join(ROOT, 'deploy', 'windows');
const WXS = join(DEPLOY, 'rounds-agent.wxs');

function fail(message) {
  console.error(`build-msi: ${message}`);
  process.exit(1);
}

const started = performance.now();
if (!existsSync(AGENT_EXE)) fail(`${relative(ROOT, AGENT_EXE)} is missing: build it first with \`npm run build:agent\``);
if (!existsSync(WINSW)) fail(`${relative(ROOT, WINSW)} is missing: \`npm ci\` installs it; or run \`node scripts/windows-node/install.mjs\``);
if (!existsSync(WINSW_MODULE)) fail(`${relative(ROOT, WINSW_MODULE)} is missing: compile first with \`npm run build\``);
for (const tool of ['wixl', 'msibuild']) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'pipe' });
  } catch (e) {
    if (e.code === 'ENOENT') fail(`${tool} is not installed: \`apt-get install wixl msitools\` (test/apt-packages.txt lists them)`);
  }
}

const { winswXml, WINSW_EXE_CONFIG, WRAPPER_BASENAME } = await import(pathToFileURL(WINSW_MODULE).href);
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
writeFileSync(
  join(WORK, `${WRAPPER_BASENAME}.xml`),
  winswXml({ executable: '%BASE%\\rounds-agent.exe', args: ['start', '--config', '%ProgramData%\\Rounds\\agent.yaml'], dataDir: '%ProgramData%\\Rounds' }),
);
writeFileSync(join(WORK, `${WRAPPER_BASENAME}.exe.config`), WINSW_EXE_CONFIG);

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
// An MSI's ProductVersion is major.minor.build, numbers only: a pre-release tag cannot be one.
if (!/^\d{1,3}\.\d{1,3}\.\d{1,5}$/.test(version)) fail(`package.json's version ${version} is not major.minor.patch in numbers, which an MSI needs`);

rmSync(MSI, { force: true });
process.stdout.write(`wixl: ${relative(ROOT, MSI)} (rounds-agent ${version})… `);
try {
  execFileSync(
    'wixl',
    [
      '--arch',
      'x64',
      '--output',
      MSI,
      // wixl takes File sources relative to the .wxs only.
      ...Object.entries({ Version: version, AgentExe: AGENT_EXE, WinswExe: WINSW, Work: WORK, Deploy: DEPLOY }).flatMap(([name, value]) => [
        '--define',
        `${name}=${name === 'Version' ? value : relative(DEPLOY, value) || '.'}`,
      ]),
      WXS,
    ],
    { stdio: 'pipe', cwd: ROOT },
  );
} catch (e) {
  fail(`wixl failed: ${e.stderr?.toString() || e.message}`);
}
/** msidbCustomActionTypeHideTarget: msiexec logs no command line for the action. */
const HIDE_TARGET = 0x2000;
/** The sequence number of MajorUpgrade's Schedule="afterInstallValidate" (InstallValidate is 1400). */
const AFTER_INSTALL_VALIDATE = 1401;
for (const query of [
  `UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = ${AFTER_INSTALL_VALIDATE} WHERE \`Action\` = 'RemoveExistingProducts'`,
  `UPDATE \`CustomAction\` SET \`Type\` = ${3090 + HIDE_TARGET} WHERE \`Action\` = 'RoundsServiceInstall' AND \`Type\` = 3090`,
  "UPDATE `Property` SET `Value` = 'WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;LISTEN;SITEKEY' WHERE `Property` = 'SecureCustomProperties'",
]) {
  try {
    execFileSync('msibuild', [MSI, '-q', query], { stdio: 'pipe' });
  } catch (e) {
    fail(`msibuild could not run ${query}: ${e.stderr?.toString() || e.message}`);
  }
}
console.log(`${(statSync(MSI).size / 1024 / 1024).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
