import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { winswXml } from '../../apps/agent/src/service/winsw.windows.js';
import { ROOT, runProgram, tempDir } from '../e2e/harness.js';

const run = promisify(execFile);
const MSI = join(ROOT, 'build', 'msi', 'rounds-agent.msi');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** msidbCustomActionType bits: an .exe installed by the package, deferred, as SYSTEM, its command line not logged, its exit code ignored. */
const EXE_FILE = 18;
const DEFERRED = 0x400;
const NO_IMPERSONATE = 0x800;
const HIDE_TARGET = 0x2000;
const IGNORE_EXIT = 0x40;

type Row = Record<string, string>;

/** A table as msiinfo exports it: a header of column names, two lines of types and keys, then tab-separated rows. */
async function table(name: string): Promise<Row[]> {
  const { stdout } = await run('msiinfo', ['export', MSI, name], { maxBuffer: 16 * 1024 * 1024 });
  const [header, , , ...rows] = stdout.split(/\r?\n/).filter((l) => l !== '');
  const columns = header!.split('\t');
  return rows.map((line) => Object.fromEntries(line.split('\t').map((v, i) => [columns[i]!, v])));
}
const byKey = (rows: Row[], key: string): Map<string, Row> => new Map(rows.map((r) => [r[key]!, r]));

/** `npm run build:msi` checked with msitools: what the installer holds and does, without Windows. */
describe('the MSI (scripts/build-msi.mjs)', { timeout: 400_000 }, () => {
  let extracted: string;

  before(async () => {
    // The Windows .exe the single-file e2e builds too: rebuilt only when its inputs changed.
    const agent = await runProgram(process.execPath, [join(ROOT, 'scripts', 'build-agent.mjs'), '--if-changed']);
    assert.equal(agent.code, 0, `scripts/build-agent.mjs failed:\n${agent.output}`);
    const started = Date.now();
    const msi = await runProgram(process.execPath, [join(ROOT, 'scripts', 'build-msi.mjs')]);
    assert.equal(msi.code, 0, `scripts/build-msi.mjs failed:\n${msi.output}`);
    console.log(`build-msi: ${Date.now() - started} ms — ${msi.output.trim()}`);
    extracted = tempDir('msi');
    await run('msiextract', ['-C', extracted, MSI], { maxBuffer: 16 * 1024 * 1024 });
  });
  after(() => extracted && rmSync(extracted, { recursive: true, force: true }));

  it('is a per-machine x64 package of this version', async () => {
    const { stdout } = await run('msiinfo', ['suminfo', MSI]);
    assert.match(stdout, /^Template: x64;1033$/m);
    assert.match(stdout, new RegExp(`^Subject: Rounds agent ${VERSION.replaceAll('.', '\\.')}$`, 'm'));
    const properties = byKey(await table('Property'), 'Property');
    assert.equal(properties.get('ALLUSERS')?.['Value'], '1');
    assert.equal(properties.get('ProductVersion')?.['Value'], VERSION);
  });

  it('installs the agent, WinSW with its definition and .NET 4 config, the config template, README and notices to Program Files\\Rounds', async () => {
    const files = byKey(await table('File'), 'File');
    const directories = byKey(await table('Directory'), 'Directory');

    assert.deepEqual([...files.values()].map((f) => f['FileName']).sort(), [
      'README.md',
      'THIRD-PARTY-NOTICES.txt',
      'agent.example.yaml',
      'rounds-agent-service.exe',
      'rounds-agent-service.exe.config',
      'rounds-agent-service.xml',
      'rounds-agent.exe',
    ]);
    assert.equal(directories.get('INSTALLDIR')?.['DefaultDir'], 'Rounds');
    assert.equal(directories.get('INSTALLDIR')?.['Directory_Parent'], 'ProgramFiles64Folder');
    assert.equal(Number(files.get('AgentExe')?.['FileSize']), readFileSync(join(ROOT, 'build', 'agent', 'rounds-agent-win-x64.exe')).byteLength);
    assert.equal(
      Number(files.get('WrapperExe')?.['FileSize']),
      readFileSync(join(ROOT, 'scripts', 'windows-node', 'node_modules', 'node-windows', 'bin', 'winsw', 'winsw.exe')).byteLength,
    );
  });

  it('puts every file in a 64-bit component of the one feature', async () => {
    const components = await table('Component');
    const featured = new Set((await table('FeatureComponents')).map((r) => r['Component_']));

    for (const file of await table('File')) {
      const component = components.find((c) => c['Component'] === file['Component_']);
      assert.ok(component, `${file['FileName']} has no component`);
      assert.equal(Number(component['Attributes']) & 256, 256, `${component['Component']} is not a 64-bit component`);
      assert.ok(featured.has(component['Component']), `${component['Component']} is in no feature`);
    }
  });

  it('carries the WinSW definition winsw.windows.ts makes, with the agent as %BASE% and its data in %ProgramData%\\Rounds', () => {
    const xml = readFileSync(join(extracted, 'Rounds', 'rounds-agent-service.xml'), 'utf8');

    assert.equal(
      xml,
      winswXml({ executable: '%BASE%\\rounds-agent.exe', args: ['start', '--config', '%ProgramData%\\Rounds\\agent.yaml'], dataDir: '%ProgramData%\\Rounds' }),
    );
    assert.match(xml, /<logpath>%ProgramData%\\Rounds\\logs<\/logpath>/);
    assert.match(readFileSync(join(extracted, 'Rounds', 'rounds-agent-service.exe.config'), 'utf8'), /<supportedRuntime version="v4\.0" \/>/);
  });

  it('runs `service install` after copying the files, deferred as SYSTEM with its command line kept out of the log, passing LISTEN, SITEKEY, the enrolment file and its own log', async () => {
    const actions = byKey(await table('CustomAction'), 'Action');
    const sequence = byKey(await table('InstallExecuteSequence'), 'Action');
    const install = actions.get('RoundsServiceInstall');

    assert.ok(install, 'no RoundsServiceInstall custom action');
    assert.equal(Number(install['Type']), EXE_FILE | DEFERRED | NO_IMPERSONATE | HIDE_TARGET);
    assert.equal(install['Source'], 'AgentExe');
    assert.equal(
      install['Target'],
      'service install --config "[CommonAppDataFolder]Rounds\\agent.yaml" --listen "[LISTEN]" --site-key "[SITEKEY]" --enrolment-file "[CommonAppDataFolder]Rounds\\enrolment.txt" --log "[CommonAppDataFolder]Rounds\\logs\\service-install.log"',
    );
    const at = (action: string) => Number(sequence.get(action)?.['Sequence']);
    assert.ok(at('InstallFiles') < at('RoundsServiceInstall') && at('RoundsServiceInstall') < at('InstallFinalize'));
    assert.equal(sequence.get('RoundsServiceInstall')?.['Condition'], 'NOT Installed AND NOT REMOVE');
  });

  it('runs `service uninstall` before the files go on removal, whatever it exits with', async () => {
    const actions = byKey(await table('CustomAction'), 'Action');
    const sequence = byKey(await table('InstallExecuteSequence'), 'Action');
    const uninstall = actions.get('RoundsServiceUninstall');

    assert.equal(uninstall?.['Target'], 'service uninstall --log "[CommonAppDataFolder]Rounds\\logs\\service-install.log"');
    assert.equal(Number(uninstall?.['Type']), EXE_FILE | DEFERRED | NO_IMPERSONATE | IGNORE_EXIT);
    const at = (action: string) => Number(sequence.get(action)?.['Sequence']);
    assert.ok(at('InstallInitialize') < at('RoundsServiceUninstall') && at('RoundsServiceUninstall') < at('RemoveFiles'));
    assert.equal(sequence.get('RoundsServiceUninstall')?.['Condition'], 'REMOVE~="ALL"');
  });

  it('upgrades by removing the old version before installing, so its service is gone first, and refuses a downgrade', async () => {
    const sequence = byKey(await table('InstallExecuteSequence'), 'Action');
    const upgrade = await table('Upgrade');

    assert.ok(Number(sequence.get('RemoveExistingProducts')?.['Sequence']) < Number(sequence.get('InstallInitialize')?.['Sequence']));
    assert.deepEqual(upgrade.map((u) => u['ActionProperty']).sort(), ['WIX_DOWNGRADE_DETECTED', 'WIX_UPGRADE_DETECTED']);
    assert.ok((await table('LaunchCondition')).some((c) => c['Condition'] === 'NOT WIX_DOWNGRADE_DETECTED'));
  });

  it('takes LISTEN (default 0.0.0.0:7443) and SITEKEY from the command line, keeps SITEKEY out of the log and lets a managed install pass both', async () => {
    const properties = byKey(await table('Property'), 'Property');

    assert.equal(properties.get('LISTEN')?.['Value'], '0.0.0.0:7443');
    assert.equal(properties.get('SITEKEY'), undefined, 'SITEKEY has a default value');
    assert.equal(properties.get('MsiHiddenProperties')?.['Value'], 'SITEKEY');
    assert.deepEqual(properties.get('SecureCustomProperties')?.['Value']?.split(';').sort(), [
      'LISTEN',
      'SITEKEY',
      'WIX_DOWNGRADE_DETECTED',
      'WIX_UPGRADE_DETECTED',
    ]);
  });
});
