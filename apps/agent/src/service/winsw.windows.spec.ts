import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EX_USAGE, ServiceError, type InstallTarget, type ServiceStep } from './service-manager.js';
import { initArgs, redactedInitArgs } from './init-command.js';
import { WINSW_EXE_CONFIG, WinswPlatform, windowsQuote, winswXml, type WindowsHost } from './winsw.windows.js';

const PF = 'C:\\Program Files';
const host: WindowsHost = {
  programData: 'C:\\ProgramData',
  programFiles: [PF, 'C:\\Program Files (x86)'],
  wrapper: new Uint8Array([77, 90]),
  installed: false,
};
const exe = `${PF}\\Rounds\\rounds-agent.exe`;
const target = (over: Partial<InstallTarget> = {}): InstallTarget => ({
  program: { executable: exe, leadingArgs: [], programFile: exe },
  configPath: 'C:\\ProgramData\\Rounds\\agent.yaml',
  spoolDir: 'C:\\ProgramData\\Rounds\\spool',
  tlsFiles: ['C:\\ProgramData\\Rounds\\agent.crt', 'C:\\ProgramData\\Rounds\\agent.key'],
  start: true,
  ...over,
});
const installed = new WinswPlatform({ ...host, installed: true });

const commands = (steps: ServiceStep[]): string[] =>
  steps.map((s) => (s.kind === 'run' ? [s.command, ...s.args].join(' ') : s.kind === 'await-stop' ? `await-stop ${s.service}` : `${s.kind} ${s.path}`));
const written = (steps: ServiceStep[], suffix: string): string => {
  const step = steps.find((s): s is Extract<ServiceStep, { kind: 'write' }> => s.kind === 'write' && s.path.endsWith(suffix));
  assert.ok(step && typeof step.content === 'string', `nothing written to *${suffix}`);
  return step.content;
};
const refusal = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ServiceError && message.test(e.message) && e.exitCode === EX_USAGE);

describe('windowsQuote', () => {
  it('leaves a plain argument alone and quotes one with spaces so that CommandLineToArgvW splits it back', () => {
    assert.equal(windowsQuote('start'), 'start');
    assert.equal(windowsQuote('C:\\Program Files\\Rounds\\agent.yaml'), '"C:\\Program Files\\Rounds\\agent.yaml"');
    assert.equal(windowsQuote(''), '""');
  });

  it('escapes quotes and doubles backslashes that end a quoted argument', () => {
    assert.equal(windowsQuote('say "hi"'), '"say \\"hi\\""');
    assert.equal(windowsQuote('C:\\my dir\\'), '"C:\\my dir\\\\"');
  });
});

describe('the WinSW service definition', () => {
  const xml = winswXml({ executable: exe, args: ['start', '--config', 'C:\\ProgramData\\Rounds\\agent.yaml'], dataDir: 'C:\\ProgramData\\Rounds' });
  const has = (element: string) =>
    assert.ok(
      xml.split('\r\n').some((line) => line.trim() === element),
      `the definition lacks ${element}:\n${xml}`,
    );

  it('starts the agent automatically as the virtual account NT SERVICE\\rounds-agent, which needs no logon right granted', () => {
    has('<id>rounds-agent</id>');
    has('<startmode>Automatic</startmode>');
    has('<domain>NT SERVICE</domain>');
    has('<user>rounds-agent</user>');
    has('<allowservicelogon>false</allowservicelogon>');
    assert.doesNotMatch(xml, /<password>/);
  });

  it('runs the agent with its config, quoting the paths, in its data folder', () => {
    has(`<executable>${exe}</executable>`);
    has('<arguments>start --config C:\\ProgramData\\Rounds\\agent.yaml</arguments>');
    has('<workingdirectory>C:\\ProgramData\\Rounds</workingdirectory>');
    const spaced = winswXml({ executable: exe, args: ['start', '--config', 'D:\\Rounds Data\\agent.yaml'], dataDir: 'D:\\Rounds Data' });
    assert.match(spaced, /<arguments>start --config "D:\\Rounds Data\\agent\.yaml"<\/arguments>/);
  });

  it('restarts on failure after 10 s, 1 min, then 5 min, forgetting failures after an hour, and gives the agent 20 s to stop', () => {
    assert.deepEqual(
      [...xml.matchAll(/<onfailure action="(\w+)" delay="([^"]+)" \/>/g)].map((m) => `${m[1]} ${m[2]}`),
      ['restart 10 sec', 'restart 1 min', 'restart 5 min'],
    );
    has('<resetfailure>1 hour</resetfailure>');
    has('<stoptimeout>20 sec</stoptimeout>');
  });

  it('rolls its logs by size under the data folder and names the event log source for errors', () => {
    has('<logpath>C:\\ProgramData\\Rounds\\logs</logpath>');
    has('<log mode="roll-by-size">');
    has('<sizeThreshold>10240</sizeThreshold>');
    has('<keepFiles>8</keepFiles>');
    has('<env name="ROUNDS_AGENT_EVENT_LOG" value="rounds-agent" />');
  });

  it('starts with <service>: WinSW 1.x looks for stoptimeout and resetfailure below the first node, which a comment before it would be', () => {
    assert.match(xml, /^<service>\r\n/);
  });

  it('escapes XML in paths', () => {
    const odd = winswXml({ executable: 'C:\\R&D <x>\\rounds-agent.exe', args: ['start'], dataDir: 'C:\\R&D' });

    assert.match(odd, /<executable>C:\\R&amp;D &lt;x&gt;\\rounds-agent\.exe<\/executable>/);
    assert.match(odd, /<workingdirectory>C:\\R&amp;D<\/workingdirectory>/);
  });

  it('asks for .NET 4 first in the wrapper config, so Windows 10 does not offer to install .NET 3.5', () => {
    assert.ok(WINSW_EXE_CONFIG.indexOf('v4.0') < WINSW_EXE_CONFIG.indexOf('v2.0'), WINSW_EXE_CONFIG);
  });
});

describe('WinswPlatform', () => {
  it('install writes WinSW with its config and definition beside the agent, registers it, locks the data folder to the service and admins, registers the event source and starts it', () => {
    const steps = new WinswPlatform(host).install(target());

    assert.deepEqual(commands(steps), [
      `write ${PF}\\Rounds\\rounds-agent-service.exe`,
      `write ${PF}\\Rounds\\rounds-agent-service.exe.config`,
      `write ${PF}\\Rounds\\rounds-agent-service.xml`,
      'mkdir C:\\ProgramData\\Rounds\\logs',
      `${PF}\\Rounds\\rounds-agent-service.exe install`,
      'icacls C:\\ProgramData\\Rounds /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F NT SERVICE\\rounds-agent:(OI)(CI)M',
      `eventcreate /L APPLICATION /T INFORMATION /SO rounds-agent /ID 1 /D Rounds agent service installed: ${exe}, config C:\\ProgramData\\Rounds\\agent.yaml`,
      'sc.exe start rounds-agent',
    ]);
    assert.match(written(steps, '.xml'), /<arguments>start --config C:\\ProgramData\\Rounds\\agent\.yaml<\/arguments>/);
  });

  it('install keeps the WinSW the MSI put beside the agent, and starts nothing with --no-start', () => {
    const steps = new WinswPlatform({ ...host, wrapper: 'present' }).install(target({ start: false }));

    assert.ok(!commands(steps).some((c) => c.endsWith('rounds-agent-service.exe') && c.startsWith('write')), 'WinSW written over the MSI’s');
    assert.ok(!commands(steps).some((c) => c.startsWith('sc.exe start')), 'started despite --no-start');
  });

  it('install grants the service its spool when the spool is outside the data folder', () => {
    const steps = new WinswPlatform(host).install(target({ spoolDir: 'D:\\RoundsSpool' }));

    assert.ok(commands(steps).includes('mkdir D:\\RoundsSpool'));
    assert.ok(commands(steps).includes('icacls D:\\RoundsSpool /grant NT SERVICE\\rounds-agent:(OI)(CI)M'));
  });

  it('install runs the package with node, passing the script first', () => {
    const script = `${PF}\\Rounds\\bin\\rounds-agent.js`;
    const steps = new WinswPlatform(host).install(target({ program: { executable: `${PF}\\nodejs\\node.exe`, leadingArgs: [script], programFile: script } }));

    const xml = written(steps, 'rounds-agent-service.xml');
    assert.match(xml, /<executable>C:\\Program Files\\nodejs\\node\.exe<\/executable>/);
    assert.match(xml, /<arguments>"C:\\Program Files\\Rounds\\bin\\rounds-agent\.js" start --config C:\\ProgramData\\Rounds\\agent\.yaml<\/arguments>/);
  });

  it('install refuses an agent outside Program Files, which non-administrators may be able to change, naming where to copy it', () => {
    const downloaded = 'C:\\Users\\ana\\Downloads\\rounds-agent.exe';
    refusal(
      () => new WinswPlatform(host).install(target({ program: { executable: downloaded, leadingArgs: [], programFile: downloaded } })),
      /the service would run C:\\Users\\ana\\Downloads\\rounds-agent\.exe, in a folder that users other than administrators may be able to change: copy the agent to C:\\Program Files\\Rounds/,
    );
  });

  it('install compares folders without regard to case, as Windows does', () => {
    const lower = 'c:\\program files\\rounds\\rounds-agent.exe';
    assert.doesNotThrow(() => new WinswPlatform(host).install(target({ program: { executable: lower, leadingArgs: [], programFile: lower } })));
  });

  it('install refuses a config straight in C:\\ProgramData, a folder it would lock to the service', () => {
    refusal(
      () => new WinswPlatform(host).install(target({ configPath: 'C:\\ProgramData\\agent.yaml' })),
      /the config folder C:\\ProgramData is shared with other software.*C:\\ProgramData\\Rounds\\agent\.yaml/,
    );
  });

  it('install refuses a path with %, which WinSW would expand', () => {
    refusal(() => new WinswPlatform(host).install(target({ configPath: 'C:\\Data\\%USERNAME%\\agent.yaml' })), /contains %, which WinSW would expand/);
  });

  it('install refuses when the service exists, saying to uninstall first', () => {
    assert.throws(() => installed.install(target()), /the rounds-agent service is installed already: remove it with `rounds-agent service uninstall` first/);
  });

  it('uninstall stops and deletes the service and its event source, taking "not running" and "marked for deletion" as done', () => {
    const steps = installed.uninstall();

    assert.deepEqual(commands(steps), [
      'sc.exe stop rounds-agent',
      'await-stop rounds-agent',
      'sc.exe delete rounds-agent',
      'reg delete HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\rounds-agent /f',
    ]);
    assert.deepEqual(
      steps.map((s) => (s.kind === 'run' ? s.ok : undefined)),
      [[0, 1062], undefined, [0, 1072], [0, 1]],
    );
  });

  it('start, stop and status go through sc.exe', () => {
    assert.deepEqual(commands(installed.start()), ['sc.exe start rounds-agent']);
    assert.deepEqual(commands(installed.stop()), ['sc.exe stop rounds-agent', 'await-stop rounds-agent']);
    assert.deepEqual(commands(installed.status()), ['sc.exe query rounds-agent']);
  });

  it('uninstall, start, stop and status without the service say how to install it', () => {
    const missing = new WinswPlatform(host);
    for (const command of ['uninstall', 'start', 'stop', 'status'] as const) {
      assert.throws(
        () => missing[command](),
        /the rounds-agent service is not installed: install it with `rounds-agent service install --config C:\\ProgramData\\Rounds\\agent\.yaml` \(as administrator\), or with the MSI/,
      );
    }
  });
});

describe('the init command line service install runs (the MSI’s LISTEN and SITEKEY)', () => {
  const configPath = 'C:\\ProgramData\\Rounds\\agent.yaml';

  it('passes --site-key only when SITEKEY is set: an empty MSI property is an unset one', () => {
    assert.deepEqual(initArgs({ listen: '0.0.0.0:7443', configPath }), ['init', '--listen', '0.0.0.0:7443', '--config', configPath]);
    assert.deepEqual(initArgs({ listen: '0.0.0.0:7443', configPath, siteKey: '' }), ['init', '--listen', '0.0.0.0:7443', '--config', configPath]);
    assert.deepEqual(initArgs({ listen: 'pacs-01:7443', configPath, siteKey: 'k-123' }), [
      'init',
      '--listen',
      'pacs-01:7443',
      '--config',
      configPath,
      '--site-key',
      'k-123',
    ]);
  });

  it('passes --spool-dir when given', () => {
    assert.deepEqual(initArgs({ listen: '0.0.0.0:7443', configPath, spoolDir: 'D:\\Spool' }).slice(-2), ['--spool-dir', 'D:\\Spool']);
  });

  it('hides the site key in what is printed', () => {
    const shown = redactedInitArgs({ listen: '0.0.0.0:7443', configPath, siteKey: 'k-123' });

    assert.ok(!shown.includes('k-123'));
    assert.deepEqual(shown.slice(-2), ['--site-key', '<redacted>']);
  });
});
