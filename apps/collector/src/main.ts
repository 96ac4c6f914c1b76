import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ROUNDS_VERSION } from '#rounds/common';
import { readCollectorConfig } from './config/env.js';
import { agentCommand, apiTokenCommand, checkCommand } from './cli/admin.js';
import { serve } from './cli/serve.js';

const USAGE = `rounds-collector ${ROUNDS_VERSION} — polls Rounds agents, stores and shows their results

usage:
  rounds-collector start                         run the collector (HTTP UI + API, poller)
  rounds-collector agent add --name <n> --enrol <string>
  rounds-collector agent list
  rounds-collector agent remove <name>
  rounds-collector check add --agent <n> --name <n> --plugin <p> --config <json|@file> [--interval 60s] [--timeout 10s]
  rounds-collector api-token rotate              print a new API token (the old one stops working)

settings come from the environment (README, "Configuration"): ROUNDS_DATA_DIR, ROUNDS_HTTP_HOST,
ROUNDS_HTTP_PORT, ROUNDS_POLL_INTERVAL_MS, ROUNDS_DOWN_AFTER, ROUNDS_DATABASE_URL, ...
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      enrol: { type: 'string' },
      agent: { type: 'string' },
      plugin: { type: 'string' },
      config: { type: 'string' },
      interval: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const print = (line: string) => console.log(line);
  switch (command) {
    case 'start':
      await serve(readCollectorConfig());
      return 0;
    case 'agent':
      return agentCommand(readCollectorConfig(), { positionals, values }, print);
    case 'check':
      return checkCommand(readCollectorConfig(), { positionals, values }, print);
    case 'api-token':
      return apiTokenCommand(readCollectorConfig(), { positionals, values }, print);
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
    console.error(`rounds-collector: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
