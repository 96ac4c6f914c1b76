import 'reflect-metadata';
import { readAgentEnv } from './config/env.js';
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
      serve the collector (env: ROUNDS_AGENT_CONFIG, ROUNDS_AGENT_LISTEN, ROUNDS_AGENT_TOKEN, ROUNDS_AGENT_LOG_LEVEL)
  rounds-agent run-once <plugin> --config <check-config.yaml> [--timeout ms] [--agent-config agent.yaml]
      run one check now and print what it sees; exits 0/1/2/3 like a Nagios plugin
      (--agent-config supplies the agent's nagios allow-list)
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
});
/** Env is read inside the commands, so a bad setting is reported like any other error. */
const configPath = (): string | undefined => values.config ?? readAgentEnv().configPath;

runCommand('rounds-agent', USAGE, command, {
  async init() {
    const path = configPath();
    if (!path) throw new Error('init needs --config <file>');
    const { initAgent } = await import('./cli/init.js');
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
    const { startAgent } = await import('./cli/start.js');
    await startAgent(path, readAgentEnv());
    return 0;
  },
  async 'run-once'() {
    const plugin = positionals[0];
    if (!plugin || !values.config) throw new Error('usage: rounds-agent run-once <plugin> --config <check-config.yaml>');
    const timeout = Number(values.timeout ?? 10_000);
    if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`--timeout must be milliseconds, got "${values.timeout}"`);
    const { runOnce } = await import('./cli/run-once.js');
    return runOnce(plugin, values.config, timeout, (line) => console.log(line), values['agent-config']);
  },
});
