import 'reflect-metadata';
import { readAgentEnv } from '../config/env.js';
// Commands are imported when run: `start` then never loads init's certificate code (selfsigned, ~7 MiB RSS).
import { ROUNDS_VERSION as AGENT_VERSION, parseCommandLine, runCommand } from '#rounds/common';

const USAGE = `rounds-agent ${AGENT_VERSION} — runs Rounds check plugins for a collector

usage:
  rounds-agent init --config <file> [--listen host:port] [--advertise host:port] [--spool-dir <folder>] [--force]
                    [--site-key <key> | --site-key-file <file>]
      create a config, a token and a self-signed certificate; prints the enrolment string
      (--spool-dir: where results wait for the collector, default "spool" next to the config)
      with a site key: no token and no enrolment string — a collector holding the key claims
      the agent (--site-key-file keeps the key out of the process list)
  rounds-agent start --config <file>
      serve the collector (env: ROUNDS_AGENT_CONFIG, ROUNDS_AGENT_LISTEN, ROUNDS_AGENT_TOKEN, ROUNDS_AGENT_LOG_LEVEL;
      on Windows ROUNDS_AGENT_EVENT_LOG=<source> also sends errors to the Application event log)
  rounds-agent run-once <plugin> --config <check-config.yaml> [--timeout ms] [--agent-config agent.yaml]
      run one check now and print what it sees; exits 0/1/2/3 like a Nagios plugin
      (--agent-config supplies the agent's nagios allow-list and the custom plugins of its plugins.dir)
  rounds-agent plugin new <name> [--dir <folder>] [--sdk <rounds-plugin-sdk-x.y.z.tgz>]
      write a custom check plugin's folder <folder>/<name> (plugin, schema, spec, sample config, README)
      that depends on the plugin SDK tarball (default: the one \`npm run build:plugin-sdk\` made here)
  rounds-agent health --config <file> [--timeout ms]
      exit 0 when the agent of that config is serving (a TLS handshake shows its own certificate), 1 otherwise
  rounds-agent service install [--config <file>] [--listen host:port [--site-key <key>] [--spool-dir <folder>] [--enrolment-file <file>]]
                         [--user <name>] [--no-start] [--dry-run] [--log <file>]
      run this agent as a service — systemd on Linux (as root), WinSW on Windows (as administrator);
      without a config, --listen creates one first (init); --dry-run (or --print) shows what it would write and run;
      --log also appends what it prints (not the enrolment string) to a file
  rounds-agent service uninstall|start|stop|status [--dry-run]
      remove, start, stop or show the service (config, spool and logs stay)
  rounds-agent --version
      print the version, the Node.js it runs on and whether it is the single-file build
`;

const { command, values, positionals } = parseCommandLine('rounds-agent', USAGE, {
  config: { type: 'string' },
  listen: { type: 'string' },
  advertise: { type: 'string' },
  'spool-dir': { type: 'string' },
  'site-key': { type: 'string' },
  'site-key-file': { type: 'string' },
  force: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  'agent-config': { type: 'string' },
  'enrolment-file': { type: 'string' },
  log: { type: 'string' },
  user: { type: 'string' },
  'no-start': { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  print: { type: 'boolean', default: false },
  dir: { type: 'string' },
  sdk: { type: 'string' },
});
/** Env is read inside the commands, so a bad setting is reported like any other error. */
const configPath = (): string | undefined => values.config ?? readAgentEnv().configPath;

runCommand('rounds-agent', USAGE, command, {
  async init() {
    const path = configPath();
    if (!path) throw new Error('init needs --config <file>');
    const { initAgent } = await import('./init.js');
    const lines = await initAgent({
      configPath: path,
      listen: values.listen ?? '0.0.0.0:7443',
      advertise: values.advertise,
      spoolDir: values['spool-dir'],
      force: values.force ?? false,
      siteKey: values['site-key'],
      siteKeyFile: values['site-key-file'],
    });
    for (const line of lines) console.log(line);
    return 0;
  },
  async start() {
    const path = configPath();
    if (!path) throw new Error('start needs --config <file> (or ROUNDS_AGENT_CONFIG)');
    const env = readAgentEnv();
    const { startAgent } = await import('./start.js');
    try {
      await startAgent(path, env);
    } catch (e) {
      // A service that cannot start says why in the Event Log too, not only in its log file.
      if (process.platform === 'win32' && env.eventLogSource) {
        const { WindowsEventLog } = await import('../repositories/event-log.repository.js');
        WindowsEventLog.errorNow(env.eventLogSource, `rounds-agent could not start: ${(e as Error).message}`);
      }
      throw e;
    }
    return 0;
  },
  async health() {
    const path = configPath();
    if (!path) throw new Error('health needs --config <file> (or ROUNDS_AGENT_CONFIG)');
    const timeout = Number(values.timeout ?? 3_000);
    if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`--timeout must be milliseconds, got "${values.timeout}"`);
    const { checkHealth } = await import('./health.js');
    const { ok, message } = await checkHealth(path, readAgentEnv(), timeout);
    (ok ? console.log : console.error)(message);
    return ok ? 0 : 1;
  },
  async 'run-once'() {
    const plugin = positionals[0];
    if (!plugin || !values.config) throw new Error('usage: rounds-agent run-once <plugin> --config <check-config.yaml>');
    const timeout = Number(values.timeout ?? 10_000);
    if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`--timeout must be milliseconds, got "${values.timeout}"`);
    const { runOnce } = await import('./run-once.js');
    return runOnce(plugin, values.config, timeout, (line) => console.log(line), values['agent-config']);
  },
  async plugin() {
    const [sub, name, ...extra] = positionals;
    if (sub !== 'new' || !name || extra.length > 0) throw new Error('usage: rounds-agent plugin new <name> [--dir <folder>] [--sdk <tarball>]');
    const { newPlugin } = await import('./plugin-new.js');
    for (const line of newPlugin({ name, parentDir: values.dir, sdk: values.sdk })) console.log(line);
    return 0;
  },
  async service() {
    if (positionals.length > 1) throw new Error(`service takes one command, got "${positionals.join(' ')}": use install, uninstall, start, stop or status`);
    const { runServiceCommand } = await import('./service.js');
    return runServiceCommand(
      {
        command: positionals[0],
        configPath: values.config,
        listen: values.listen,
        siteKey: values['site-key'],
        spoolDir: values['spool-dir'],
        enrolmentFile: values['enrolment-file'],
        logFile: values.log,
        user: values.user,
        noStart: values['no-start'] ?? false,
        dryRun: (values['dry-run'] ?? false) || (values.print ?? false),
      },
      readAgentEnv(),
      (line) => console.log(line),
      (line) => console.error(line),
    );
  },
});
