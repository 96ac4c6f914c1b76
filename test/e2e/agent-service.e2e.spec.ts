import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UNIT_PATH } from '../../apps/agent/src/service/systemd.linux.js';
import { WinePrefix } from '../peers/wine.js';
import { ROOT, runProgram } from './harness.js';

const LINUX_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-linux-x64');
const WINDOWS_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-win-x64.exe');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runAs(user: 'root' | 'nobody', program: string, args: string[]): Promise<Ran> {
  // As root, `runuser` drops to nobody; run by anyone else the spec is unprivileged already.
  const [command, argv] = user === 'nobody' && process.getuid?.() === 0 ? ['runuser', ['-u', 'nobody', '--', program, ...args]] : [program, args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `rounds-agent service …` as people run it: the single-file binaries, the Linux one from a
 * folder the unit can see (not /tmp, which PrivateTmp hides) and the Windows one under wine from
 * C:\Program Files\Rounds. What would change the machine's services is run with --dry-run here.
 */
describe('rounds-agent service', { timeout: 400_000 }, () => {
  before(async () => {
    const built = await runProgram(process.execPath, [join(ROOT, 'scripts', 'build-agent.mjs'), '--if-changed']);
    assert.equal(built.code, 0, `scripts/build-agent.mjs failed:\n${built.output}`);
  });

  describe('on Linux (systemd)', () => {
    let home: string;
    let agent: string;
    let config: string;
    const unitExisted = existsSync(UNIT_PATH);
    const cli = (...args: string[]) => runAs('root', agent, ['service', ...args]);

    before(() => {
      // /opt: outside the folders the unit hides, and readable by nobody for the unprivileged case.
      home = mkdtempSync('/opt/rounds-service-spec-');
      chmodSync(home, 0o755);
      mkdirSync(join(home, 'bin'), { mode: 0o755 });
      agent = join(home, 'bin', 'rounds-agent');
      copyFileSync(LINUX_BINARY, agent);
      chmodSync(agent, 0o755);
      config = join(home, 'etc', 'agent.yaml');
    });
    after(() => home && rmSync(home, { recursive: true, force: true }));

    test('without a command it exits 64 naming the five', async () => {
      const r = await cli();

      assert.equal(r.code, 64);
      assert.match(
        r.stderr,
        /^rounds-agent: service needs a command: install, uninstall, start, stop or status \(e\.g\. `rounds-agent service install --config <agent\.yaml>`\)$/m,
      );
    });

    test('an unknown command exits 64 naming the ones there are', async () => {
      const r = await cli('restart-all');

      assert.equal(r.code, 64);
      assert.match(r.stderr, /unknown service command "restart-all": use install, uninstall, start, stop or status/);
    });

    test('an option of install given to another command exits 64 saying where it belongs', async () => {
      const r = await cli('status', '--listen', '0.0.0.0:7443');

      assert.equal(r.code, 64);
      assert.match(r.stderr, /--listen belongs to `service install`, not `service status`/);
    });

    test('install by a user who is not root exits 77 saying to run it with sudo', async () => {
      const r = await runAs('nobody', agent, ['service', 'install', '--config', config]);

      assert.equal(r.code, 77, r.stdout + r.stderr);
      assert.match(r.stderr, /service install changes systemd's units and must run as root: `sudo rounds-agent service install …`/);
    });

    test('install without a config and without --listen exits 64 saying how to make one', async () => {
      // Never the config another test makes: with one, install would change this host's services.
      const absent = join(home, 'absent', 'agent.yaml');

      const r = await cli('install', '--config', absent);

      assert.equal(r.code, 64, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `there is no agent config at ${absent}: pass --listen host:port .* or run \`rounds-agent init --config ${absent} --listen host:port\` first`,
        ),
      );
    });

    test('install --dry-run prints the init it would run (site key hidden) and the unit that starts this binary, and changes nothing', async () => {
      const r = await cli('install', '--dry-run', '--config', config, '--listen', '0.0.0.0:7443', '--site-key', 'k-secret-1');

      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(r.stdout.includes(`would create the config first: ${agent} init --listen 0.0.0.0:7443 --config ${config} --site-key <redacted>`), r.stdout);
      assert.ok(!r.stdout.includes('k-secret-1'), 'the site key was printed');
      assert.match(r.stdout, new RegExp(`^ {5}\\| ExecStart=${agent} start$`, 'm'));
      assert.match(r.stdout, new RegExp(`^ {5}\\| ReadWritePaths=${home}/etc$`, 'm'));
      assert.match(r.stdout, /^\d+\. run: systemctl enable rounds-agent — start at boot$/m);
      assert.ok(!existsSync(config), 'the dry run created the config');
      assert.equal(existsSync(UNIT_PATH), unitExisted, 'the dry run wrote the unit');
    });

    test('install --dry-run over an existing config hands the agent its config, key and spool, and says --listen is not used', async () => {
      const made = await runAs('root', agent, ['init', '--config', config, '--listen', '127.0.0.1:7443', '--spool-dir', join(home, 'spool')]);
      assert.equal(made.code, 0, made.stdout + made.stderr);

      const r = await cli('install', '--dry-run', '--config', config, '--listen', '0.0.0.0:9999');

      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^${config} exists: using it \\(--listen, --site-key and --spool-dir only make a new one`, 'm'));
      assert.ok(r.stdout.includes(`run: chown rounds:rounds ${home}/etc ${config} ${home}/etc/agent.crt ${home}/etc/agent.key`), r.stdout);
      assert.ok(r.stdout.includes(`run: chown -R rounds:rounds ${home}/spool`), r.stdout);
      assert.match(r.stdout, new RegExp(`^ {5}\\| ReadWritePaths=${home}/etc ${home}/spool$`, 'm'));
    });

    test('on a host without systemctl it exits 69 saying the host does not run systemd and what to do', async () => {
      const r = await runAs('root', '/usr/bin/env', ['PATH=/nonexistent', agent, 'service', 'status']);

      assert.equal(r.code, 69, r.stdout + r.stderr);
      assert.match(r.stderr, /systemctl was not found: this host does not run systemd — run `rounds-agent start --config …` under its own service manager/);
    });

    test('--log appends what it printed and why it failed to a file', async () => {
      const log = join(home, 'logs', 'service-install.log');
      // A config that does not exist (never the one another test made: install would go ahead).
      const missing = join(home, 'none', 'agent.yaml');

      const r = await cli('install', '--config', missing, '--log', log);

      assert.equal(r.code, 64, r.stdout + r.stderr);
      const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
      assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z rounds-agent service install$/);
      assert.match(lines.at(-1)!, new RegExp(`^\\S+ failed \\(exit 64\\): there is no agent config at ${missing}`));
    });

    test('install refuses a config under /tmp, which the unit would hide, with exit 64', async () => {
      const r = await cli('install', '--dry-run', '--config', '/tmp/rounds/agent.yaml', '--listen', '0.0.0.0:7443');

      assert.equal(r.code, 64);
      assert.match(r.stderr, /the config file \/tmp\/rounds\/agent\.yaml is under \/tmp, which the unit hides from the agent \(PrivateTmp=true\)/);
    });

    test('status, start and stop without the unit say it is not installed and how to install it', async () => {
      assert.ok(!unitExisted, `this host has ${UNIT_PATH}: run this spec where the agent is not installed as a service`);
      for (const command of ['status', 'start', 'stop']) {
        const r = await cli(command);

        assert.equal(r.code, 1, `${command}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /rounds-agent is not installed as a systemd service \(no \/etc\/systemd\/system\/rounds-agent\.service\)/);
      }
    });
  });

  describe('on Windows (WinSW), the .exe under wine64', () => {
    let wine: WinePrefix;
    const programFiles = () => join(wine.dir, 'prefix', 'drive_c', 'Program Files', 'Rounds');
    const programData = () => join(wine.dir, 'prefix', 'drive_c', 'ProgramData', 'Rounds');
    const exe = 'C:\\Program Files\\Rounds\\rounds-agent.exe';

    before(async () => {
      wine = await WinePrefix.create();
      mkdirSync(programFiles(), { recursive: true });
      copyFileSync(WINDOWS_BINARY, join(programFiles(), 'rounds-agent.exe'));
    });
    after(() => wine?.close());

    test('install --dry-run prints the WinSW definition for C:\\Program Files\\Rounds and writes the WinSW the .exe carries', async () => {
      const r = await wine.run(exe, ['service', 'install', '--dry-run', '--listen', '127.0.0.1:7443'], programFiles());

      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /^would create the config first: C:\\Program Files\\Rounds\\rounds-agent\.exe init --listen 127\.0\.0\.1:7443 --config C:\\ProgramData\\Rounds\\agent\.yaml\r?$/m,
      );
      assert.match(r.stdout, /^1\. write C:\\Program Files\\Rounds\\rounds-agent-service\.exe \(59392 bytes\) — the service wrapper/m);
      assert.match(r.stdout, /\| {3}<executable>C:\\Program Files\\Rounds\\rounds-agent\.exe<\/executable>\r?$/m);
      assert.match(r.stdout, /\| {3}<arguments>start --config C:\\ProgramData\\Rounds\\agent\.yaml<\/arguments>\r?$/m);
      assert.match(r.stdout, /run: "C:\\Program Files\\Rounds\\rounds-agent-service\.exe" install — register the service/);
      assert.ok(!existsSync(programData()), 'the dry run made the data folder');
    });

    test('install refuses an .exe outside Program Files with exit 64, naming where to copy it', async () => {
      const r = await wine.run(WINDOWS_BINARY, ['service', 'install', '--dry-run', '--listen', '127.0.0.1:7443']);

      assert.equal(r.code, 64, r.stdout + r.stderr);
      assert.match(r.stderr, /in a folder that users other than administrators may be able to change: copy the agent to C:\\Program Files\\Rounds/);
    });

    test('status says the service is not installed and how to install it', async () => {
      const r = await wine.run(exe, ['service', 'status'], programFiles());

      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /the rounds-agent service is not installed: install it with `rounds-agent service install --config C:\\ProgramData\\Rounds\\agent\.yaml` \(as administrator\), or with the MSI/,
      );
    });

    test('install makes the config and the enrolment file, then stops at WinSW naming the .NET Framework it needs (wine has none), in its log too', async () => {
      const r = await wine.run(
        exe,
        [
          'service',
          'install',
          '--listen',
          '127.0.0.1:7443',
          '--enrolment-file',
          'C:\\ProgramData\\Rounds\\enrolment.txt',
          '--log',
          'C:\\ProgramData\\Rounds\\logs\\service-install.log',
        ],
        programFiles(),
      );

      assert.equal(r.code, 1, r.stdout + r.stderr);
      for (const file of ['agent.yaml', 'agent.crt', 'agent.key']) assert.ok(existsSync(join(programData(), file)), `init did not write ${file}`);
      assert.match(readFileSync(join(programData(), 'enrolment.txt'), 'utf8'), /^rounds:\/\/[^@\s]+@[^:\s]+:7443\?fp=[0-9a-f]{64}\r?\n$/);
      assert.ok(existsSync(join(programFiles(), 'rounds-agent-service.xml')), 'no service definition written');
      assert.match(r.stderr, /rounds-agent-service\.exe could not load a DLL it needs — WinSW runs on the \.NET Framework 4 \(mscoree\.dll\)/);
      const log = readFileSync(join(programData(), 'logs', 'service-install.log'), 'utf8');
      assert.match(log, /creating the config: C:\\Program Files\\Rounds\\rounds-agent\.exe init --listen 127\.0\.0\.1:7443/);
      assert.match(log, /failed \(exit 1\): .*could not load a DLL it needs/);
      assert.ok(!log.includes('rounds://'), 'the enrolment string is in the install log');
    });
  });
});
