import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { closeServer, closedPort, configErrors, listenLocal, metric, runCheck } from '../testing/harness.js';
import { runPlugin } from '../runner.js';
import type { Plugin } from '../plugin.js';
import { createNagiosPlugin, MAX_OUTPUT_BYTES, type NagiosCommands } from './nagios.plugin.js';

const PLUGINS = '/usr/lib/nagios/plugins';
const PACKAGE_OF: Record<string, string> = {
  check_dummy: 'monitoring-plugins-basic',
  check_tcp: 'monitoring-plugins-basic',
  check_disk: 'monitoring-plugins-basic',
  check_load: 'monitoring-plugins-basic',
  check_http: 'monitoring-plugins-basic',
  check_curl: 'monitoring-plugins-basic (with liburiparser1 and libcurl4)',
};

/** The real plugins are a required peer: a missing one fails the test and names the apt package. */
function requireReal(name: keyof typeof PACKAGE_OF): void {
  const file = path.join(PLUGINS, name);
  assert.ok(existsSync(file), `${file} is missing: install it with \`apt-get install ${PACKAGE_OF[name]}\` (these tests never skip)`);
}

function real(name: keyof typeof PACKAGE_OF): string {
  return path.join(PLUGINS, name);
}

let dir: string;
let nagios: Plugin;

async function script(name: string, body: string, mode = 0o755): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, mode);
  return file;
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // an orphan whose reaper is slow lingers as a zombie: dead all the same
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rounds-nagios-'));
  const commands: NagiosCommands = {
    check_dummy: { path: real('check_dummy'), args: ['$ARG1$', '$ARG2$'] },
    check_dummy_spaces: { path: real('check_dummy'), args: ['0', 'hello world; echo $(id) && rm -rf /'] },
    check_tcp: { path: real('check_tcp'), args: ['-H', '127.0.0.1', '-p', '$ARG1$'] },
    check_http: { path: real('check_http'), args: ['-H', '127.0.0.1', '-p', '$ARG1$', '-u', '$ARG2$'] },
    check_curl: { path: real('check_curl'), args: ['-H', '127.0.0.1', '-p', '$ARG1$', '-u', '$ARG2$'] },
    check_disk: { path: real('check_disk'), args: ['-w', '$ARG1$', '-c', '$ARG2$', '-p', '$ARG3$'] },
    check_load: { path: real('check_load'), args: ['-w', '$ARG1$', '-c', '$ARG2$'] },
    sleeper: {
      path: await script('sleeper.sh', `sleep 30 &\necho "$$ $!" > "$1"\necho started\nsleep 30`),
      args: ['$ARG1$'],
    },
    leaver: {
      // exits at once, leaving a child that holds its stdout for 30 s
      path: await script('leaver.sh', `sleep 30 &\necho "$!" > "$1"\necho "OK - backed up|files=3;;;;"\nexit 0`),
      args: ['$ARG1$'],
    },
    garbage: {
      path: await script('garbage.sh', `printf '\\001\\002\\377\\376 OK?\\033[31m red\\n| x= y=;; =3 \\047unterminated=1\\n'\nexit 0`),
    },
    exit127: { path: await script('exit127.sh', 'no_such_program_rounds_test') },
    exit4: { path: await script('exit4.sh', 'echo "not a nagios plugin"\nexit 4') },
    killed: { path: await script('killed.sh', 'echo dying\nkill -SEGV $$') },
    flood: { path: await script('flood.sh', `head -c 200000 /dev/zero | tr '\\0' x\nexit 0`) },
    silent: { path: await script('silent.sh', 'echo "something broke" >&2\nexit 3') },
    multiline: {
      path: await script(
        'multiline.sh',
        [
          `echo "APP OK - 3 queues | 'queue wait'=250ms;500;1000;0; size=2KB"`,
          `echo "queue a: 1"`,
          `echo "queue b: 2 | used=93%;80;90;0;100"`,
          `echo "jobs=17c"`,
          'exit 0',
        ].join('\n'),
      ),
    },
    missing: { path: path.join(os.tmpdir(), 'rounds-no-such-dir', 'check_nothing') },
    not_executable: { path: await script('noexec.sh', 'exit 0', 0o644) },
  };
  nagios = createNagiosPlugin(commands) as Plugin;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('monitoring-plugins peer', () => {
  it(`has every plugin these tests run installed in ${PLUGINS}`, () => {
    for (const name of Object.keys(PACKAGE_OF) as (keyof typeof PACKAGE_OF)[]) requireReal(name);
  });
});

describe('nagios plugin against check_dummy', () => {
  const expected = [
    ['0', 'OK', 'ok', 'OK: all_good'],
    ['1', 'WARNING', 'threshold', 'WARNING: all_good'],
    ['2', 'CRITICAL', 'threshold', 'CRITICAL: all_good'],
    ['3', 'UNKNOWN', 'plugin_error', 'UNKNOWN: all_good'],
  ] as const;
  for (const [code, status, reason, summary] of expected) {
    it(`run() maps exit code ${code} to ${status} with reason=${reason} and the plugin's text as summary`, async () => {
      requireReal('check_dummy');
      const report = await runCheck(nagios, { command: 'check_dummy', args: [code, 'all_good'] });
      assert.deepEqual({ status: report.outcome.status, reason: report.outcome.reason, summary: report.outcome.summary }, { status, reason, summary });
      assert.equal(metric(report, 'exit_code'), Number(code));
      assert.ok(metric(report, 'execution_seconds') >= 0);
    });
  }

  it('run() passes each template element as one argv entry, without a shell', async () => {
    // the template's second element holds spaces and shell syntax; a shell would split or run it
    requireReal('check_dummy');
    const report = await runCheck(nagios, { command: 'check_dummy_spaces' });
    assert.equal(report.outcome.summary, 'OK: hello world; echo $(id) && rm -rf /');
  });
});

describe('nagios plugin against check_tcp', () => {
  it('run() returns OK with the connect time as perfdata_seconds when the port accepts', async () => {
    requireReal('check_tcp');
    const server = net.createServer((socket) => socket.end());
    const port = await listenLocal(server);
    try {
      const report = await runCheck(nagios, { command: 'check_tcp', args: [String(port)] });
      assert.equal(report.outcome.status, 'OK', report.outcome.summary);
      assert.match(report.outcome.summary, /^TCP OK - [\d.]+ second response time on 127\.0\.0\.1 port \d+$/);
      const seconds = metric(report, 'perfdata_seconds', { label: 'time' });
      assert.ok(seconds >= 0 && seconds < 5, `time=${seconds}`);
    } finally {
      await closeServer(server);
    }
  });

  it('run() returns CRITICAL with reason=threshold and the refusal in the summary when the port is closed', async () => {
    requireReal('check_tcp');
    const report = await runCheck(nagios, { command: 'check_tcp', args: [String(await closedPort())] });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, /Connection refused/);
  });
});

describe('nagios plugin against check_http and check_curl', () => {
  let server: http.Server;
  let port: number;
  before(async () => {
    server = http.createServer((req, res) => {
      res.statusCode = req.url === '/health' ? 200 : 500;
      res.end(req.url === '/health' ? 'healthy' : 'broken');
    });
    port = await listenLocal(server);
  });
  after(() => closeServer(server));

  for (const command of ['check_http', 'check_curl'] as const) {
    it(`${command}: run() returns OK with response time and size metrics for a 200`, async () => {
      requireReal(command);
      const report = await runCheck(nagios, { command, args: [String(port), '/health'] });
      assert.equal(report.outcome.status, 'OK', report.outcome.summary);
      assert.match(report.outcome.summary, /^HTTP OK: HTTP\/1\.1 200 OK/);
      assert.ok(metric(report, 'perfdata_seconds', { label: 'time' }) >= 0);
      assert.ok(metric(report, 'perfdata_bytes', { label: 'size' }) > 0);
    });

    it(`${command}: run() returns CRITICAL for a 500`, async () => {
      requireReal(command);
      const report = await runCheck(nagios, { command, args: [String(port), '/broken'] });
      assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
      assert.match(report.outcome.summary, /500/);
    });
  }
});

describe('nagios plugin against check_disk and check_load', () => {
  it('check_disk: run() reports the bytes used on / as perfdata_bytes, matching statfs', async () => {
    requireReal('check_disk');
    const report = await runCheck(nagios, { command: 'check_disk', args: ['1%', '1%', '/'] });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    const st = statfsSync('/');
    const used = (st.blocks - st.bfree) * st.bsize;
    const reported = metric(report, 'perfdata_bytes', { label: '/' });
    assert.ok(Math.abs(reported - used) < 256 * 1024 ** 2, `check_disk said ${reported} B used, statfs ${used} B`);
  });

  it('check_load: run() reports load1/5/15 as unitless perfdata close to os.loadavg()', async () => {
    requireReal('check_load');
    const report = await runCheck(nagios, { command: 'check_load', args: ['1000,1000,1000', '2000,2000,2000'] });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    const [l1] = os.loadavg();
    assert.ok(Math.abs(metric(report, 'perfdata', { label: 'load1' }) - l1!) < 1, 'load1 close to os.loadavg()');
    metric(report, 'perfdata', { label: 'load5' });
    metric(report, 'perfdata', { label: 'load15' });
  });

  it("check_load: run() returns CRITICAL when the plugin's own threshold is crossed", async () => {
    requireReal('check_load');
    const report = await runCheck(nagios, { command: 'check_load', args: ['0,0,0', '0,0,0'] });
    // a load of exactly 0.00 is possible on an idle machine; anything above is critical
    assert.ok(['CRITICAL', 'OK'].includes(report.outcome.status));
    if (metric(report, 'perfdata', { label: 'load1' }) > 0) assert.equal(report.outcome.status, 'CRITICAL');
  });
});

describe('nagios plugin with misbehaving plugins', () => {
  it('run() returns CRITICAL with reason=timeout at the deadline and kills the whole process tree', async () => {
    const pidFile = path.join(dir, 'sleeper.pids');
    const started = Date.now();
    const report = await runCheck(nagios, { command: 'sleeper', args: [pidFile] }, { timeoutMs: 1000 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.cutOff, false, 'the plugin returned by itself at its deadline');
    assert.match(report.outcome.summary, /^sleeper did not finish before its deadline; its process tree was killed \(it had printed: started\)$/);
    assert.ok(Date.now() - started < 1500, 'returned within the runner grace');
    const pids = (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
    assert.equal(pids.length, 2);
    for (let i = 0; i < 50 && !pids.every(isGone); i++) await new Promise((r) => setTimeout(r, 20));
    for (const pid of pids) assert.ok(isGone(pid), `process ${pid} still runs after the deadline`);
  });

  it('run() ends the check when the plugin exits though a background child still holds its stdout, and kills that child', async () => {
    const pidFile = path.join(dir, 'leaver.pid');
    const started = Date.now();
    const report = await runCheck(nagios, { command: 'leaver', args: [pidFile] }, { timeoutMs: 10_000 });
    const took = Date.now() - started;
    assert.equal(report.outcome.status, 'OK');
    assert.equal(report.outcome.summary, 'OK - backed up');
    assert.equal(metric(report, 'perfdata', { label: 'files' }), 3);
    assert.ok(took < 3000, `the check waited ${took} ms for the left-over child`);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    for (let i = 0; i < 50 && !isGone(pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(isGone(pid), `the background child ${pid} outlived its check`);
  });

  it('run() keeps the exit code of a plugin that prints garbage, with control characters removed and bad perfdata dropped', async () => {
    const warnings: string[] = [];
    const validated = nagios.configSchema.parse({ command: 'garbage' });
    const report = await runPlugin(nagios, validated, { timeoutMs: 5000, log: { debug: () => {}, warn: (m) => warnings.push(m) } });
    assert.equal(report.outcome.status, 'OK');
    assert.equal(report.outcome.summary, 'OK? [31m red');
    assert.deepEqual(report.outcome.metrics.map((m) => m.name).sort(), ['execution_seconds', 'exit_code']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^garbage: perfdata "x": value "" is not a number/);
  });

  it('run() returns UNKNOWN with reason=config_error when the plugin exits 127 (command not found)', async () => {
    const report = await runCheck(nagios, { command: 'exit127' });
    assert.equal(report.outcome.status, 'UNKNOWN');
    assert.equal(report.outcome.reason, 'config_error');
    assert.match(report.outcome.summary, /^exit127 exited with 127 \(command not found/);
    assert.equal(metric(report, 'exit_code'), 127);
  });

  it('run() returns UNKNOWN with reason=unexpected_response for an exit code outside 0–3', async () => {
    const report = await runCheck(nagios, { command: 'exit4' });
    assert.deepEqual(
      [report.outcome.status, report.outcome.reason, report.outcome.summary],
      ['UNKNOWN', 'unexpected_response', "exit4 exited with 4, outside Nagios' 0–3: not a nagios plugin"],
    );
  });

  it('run() returns UNKNOWN with reason=plugin_error when the plugin dies from a signal', async () => {
    const report = await runCheck(nagios, { command: 'killed' });
    assert.deepEqual(
      [report.outcome.status, report.outcome.reason, report.outcome.summary],
      ['UNKNOWN', 'plugin_error', 'killed was killed by SIGSEGV: dying'],
    );
  });

  it('run() shows stderr when a plugin prints nothing on stdout', async () => {
    const report = await runCheck(nagios, { command: 'silent' });
    assert.deepEqual([report.outcome.status, report.outcome.summary], ['UNKNOWN', '(no output; stderr: something broke)']);
  });

  it(`run() keeps at most ${MAX_OUTPUT_BYTES} bytes of output and says it cut the rest`, async () => {
    const report = await runCheck(nagios, { command: 'flood' });
    assert.equal(report.outcome.status, 'OK');
    assert.match(report.outcome.summary, /^x{399}… \[output cut at 64 KiB\]$/);
  });

  it('run() returns UNKNOWN with reason=config_error naming the apt packages when the executable does not exist', async () => {
    const report = await runCheck(nagios, { command: 'missing' });
    assert.equal(report.outcome.reason, 'config_error');
    assert.equal(
      report.outcome.summary,
      `${path.join(os.tmpdir(), 'rounds-no-such-dir', 'check_nothing')} does not exist — install the plugin (Debian: monitoring-plugins-basic / monitoring-plugins-standard) or fix nagios.commands.missing.path in the agent config`,
    );
  });

  it('run() returns UNKNOWN with reason=config_error when the file is not executable', async () => {
    const report = await runCheck(nagios, { command: 'not_executable' });
    assert.equal(report.outcome.reason, 'config_error');
    assert.match(report.outcome.summary, /cannot be executed by the agent \(permission denied\)/);
  });
});

describe('nagios plugin output parsing', () => {
  it('run() turns perfdata from the first line and from later lines after a second | into metrics in base units', async () => {
    const debug: string[] = [];
    const report = await runPlugin(nagios, nagios.configSchema.parse({ command: 'multiline' }), {
      timeoutMs: 5000,
      log: { debug: (m) => debug.push(m), warn: () => {} },
    });
    assert.equal(report.outcome.summary, 'APP OK - 3 queues');
    assert.equal(metric(report, 'perfdata_seconds', { label: 'queue wait' }), 0.25);
    assert.equal(metric(report, 'perfdata_bytes', { label: 'size' }), 2048);
    assert.equal(metric(report, 'perfdata_percent', { label: 'used' }), 93);
    assert.equal(metric(report, 'perfdata_total', { label: 'jobs' }), 17);
    assert.deepEqual(
      report.outcome.metrics.filter((m) => m.name.startsWith('perfdata')).map((m) => m.unit),
      ['seconds', 'bytes', 'percent', 'counter'],
    );
    assert.deepEqual(debug, ['multiline long output:\nqueue a: 1\nqueue b: 2 ']);
  });
});

describe('nagios check config', () => {
  const fixtures: [string, unknown, string][] = [
    [
      'a command outside the allow-list',
      { command: 'check_evil' },
      'command: "check_evil" is not in the agent\'s nagios.commands allow-list (this agent allows: check_curl, check_disk, check_dummy, check_dummy_spaces, check_http, check_load, check_tcp, exit127, exit4, flood, garbage, killed, leaver, missing, multiline, not_executable, silent, sleeper) — add it to the agent config to use it',
    ],
    ['too many args', { command: 'check_tcp', args: ['80', '81'] }, 'args: command "check_tcp" takes exactly 1 args ($ARG1$…$ARG1$), got 2'],
    ['too few args', { command: 'check_disk', args: ['10%'] }, 'args: command "check_disk" takes exactly 3 args ($ARG1$…$ARG3$), got 1'],
    ['args for a command without macros', { command: 'garbage', args: ['x'] }, 'args: command "garbage" takes no args, got 1'],
    [
      'an arg with a space',
      { command: 'check_tcp', args: ['80 -v'] },
      'args.0: may only contain letters, digits and _ . , : @ % / = + ~ - (no spaces, quotes or shell characters)',
    ],
    [
      'an arg with shell characters',
      { command: 'check_tcp', args: ['80;reboot'] },
      'args.0: may only contain letters, digits and _ . , : @ % / = + ~ - (no spaces, quotes or shell characters)',
    ],
    [
      'an arg that looks like an option',
      { command: 'check_tcp', args: ['--help'] },
      'args.0: "--help" starts with "-" and could be read as an option; set allowDashArgs: true on command "check_tcp" in the agent config to accept it',
    ],
    ['an unknown field', { command: 'check_tcp', args: ['80'], shell: true }, 'shell: unknown field'],
    ['a missing command', { args: [] }, 'command: Invalid input: expected string, received undefined'],
  ];
  for (const [what, config, message] of fixtures) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(nagios, config), message);
    });
  }

  it('accepts an allowed command with exactly the args its template uses', () => {
    assert.equal(configErrors(nagios, { command: 'check_disk', args: ['10%', '5%', '/'] }), '');
    assert.equal(configErrors(nagios, { command: 'check_dummy', args: ['0', '@1:2,~:5'] }), '');
  });

  it('does not treat Object prototype names as allowed commands', () => {
    assert.match(configErrors(nagios, { command: 'constructor' }), /^command: "constructor" is not in the agent's nagios.commands allow-list/);
  });
});

describe("nagios commands in the agent's config", () => {
  const refused: [string, NagiosCommands, string][] = [
    [
      'a relative executable path',
      { c: { path: 'check_disk' } },
      'invalid nagios commands in the agent config: c.path: must be an absolute path to the executable (e.g. /usr/lib/nagios/plugins/check_disk); no PATH lookup is done',
    ],
    [
      'a macro other than $ARGn$',
      { c: { path: '/bin/true', args: ['-H', '$HOSTADDRESS$'] } },
      "invalid nagios commands in the agent config: c.args.1: macro $HOSTADDRESS$ is not supported: only $ARG1$…$ARGn$ (the check's args) are substituted",
    ],
    [
      'a gap in the macro numbers',
      { c: { path: '/bin/true', args: ['$ARG1$', '$ARG3$'] } },
      'invalid nagios commands in the agent config: c.args: uses $ARG3$ but not $ARG2$: number the macros $ARG1$…$ARG2$ without gaps',
    ],
    [
      'an unknown field',
      { c: { path: '/bin/true', shell: true } as unknown as NagiosCommands[string] },
      'invalid nagios commands in the agent config: c: unknown field(s) shell',
    ],
    [
      'a command name with spaces',
      { 'check disk': { path: '/bin/true' } },
      'invalid nagios commands in the agent config: check disk: command names may use letters, digits, _ . - (at most 64)',
    ],
  ];
  for (const [what, commands, message] of refused) {
    it(`createNagiosPlugin refuses ${what}`, () => {
      assert.throws(() => createNagiosPlugin(commands), { message });
    });
  }

  it('createNagiosPlugin accepts Windows absolute paths', () => {
    assert.doesNotThrow(() => createNagiosPlugin({ c: { path: 'C:\\Program Files\\plugins\\check_x.exe' }, u: { path: '\\\\srv\\share\\check.exe' } }));
  });
});

describe('nagios samples', () => {
  // specs run from dist/; the samples stay in the source tree
  const read = (name: string): unknown => parseYaml(readFileSync(new URL(`../../../../../libs/plugins/src/nagios/${name}`, import.meta.url), 'utf8'));

  it('sample.agent.yaml is a valid allow-list and sample.yaml a valid check against it', () => {
    const plugin = createNagiosPlugin(read('sample.agent.yaml') as NagiosCommands) as Plugin;
    assert.equal(configErrors(plugin, read('sample.yaml')), '');
  });
});
