import 'reflect-metadata';
import { ROUNDS_VERSION, parseCommandLine, runCommand } from '#rounds/common';
import { readCliConfig, readCollectorConfig } from './config/env.js';
import type { Operator } from './cli/operator.js';

const USAGE = `rounds-collector ${ROUNDS_VERSION} — polls Rounds agents, stores and shows their results

usage:
  rounds-collector start                         run the collector (HTTP UI + API, poller)

operator commands — they call the running collector's API, as the token's user (audited):
  rounds-collector agent list
  rounds-collector agent add --name <n> --enrol <string> [--tag key=value …]
  rounds-collector agent remove|rotate <agent>    rotate: a new bearer token for the agent
  rounds-collector check list [--agent <agent>] [--tag key=value]
  rounds-collector check add --agent <agent> --name <n> --plugin <p> --config <json|@file> [--interval 60s] [--timeout 10s] [--tag key=value …]
  rounds-collector check edit <check> [--name <n>] [--config <json|@file>] [--interval 5m] [--timeout 10s] [--tag key=value …]
  rounds-collector check pause|resume|remove|run <check>
                                                 <check>: its id, <agent>/<name>, or a name only one check has
  rounds-collector alert list
  rounds-collector alert ack <fingerprint> --comment <text> [--for 4h | --until <time>]
  rounds-collector silence add --match <label="value"> [--match …] (--for 2h | --until <time>) [--from <time>] --comment <why>
  rounds-collector silence list | silence expire <id>
  rounds-collector maintenance add --name <n> [--match …] [--comment <text>] ([--from <time>] --until <time>|--for 2h | --at 02:00-04:00 [--days sun,sat] [--tz <zone>])
  rounds-collector maintenance list | maintenance remove <id or name>
  rounds-collector channel list | channel test <channel>
  rounds-collector config export [--with-secrets] [-o <file>]
                                                 agents, checks, channels, rules, windows as one YAML document (admin)
  rounds-collector config apply <file|-> [--dry-run] [--prune] [--yes]
                                                 plan and apply a document in one transaction; {env: NAME} secrets
                                                 are read from this environment; exit 2: --dry-run found changes,
                                                 65: the document cannot be applied
    --output table|json                          a table (default) or the API's JSON, for scripts
    --url <address> --token <API token>          which collector, as whom; or ROUNDS_URL and ROUNDS_TOKEN; on the
                                                 collector's machine <ROUNDS_DATA_DIR>/cli-credentials.json (written at its start)
    --ca <file>                                  the certificate to trust for https:// (or ROUNDS_CA)

local commands — they open the collector's database (it must exist: \`start\` creates it), for when nobody can sign in:
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
  rounds-collector migrate --to postgres://USER:PASSWORD@HOST:5432/DATABASE
                                                 copy the SQLite database into an empty PostgreSQL one and count
                                                 every table's rows on both sides (collector stopped)
  rounds-collector secrets rotate-key            re-encrypt agent tokens and channel secrets under a new key
                                                 (collector stopped; back the new key up afterwards)

settings come from the environment (README, "Configuration"): ROUNDS_DATA_DIR, ROUNDS_HTTP_HOST,
ROUNDS_HTTP_PORT, ROUNDS_POLL_INTERVAL_MS, ROUNDS_DOWN_AFTER, ROUNDS_DATABASE_URL, ROUNDS_SECRET_KEY, ...
exit codes: 0 done, 1 failed (the message says why and what to do), 64 called wrongly (usage)
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
  // Operator commands.
  output: { type: 'string', short: 'o' },
  url: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  tag: { type: 'string', multiple: true },
  match: { type: 'string', multiple: true },
  comment: { type: 'string' },
  for: { type: 'string' },
  from: { type: 'string' },
  until: { type: 'string' },
  at: { type: 'string' },
  days: { type: 'string' },
  tz: { type: 'string' },
  'with-secrets': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  prune: { type: 'boolean' },
  yes: { type: 'boolean' },
  to: { type: 'string' },
});
const print = (line: string) => console.log(line);
const args = { positionals, values };

/**
 * Each command loads only what it needs: the operator commands are an HTTP client and must not
 * wait for the collector's whole module graph to load.
 */
const operator = async (run: (op: Operator, a: typeof args) => Promise<number>) => {
  const { Operator } = await import('./cli/operator.js');
  return run(Operator.from(readCliConfig(), values, print), args);
};

runCommand('rounds-collector', USAGE, command, {
  async start() {
    const { serve } = await import('./cli/serve.js');
    await serve(readCollectorConfig());
    return 0;
  },
  agent: async () => operator((await import('./cli/admin.js')).agentCommand),
  check: async () => operator((await import('./cli/admin.js')).checkCommand),
  alert: async () => operator((await import('./cli/alerting.cli.js')).alertCommand),
  silence: async () => operator((await import('./cli/alerting.cli.js')).silenceCommand),
  maintenance: async () => operator((await import('./cli/alerting.cli.js')).maintenanceCommand),
  channel: async () => operator((await import('./cli/channels.cli.js')).channelCommand),
  // The document's {env: NAME} secrets are the CI job's variables: the environment goes in whole.
  config: async () =>
    (await import('./cli/config.cli.js')).configCommand(readCliConfig(), args, print, process.env, Boolean(process.stdin.isTTY && process.stdout.isTTY)),
  token: async () => (await import('./auth/tokens.cli.js')).tokenCommand(readCollectorConfig(), args, print),
  'api-token': async () => (await import('./auth/tokens.cli.js')).legacyApiTokenCommand(readCollectorConfig(), args, print),
  audit: async () => (await import('./audit/audit.cli.js')).auditCommand(readCollectorConfig(), args, print),
  user: async () => (await import('./users/users.cli.js')).userCommand(readCollectorConfig(), args, print),
  backup: async () => (await import('./cli/backup.cli.js')).backupCommand(readCollectorConfig(), args, print),
  restore: async () => (await import('./cli/backup.cli.js')).restoreCommand(readCollectorConfig(), args, print),
  secrets: async () => (await import('./secrets/secrets.cli.js')).secretsCommand(readCollectorConfig(), args, print),
  migrate: async () => (await import('./cli/migrate.cli.js')).migrateCommand(readCollectorConfig(), args, print),
});
