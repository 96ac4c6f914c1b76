import type { CollectorConfig } from '../config/env.js';
import { withContext, type AdminArgs } from '../cli/local.js';
import { cliAuditContext } from '../audit/audit.types.js';
import { parseDuration } from '../cli/parse-duration.js';
import { table } from '../cli/table.js';
import { ApiTokensService, type ApiTokenView } from './api-tokens.service.js';

const USAGE = `usage: rounds-collector token add <user> --name <what uses it> [--expires 90d]
       rounds-collector token list [--user <name>]
       rounds-collector token revoke|rotate <id or prefix>`;

const SHOWN_ONCE = 'shown once; only its hash is kept';

/**
 * `token add|list|revoke|rotate`: API tokens from the machine's shell — for scripts set up by
 * the operator, and to revoke a leaked token when no admin can sign in. The running collector
 * sees every change at the next request (it reads tokens from the database on each call).
 */
export async function tokenCommand(config: CollectorConfig, { positionals, values }: AdminArgs, print: (s: string) => void): Promise<number> {
  const [sub, arg] = positionals;
  if (sub === 'add') {
    const name = values['name'];
    if (!arg || typeof name !== 'string' || name === '') throw new Error(`token add needs the user and --name\n${USAGE}`);
    const expires = values['expires'];
    const expiresInMs = typeof expires === 'string' ? parseDuration(expires, '--expires') : undefined;
    return withContext(config, async (app) => {
      const { token, view } = await app.get(ApiTokensService).create(arg, { name, ...(expiresInMs === undefined ? {} : { expiresInMs }) }, cliAuditContext());
      print(`added API token "${view.name}" of ${view.owner} (id ${view.id}${view.expiresAt ? `, expires ${iso(view.expiresAt)}` : ''})`);
      print(`token (${SHOWN_ONCE}): ${token}`);
      return 0;
    });
  }
  if (sub === 'list') {
    const user = values['user'];
    return withContext(config, async (app) => {
      const tokens = await app.get(ApiTokensService).list(typeof user === 'string' ? user : undefined);
      if (tokens.length === 0) print('no API tokens: `rounds-collector token add <user> --name <what uses it>` makes one');
      else for (const row of tokensTable(tokens)) print(row);
      return 0;
    });
  }
  if (sub !== 'revoke' && sub !== 'rotate') throw new Error(USAGE);
  if (!arg) throw new Error(`token ${sub} needs the token's id or prefix (\`rounds-collector token list\`)\n${USAGE}`);
  return withContext(config, async (app) => {
    const tokens = app.get(ApiTokensService);
    if (sub === 'revoke') {
      const view = await tokens.revoke(arg, cliAuditContext());
      print(`revoked API token "${view.name}" of ${view.owner}: it stops working at once`);
    } else {
      const { token, view } = await tokens.rotate(arg, cliAuditContext());
      print(`rotated API token "${view.name}" of ${view.owner}: the old one stops working at once (new id ${view.id})`);
      print(`token (${SHOWN_ONCE}): ${token}`);
    }
    return 0;
  });
}

/**
 * `api-token rotate`, from before users: rotates the oldest live token of the oldest admin —
 * the one the upgrade imported, or the first start made.
 */
export async function legacyApiTokenCommand(config: CollectorConfig, { positionals }: AdminArgs, print: (s: string) => void): Promise<number> {
  if (positionals[0] !== 'rotate') throw new Error('usage: rounds-collector api-token rotate   (deprecated: see `rounds-collector token`)');
  if (config.apiToken) throw new Error('ROUNDS_API_TOKEN is set: that token comes from the environment; change it there (or use `rounds-collector token`)');
  return withContext(config, async (app) => {
    const tokens = app.get(ApiTokensService);
    const live = (await tokens.list()).filter((t) => t.state === 'active' && t.prefix !== '');
    const oldest = live.sort((a, b) => a.createdAt - b.createdAt)[0];
    if (!oldest) throw new Error('no live API token to rotate — `rounds-collector token add <user> --name <what uses it>` makes one');
    const { token } = await tokens.rotate(oldest.id, cliAuditContext());
    process.stderr.write(`api-token rotate is deprecated: this rotated "${oldest.name}" of ${oldest.owner}; use \`rounds-collector token list|add|rotate\`\n`);
    print(token);
    return 0;
  });
}

function tokensTable(tokens: ApiTokenView[]): string[] {
  return table([
    ['ID', 'PREFIX', 'NAME', 'OWNER', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED'],
    ...tokens.map((t) => [
      t.id,
      t.prefix,
      t.name,
      t.owner,
      t.state,
      iso(t.createdAt),
      t.expiresAt === null ? 'never' : iso(t.expiresAt),
      t.lastUsedAt === null ? 'never' : `${iso(t.lastUsedAt)} from ${t.lastUsedAddress ?? '?'}`,
    ]),
  ]);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
