import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { FIXTURES, freePort, runBin, tempDir } from './harness.js';
import { startOrthanc, type Orthanc } from '../peers/orthanc.js';
import { makeInstance, storeInstance } from '../peers/dicom-files.js';
import { startStoreScp, type StoreScp } from '../peers/storescp.js';
import { startWorklistScp, type WorklistScp } from '../peers/wlmscpfs.js';
import { startHl7Listener, type Hl7Listener } from '../peers/hl7.js';

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

  /**
   * Each plugin of the imaging pack as an operator tries it on site, against the real server it
   * checks: the built CLI loads the plugin, validates the YAML and prints the outcome and metrics.
   */
  describe('the imaging check pack against its real peers', () => {
    let orthanc: Orthanc;
    let storescp: StoreScp;
    let worklist: WorklistScp;
    let hl7: Hl7Listener;
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const orthancAuth = () => `url: ${orthanc.url}\nusername: ${orthanc.username}\npassword: ${orthanc.password}\n`;
    const runOnce = (plugin: string, yaml: string) => runBin('rounds-agent', ['run-once', plugin, '--config', checkConfig(yaml)]);

    before(async () => {
      [orthanc, storescp, worklist, hl7] = await Promise.all([
        startOrthanc({ aet: 'ORTHANC', checkCalledAet: true, dicomWeb: true }),
        startStoreScp({ aet: 'STORESCP' }),
        startWorklistScp(),
        startHl7Listener(),
      ]);
      await storeInstance(orthanc, (await makeInstance({ PatientID: 'QA-PHANTOM', PatientName: 'QA^PHANTOM' })).file);
      await worklist.addItems('RIS_MWL', [
        { station: 'CT_NORTH', modality: 'CT', date: today },
        { station: 'CT_NORTH', modality: 'CT', date: today, time: '100000' },
      ]);
    });
    after(async () => {
      await Promise.all([orthanc?.stop(), storescp?.stop(), worklist?.stop(), hl7?.stop()]);
    });

    test('dicom-store stores, finds and deletes its test image in Orthanc, exits 0 and never prints the cleanup password', async () => {
      const { code, output } = await runOnce(
        'dicom-store',
        `host: 127.0.0.1\nport: ${orthanc.dicomPort}\ncalledAet: ORTHANC\ncleanup:\n  ${orthancAuth().trimEnd().replace(/\n/g, '\n  ')}\n`,
      );

      assert.equal(code, 0, output);
      assert.match(
        output,
        /^OK \(ok\) C-STORE of test study (\S+) \(patient ROUNDS-TEST\) to ORTHANC@127\.0\.0\.1:\d+ succeeded in .*; findable by C-FIND after .*; test study deleted through Orthanc$/m,
      );
      for (const name of ['store_seconds', 'findable_seconds']) assert.match(output, new RegExp(`^ {2}${name} = [\\d.e-]+ seconds$`, 'm'));
      assert.match(output, /^ {2}cleanup_success = 1 $/m);
      assert.ok(!output.includes(orthanc.password), 'the password stays out of what run-once prints');
      const left = await orthanc.rest('POST', '/tools/find', { Level: 'Study', Query: { PatientID: 'ROUNDS-TEST' } });
      assert.deepEqual(left.body, [], 'the test study was deleted');
    });

    test("dicom-store stores on dcmtk's storescp with find.enabled: false and exits 0; a wrong called AE title at Orthanc exits 2 saying what to check", async () => {
      const stored = await runOnce('dicom-store', `host: 127.0.0.1\nport: ${storescp.port}\ncalledAet: STORESCP\nfind:\n  enabled: false\n`);
      assert.equal(stored.code, 0, stored.output);
      assert.match(stored.output, /^OK \(ok\) C-STORE of test study \S+ \(patient ROUNDS-TEST\) to STORESCP@127\.0\.0\.1:\d+ succeeded in /m);

      const rejected = await runOnce('dicom-store', `host: 127.0.0.1\nport: ${orthanc.dicomPort}\ncalledAet: NOT-ORTHANC\n`);
      assert.equal(rejected.code, 2, rejected.output);
      assert.match(rejected.output, /^CRITICAL \(association_rejected\) NOT-ORTHANC@127\.0\.0\.1:\d+: .*called AE title not recognized .* check calledAet/m);
    });

    test('dicom-worklist counts the items wlmscpfs has scheduled today for a station and exits 0; too few exits 1', async () => {
      const config = `host: 127.0.0.1\nport: ${worklist.port}\ncalledAet: RIS_MWL\nscheduledStationAet: CT_NORTH\nscheduledDate: "${today}"\n`;
      const ok = await runOnce('dicom-worklist', config);
      assert.equal(ok.code, 0, ok.output);
      assert.match(ok.output, new RegExp(`^OK \\(ok\\) worklist RIS_MWL@127\\.0\\.0\\.1:\\d+: 2 items scheduled for ${today} on station CT_NORTH`, 'm'));
      assert.match(ok.output, /^ {2}scheduled_items = 2 count$/m);

      const short = await runOnce('dicom-worklist', `${config}warningBelow: 3\n`);
      assert.equal(short.code, 1, short.output);
      assert.match(short.output, /^WARNING \(threshold\) .*2 items scheduled .* fewer than 3/m);
    });

    test("hl7-mllp gets python-hl7's AA for its message and exits 0; an AR exits 2 with the error in words", async () => {
      const accepted = await runOnce('hl7-mllp', `host: 127.0.0.1\nport: ${hl7.port}\n`);
      assert.equal(accepted.code, 0, accepted.output);
      assert.match(accepted.output, /^OK \(ok\) MLLP 127\.0\.0\.1:\d+ answered AA \(application accept\) to NMD\^N02 R[0-9A-F]{16} in \d+ ms/m);
      assert.match(accepted.output, /^ {2}ack_seconds = [\d.e-]+ seconds$/m);

      const rejected = await runOnce('hl7-mllp', `host: 127.0.0.1\nport: ${hl7.port}\nreceivingApplication: ACK_AR\n`);
      assert.equal(rejected.code, 2, rejected.output);
      assert.match(rejected.output, /^CRITICAL \(unexpected_response\) .*answered AR \(application reject\)/m);
    });

    test("dicomweb searches Orthanc's DICOMweb with QIDO-RS, reads the study's WADO-RS metadata and exits 0", async () => {
      const { code, output } = await runOnce(
        'dicomweb',
        `url: ${orthanc.url}/dicom-web\nquery:\n  PatientID: QA-PHANTOM\nbasicAuth:\n  username: ${orthanc.username}\n  password: ${orthanc.password}\n`,
      );

      assert.equal(code, 0, output);
      assert.match(
        output,
        /^OK \(ok\) DICOMweb at http:\/\/127\.0\.0\.1:\d+\/dicom-web: QIDO-RS found 1 study in \d+ ms; WADO-RS metadata of the first study \(1 instance/m,
      );
      assert.match(output, /^ {2}search_matches = 1 $/m);
      assert.match(output, /^ {2}total_seconds = [\d.e-]+ seconds$/m);
    });

    test('orthanc with arrival reports when the last instance arrived and exits 0 while that is recent', async () => {
      const { code, output } = await runOnce('orthanc', `${orthancAuth()}arrival:\n  warnAfter: 2h\n`);

      assert.equal(code, 0, output);
      assert.match(output, /^OK \(ok\) .*; last instance arrived \d+ s ago$/m);
      assert.match(output, /^ {2}arrival_silence_seconds = [\d.e-]+ seconds$/m);
      assert.match(output, /^ {2}storage_bytes = \d+ bytes$/m);
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
