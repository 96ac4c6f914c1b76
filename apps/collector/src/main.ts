import 'reflect-metadata';
import { ROUNDS_VERSION, parseCommandLine, runCommand } from '#rounds/common';
import { readCollectorConfig } from './config/env.js';
import { agentCommand, checkCommand, secretsCommand } from './cli/admin.js';
import { legacyApiTokenCommand, tokenCommand } from './auth/tokens.cli.js';
import { backupCommand, restoreCommand } from './cli/backup.cli.js';
import { serve } from './cli/serve.js';
import { auditCommand } from './audit/audit.cli.js';
import { userCommand } from './users/users.cli.js';

const USAGE = `rounds-collector ${ROUNDS_VERSION} — polls Rounds agents, stores and shows their results

usage:
  rounds-collector start                         run the collector (HTTP UI + API, poller)
  rounds-collector agent add --name <n> --enrol <string>
  rounds-collector agent list
  rounds-collector agent remove <name>
  rounds-collector check add --agent <n> --name <n> --plugin <p> --config <json|@file> [--interval 60s] [--timeout 10s]
  rounds-collector check list [--agent <n>]      state, agent/name, plugin, interval, summary
  rounds-collector check remove <check>          by id, agent/name, or a name only one check has
  rounds-collector token add <user> --name <n> [--expires 90d]
                                                 a new API token of that user (their role); printed once
  rounds-collector token list [--user <name>]    id, prefix, name, owner, state, created, expires, last used
  rounds-collector token revoke|rotate <id|prefix>
                                                 stop a token at once / replace it with a new one
  rounds-collector audit verify                  check the audit log's hash chain (exit 2 naming the first broken row)
  rounds-collector audit list [--limit 20]       the newest audit log rows
  rounds-collector user add --name <n> --role admin|operator|viewer [--password-stdin]
                                                 add a user; prints a generated password once
  rounds-collector user list                     name, role, state, must-change, 2FA, created
  rounds-collector user disable|enable <name>
  rounds-collector user reset-password <name>    print a new password (to change at first sign-in)
  rounds-collector user reset-2fa <name>         clear the user's TOTP secret
  rounds-collector backup <file>                 a consistent copy of the database and its key, while the collector runs
  rounds-collector restore <file>                put a backup in place (collector stopped; the old files are kept aside)
  rounds-collector secrets rotate-key            re-encrypt agent tokens and channel secrets under a new key
                                                 (collector stopped; back the new key up afterwards)

settings come from the environment (README, "Configuration"): ROUNDS_DATA_DIR, ROUNDS_HTTP_HOST,
ROUNDS_HTTP_PORT, ROUNDS_POLL_INTERVAL_MS, ROUNDS_DOWN_AFTER, ROUNDS_DATABASE_URL, ROUNDS_SECRET_KEY, ...
`;

const { command, values, positionals } = parseCommandLine('rounds-collector', USAGE, {
  name: { type: 'string' },
  enrol: { type: 'string' },
  agent: { type: 'string' },
  plugin: { type: 'string' },
  config: { type: 'string' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  limit: { type: 'string' },
  role: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  user: { type: 'string' },
  expires: { type: 'string' },
});
const print = (line: string) => console.log(line);

runCommand('rounds-collector', USAGE, command, {
  async start() {
    await serve(readCollectorConfig());
    return 0;
  },
  agent: () => agentCommand(readCollectorConfig(), { positionals, values }, print),
  check: () => checkCommand(readCollectorConfig(), { positionals, values }, print),
  token: () => tokenCommand(readCollectorConfig(), { positionals, values }, print),
  'api-token': () => legacyApiTokenCommand(readCollectorConfig(), { positionals, values }, print),
  audit: () => auditCommand(readCollectorConfig(), { positionals, values }, print),
  user: () => userCommand(readCollectorConfig(), { positionals, values }, print),
  backup: () => backupCommand(readCollectorConfig(), { positionals, values }, print),
  restore: () => restoreCommand(readCollectorConfig(), { positionals, values }, print),
  secrets: () => secretsCommand(readCollectorConfig(), { positionals, values }, print),
});
