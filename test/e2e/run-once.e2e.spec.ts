import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { FIXTURES, freePort, runBin, tempDir } from './harness.js';

const CHECK_DUMMY = '/usr/lib/nagios/plugins/check_dummy';

/**
 * `rounds-agent run-once` as an operator uses it on site: a check config in a YAML file,
 * the result printed, and a Nagios exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
 */
describe('rounds-agent run-once', { timeout: 120_000 }, () => {
  let dir: string;
  let target: Server;
  let targetPort = 0;
  let n = 0;

  /** Writes a check config file and returns its path. */
  const checkConfig = (yaml: string): string => {
    const path = join(dir, `check-${++n}.yaml`);
    writeFileSync(path, yaml);
    return path;
  };

  before(async () => {
    dir = tempDir('run-once');
    target = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => target.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a tcp check against a listening port exits 0 and prints OK with its metrics', async () => {
    const config = checkConfig(`host: 127.0.0.1\nport: ${targetPort}\n`);

    const { code, output } = await runBin('rounds-agent', ['run-once', 'tcp', '--config', config]);

    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`^OK \\(ok\\) connected to 127\\.0\\.0\\.1:${targetPort} in \\d+ ms$`, 'm'));
    assert.match(output, /^took \d+ ms$/m);
    assert.match(output, /^ {2}connect_seconds = [\d.e-]+ seconds$/m);
    assert.match(output, /^ {2}total_seconds = [\d.e-]+ seconds$/m);
  });

  test('a tcp check against a closed port exits 2 and prints CRITICAL with reason refused', async () => {
    const config = checkConfig(`host: 127.0.0.1\nport: ${await freePort()}\n`);

    const { code, output } = await runBin('rounds-agent', ['run-once', 'tcp', '--config', config]);

    assert.equal(code, 2, output);
    assert.match(output, /^CRITICAL \(refused\) connection to 127\.0\.0\.1:\d+ refused/m);
  });

  test('an invalid config exits 3 and names every bad field without running the check', async () => {
    const config = checkConfig('host: 127.0.0.1\nport: 99999\nbogus: 1\n');

    const { code, output } = await runBin('rounds-agent', ['run-once', 'tcp', '--config', config]);

    assert.equal(code, 3, output);
    assert.ok(output.includes(`UNKNOWN: ${config} is not a valid tcp config: `), `expected the file and plugin to be named, got: ${output}`);
    assert.match(output, /port: Too big: expected number to be <=65535/);
    assert.match(output, /bogus: unknown field/);
    assert.doesNotMatch(output, /^took /m, 'an invalid config must not be run');
  });

  test('an unknown plugin exits 3 and lists the plugins this agent has', async () => {
    const config = checkConfig(`host: 127.0.0.1\nport: ${targetPort}\n`);

    const { code, output } = await runBin('rounds-agent', ['run-once', 'telnet', '--config', config]);

    assert.equal(code, 3, output);
    assert.match(output, /^UNKNOWN: no plugin "telnet" — this agent has: (.+)$/m);
    const known = /this agent has: (.+)$/m.exec(output)![1]!.split(', ');
    for (const name of ['dicom-echo', 'host-metrics', 'http', 'nagios', 'orthanc', 'smb-share', 'tcp']) {
      assert.ok(known.includes(name), `${name} missing from "${known.join(', ')}"`);
    }
  });

  describe('nagios', () => {
    let agentConfig: string;
    const dummyCheck = () => checkConfig('command: check_dummy\nargs: ["1", "warn-text"]\n');

    before(async () => {
      assert.ok(existsSync(CHECK_DUMMY), `${CHECK_DUMMY} is missing: install monitoring-plugins (test/install-peers.sh does)`);
      agentConfig = join(dir, 'agent', 'agent.yaml');
      const init = await runBin('rounds-agent', ['init', '--config', agentConfig, '--listen', '127.0.0.1:7443']);
      assert.equal(init.code, 0, init.output);
      appendFileSync(
        agentConfig,
        ['nagios:', '  commands:', '    check_dummy:', `      path: ${CHECK_DUMMY}`, '      args: ["$ARG1$", "$ARG2$"]', ''].join('\n'),
      );
    });

    test('with --agent-config allowing check_dummy, its WARNING exits 1 with the plugin text', async () => {
      const { code, output } = await runBin('rounds-agent', ['run-once', 'nagios', '--config', dummyCheck(), '--agent-config', agentConfig]);

      assert.equal(code, 1, output);
      assert.match(output, /^WARNING \(threshold\) .*warn-text/m);
      assert.match(output, /^ {2}exit_code = 1\b/m);
    });

    test('without --agent-config the command is refused as not in the allow-list and exits 3', async () => {
      const { code, output } = await runBin('rounds-agent', ['run-once', 'nagios', '--config', dummyCheck()]);

      assert.equal(code, 3, output);
      assert.match(output, /command: "check_dummy" is not in the agent's nagios\.commands allow-list \(this agent allows none\)/);
      assert.doesNotMatch(output, /^WARNING/m);
    });
  });

  describe('custom plugins named by --agent-config', () => {
    let agentConfig: string;

    before(async () => {
      agentConfig = join(dir, 'custom', 'agent.yaml');
      const init = await runBin('rounds-agent', ['init', '--config', agentConfig, '--listen', '127.0.0.1:7443']);
      assert.equal(init.code, 0, init.output);
      appendFileSync(agentConfig, `plugins:\n  dir: ${join(FIXTURES, 'plugins')}\n`);
    });

    test('runs a custom plugin in its worker as the agent would, printing its result and exiting 0', async () => {
      const { code, output } = await runBin('rounds-agent', [
        'run-once',
        'fixture-queue',
        '--config',
        checkConfig('queue: outbound\ndepth: 4\n'),
        '--agent-config',
        agentConfig,
      ]);

      assert.equal(code, 0, output);
      assert.match(output, /^OK \(ok\) 4 messages waiting in outbound, the oldest for 1\.5 s$/m);
      assert.match(output, /^ {2}depth\{queue="outbound"\} = 4 count$/m);
    });

    test('ends a busy-looping custom plugin at its deadline with UNKNOWN and exit code 3', async () => {
      const { code, output } = await runBin('rounds-agent', [
        'run-once',
        'fixture-busy-loop',
        '--config',
        checkConfig('{}\n'),
        '--agent-config',
        agentConfig,
        '--timeout',
        '500',
      ]);

      assert.equal(code, 3, output);
      assert.match(output, /^UNKNOWN \(plugin_error\) plugin fixture-busy-loop was terminated after its 0\.5 s deadline: its worker did not answer/m);
    });
  });
});
