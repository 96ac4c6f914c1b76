import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { readAgentEnv } from './config/env.js';
// Commands are imported when run: `start` then never loads init's certificate code (selfsigned, ~7 MiB RSS).
import { ROUNDS_VERSION as AGENT_VERSION } from '#rounds/common';

const USAGE = `rounds-agent ${AGENT_VERSION} — runs Rounds check plugins for a collector

usage:
  rounds-agent init --config <file> [--listen host:port] [--advertise host:port] [--force]
      create a config, a token and a self-signed certificate; prints the enrolment string
  rounds-agent start --config <file>
      serve the collector (env: ROUNDS_AGENT_CONFIG, ROUNDS_AGENT_LISTEN, ROUNDS_AGENT_TOKEN, ROUNDS_AGENT_LOG_LEVEL)
  rounds-agent run-once <plugin> --config <check-config.yaml> [--timeout ms] [--agent-config agent.yaml]
      run one check now and print what it sees; exits 0/1/2/3 like a Nagios plugin
      (--agent-config supplies the agent's nagios allow-list)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const env = readAgentEnv();
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      listen: { type: 'string' },
      advertise: { type: 'string' },
      force: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'agent-config': { type: 'string' },
    },
  });
  const configPath = values.config ?? env.configPath;
  switch (command) {
    case 'init': {
      if (!configPath) throw new Error('init needs --config <file>');
      const { initAgent } = await import('./cli/init.js');
      const lines = await initAgent({ configPath, listen: values.listen ?? '0.0.0.0:7443', advertise: values.advertise, force: values.force ?? false });
      for (const line of lines) console.log(line);
      return 0;
    }
    case 'start':
      if (!configPath) throw new Error('start needs --config <file> (or ROUNDS_AGENT_CONFIG)');
      const { startAgent } = await import('./cli/start.js');
      await startAgent(configPath, env);
      return 0;
    case 'run-once': {
      const plugin = positionals[0];
      if (!plugin || !values.config) throw new Error('usage: rounds-agent run-once <plugin> --config <check-config.yaml>');
      const timeout = Number(values.timeout ?? 10_000);
      if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`--timeout must be milliseconds, got "${values.timeout}"`);
      const { runOnce } = await import('./cli/run-once.js');
      return runOnce(plugin, values.config, timeout, (line) => console.log(line), values['agent-config']);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 64 : 0;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 64;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`rounds-agent: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
