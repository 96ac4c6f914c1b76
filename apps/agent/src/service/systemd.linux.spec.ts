import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EX_USAGE, ServiceError, type InstallTarget, type ServiceStep } from './service-manager.js';
import { PACKAGE_UNIT, SystemdPlatform, UNIT_PATH, systemdUnit } from './systemd.linux.js';

const run = promisify(execFile);

const target = (over: Partial<InstallTarget> = {}): InstallTarget => ({
  program: { executable: '/usr/bin/node', leadingArgs: ['/opt/rounds/bin/rounds-agent.js'], programFile: '/opt/rounds/bin/rounds-agent.js' },
  configPath: '/etc/rounds/agent.yaml',
  spoolDir: '/var/lib/rounds/spool',
  tlsFiles: ['/etc/rounds/agent.crt', '/etc/rounds/agent.key'],
  start: true,
  ...over,
});
const host = { systemdVersion: 252, userExists: false, unitInstalled: false };
const installed = new SystemdPlatform({ ...host, userExists: true, unitInstalled: true });

const commands = (steps: ServiceStep[]): string[] =>
  steps.map((s) => (s.kind === 'run' ? [s.command, ...s.args].join(' ') : s.kind === 'await-stop' ? `await-stop ${s.service}` : `${s.kind} ${s.path}`));
const unitOf = (steps: ServiceStep[]): string => {
  const write = steps.find((s): s is Extract<ServiceStep, { kind: 'write' }> => s.kind === 'write' && s.path === UNIT_PATH);
  assert.ok(write && typeof write.content === 'string', 'no unit written');
  return write.content;
};
const refusal = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ServiceError && message.test(e.message) && e.exitCode === EX_USAGE);

describe('the systemd unit', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rounds-unit-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("systemd-analyze verify accepts the unit made for this host's node and script without a warning", async () => {
    const file = join(dir, 'rounds-agent.service');
    writeFileSync(
      file,
      systemdUnit({
        ...PACKAGE_UNIT,
        exec: [process.execPath, '/srv/rounds/bin/rounds-agent.js', 'start'],
        readWritePaths: ['/srv/rounds/etc', '/srv/rounds/spool'],
      }),
    );

    const { stdout, stderr } = await run('systemd-analyze', ['verify', file]);

    assert.equal(`${stdout}${stderr}`.trim(), '');
  });

  it('runs the agent as its user with no capabilities, a read-only system and only its folders writable', () => {
    const unit = systemdUnit({ ...PACKAGE_UNIT, user: 'rounds-agent', readWritePaths: ['/srv/a', '/srv/b'] });

    for (const line of [
      'User=rounds-agent',
      'Group=rounds-agent',
      'NoNewPrivileges=true',
      'CapabilityBoundingSet=',
      'AmbientCapabilities=',
      'ProtectSystem=strict',
      'ProtectHome=true',
      'PrivateTmp=true',
      'ReadWritePaths=/srv/a /srv/b',
      'Restart=on-failure',
      'KillSignal=SIGTERM',
    ]) {
      assert.ok(unit.split('\n').includes(line), `the unit lacks ${line}`);
    }
  });

  it('backs off between restarts on systemd 254 and later, and leaves RestartSteps out for 252, which does not know it', () => {
    const modern = systemdUnit({ ...PACKAGE_UNIT, systemdVersion: 255 });
    const debian12 = systemdUnit(PACKAGE_UNIT);

    assert.match(modern, /^RestartSteps=5$/m);
    assert.match(modern, /^RestartMaxDelaySec=5min$/m);
    assert.doesNotMatch(debian12, /^Restart(Steps|MaxDelaySec)=/m);
    assert.match(debian12, /^RestartSec=5s$/m);
  });

  it('refuses a path with a space or a % specifier, naming the characters it takes', () => {
    refusal(
      () => systemdUnit({ ...PACKAGE_UNIT, configPath: '/etc/my rounds/agent.yaml' }),
      /the config file "\/etc\/my rounds\/agent.yaml" is not a plain absolute path/,
    );
    refusal(
      () => systemdUnit({ ...PACKAGE_UNIT, readWritePaths: ['/var/lib/%n'] }),
      /the writable folder "\/var\/lib\/%n" is not a plain absolute path \(letters, digits/,
    );
  });
});

describe('SystemdPlatform', () => {
  it('install creates the user, the spool, hands the agent its files, writes the unit, enables and starts it — in that order', () => {
    const steps = new SystemdPlatform(host).install(target());

    assert.deepEqual(commands(steps), [
      'useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin rounds',
      'mkdir /var/lib/rounds/spool',
      'chown rounds:rounds /etc/rounds /etc/rounds/agent.yaml /etc/rounds/agent.crt /etc/rounds/agent.key',
      'chown -R rounds:rounds /var/lib/rounds/spool',
      `write ${UNIT_PATH}`,
      'systemctl daemon-reload',
      'systemctl enable rounds-agent',
      'systemctl restart rounds-agent',
    ]);
    const unit = unitOf(steps);
    assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/rounds\/bin\/rounds-agent\.js start$/m);
    assert.match(unit, /^Environment=ROUNDS_AGENT_CONFIG=\/etc\/rounds\/agent\.yaml$/m);
    assert.match(unit, /^ReadWritePaths=\/etc\/rounds \/var\/lib\/rounds\/spool$/m);
  });

  it('install runs the single-file agent itself, makes only the config folder writable when the spool is inside it, and starts nothing with --no-start', () => {
    const steps = new SystemdPlatform({ ...host, userExists: true }).install(
      target({
        program: { executable: '/usr/local/bin/rounds-agent', leadingArgs: [], programFile: '/usr/local/bin/rounds-agent' },
        spoolDir: '/etc/rounds/spool',
        start: false,
      }),
    );

    const unit = unitOf(steps);
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/rounds-agent start$/m);
    assert.match(unit, /^ReadWritePaths=\/etc\/rounds$/m);
    assert.ok(!commands(steps).some((c) => c.startsWith('useradd')), 'useradd for an existing user');
    assert.ok(!commands(steps).some((c) => c.includes('restart')), 'started despite --no-start');
  });

  it('install refuses a program under /home, which ProtectHome hides, saying where to install it', () => {
    refusal(
      () =>
        new SystemdPlatform(host).install(
          target({ program: { executable: '/home/ana/rounds-agent', leadingArgs: [], programFile: '/home/ana/rounds-agent' } }),
        ),
      /the agent program \/home\/ana\/rounds-agent is under \/home, which the unit hides from the agent \(ProtectHome=true\): install the agent under \/opt\/rounds or \/usr\/local\/bin/,
    );
  });

  it('install refuses a spool under /tmp, which PrivateTmp replaces', () => {
    refusal(
      () => new SystemdPlatform(host).install(target({ spoolDir: '/tmp/spool' })),
      /the spool folder \/tmp\/spool is under \/tmp, which the unit hides from the agent \(PrivateTmp=true\)/,
    );
  });

  it('install refuses a config straight in /etc: the service would own a folder other software shares', () => {
    refusal(
      () => new SystemdPlatform(host).install(target({ configPath: '/etc/agent.yaml' })),
      /the config folder \/etc is shared with other software.*give the agent a folder of its own/,
    );
  });

  it('install refuses a config folder that holds the agent program, which the agent could then rewrite', () => {
    refusal(
      () => new SystemdPlatform(host).install(target({ configPath: '/opt/rounds/agent.yaml' })),
      /the config folder \/opt\/rounds holds the agent program \/opt\/rounds\/bin\/rounds-agent\.js: the agent could rewrite the program it runs/,
    );
  });

  it('refuses root or a malformed name as the user', () => {
    refusal(() => new SystemdPlatform(host, 'root'), /--user "root": the agent runs as an unprivileged system user/);
    refusal(() => new SystemdPlatform(host, 'Rounds Agent'), /--user "Rounds Agent"/);
  });

  it('uninstall stops and disables the unit, removes it and reloads systemd', () => {
    assert.deepEqual(commands(installed.uninstall()), ['systemctl disable --now rounds-agent', `remove ${UNIT_PATH}`, 'systemctl daemon-reload']);
  });

  it('start, stop and status drive systemctl; status takes exit code 3 (not running) as an answer', () => {
    assert.deepEqual(commands(installed.start()), ['systemctl start rounds-agent']);
    assert.deepEqual(commands(installed.stop()), ['systemctl stop rounds-agent']);
    const [status] = installed.status();
    assert.ok(status?.kind === 'run' && status.show === true);
    assert.deepEqual(status.ok, [0, 3]);
  });

  it('uninstall, start, stop and status on a host without the unit say so and how to install it', () => {
    const missing = new SystemdPlatform(host);
    for (const command of ['uninstall', 'start', 'stop', 'status'] as const) {
      assert.throws(
        () => missing[command](),
        /rounds-agent is not installed as a systemd service \(no \/etc\/systemd\/system\/rounds-agent\.service\): install it with `sudo rounds-agent service install/,
      );
    }
  });
});
