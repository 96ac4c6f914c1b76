import type { CollectorConfig } from '../config/env.js';
import { withContext, type AdminArgs } from '../cli/local.js';
import { cliAuditContext } from '../audit/audit.types.js';
import { table } from '../cli/table.js';
import { USER_ROLES } from './user.entity.js';
import { UsersService, type UserView } from './users.service.js';

const USAGE = `usage: rounds-collector user add --name <name> --role ${USER_ROLES.join('|')} [--password-stdin]
       rounds-collector user list
       rounds-collector user disable|enable|reset-password|reset-2fa <name>`;

/** Reads a password piped in (`--password-stdin`), without its final line break. */
export async function readPasswordFromStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const SHOWN_ONCE = 'shown once; it must be changed at the first sign-in';

/**
 * `user add|list|disable|enable|reset-password|reset-2fa`: the operator's side of users. A
 * generated password is printed once and never again (only its hash is stored).
 */
export async function userCommand(
  config: CollectorConfig,
  { positionals, values }: AdminArgs,
  print: (s: string) => void,
  readStdin: () => Promise<string> = readPasswordFromStdin,
): Promise<number> {
  const [sub, name] = positionals;
  if (sub === 'add') {
    const { name: n, role } = values;
    if (typeof n !== 'string' || n === '' || typeof role !== 'string' || role === '') throw new Error(`user add needs --name and --role\n${USAGE}`);
    const password = values['password-stdin'] === true ? await readStdin() : undefined;
    return withContext(config, async (app) => {
      const added = await app.get(UsersService).add({ name: n, role, password }, cliAuditContext());
      print(`added user ${added.user.name} (role ${added.user.role})`);
      print(added.password === undefined ? `the password read from stdin must be changed at the first sign-in` : `password (${SHOWN_ONCE}): ${added.password}`);
      return 0;
    });
  }
  if (sub === 'list') {
    return withContext(config, async (app) => {
      const users = await app.get(UsersService).list();
      if (users.length === 0) print('no users yet: `rounds-collector start` creates "admin" on its first start, or `rounds-collector user add`');
      else for (const row of usersTable(users)) print(row);
      return 0;
    });
  }
  if (sub !== 'disable' && sub !== 'enable' && sub !== 'reset-password' && sub !== 'reset-2fa') throw new Error(USAGE);
  if (!name) throw new Error(`user ${sub} needs the user's name\n${USAGE}`);
  return withContext(config, async (app) => {
    const users = app.get(UsersService);
    const context = cliAuditContext();
    switch (sub) {
      case 'disable':
        await users.setDisabled(name, true, context);
        print(`disabled user ${name}: they can no longer sign in (\`rounds-collector user enable ${name}\` undoes it)`);
        break;
      case 'enable':
        await users.setDisabled(name, false, context);
        print(`enabled user ${name}`);
        break;
      case 'reset-password': {
        const { user, password } = await users.resetPassword(name, context);
        print(`new password for ${user.name} (${SHOWN_ONCE}; the old one no longer works): ${password}`);
        break;
      }
      case 'reset-2fa':
        await users.resetTwoFactor(name, context);
        print(`cleared two-factor authentication of ${name}: they sign in with the password alone and can set it up again`);
        break;
    }
    return 0;
  });
}

function usersTable(users: UserView[]): string[] {
  return table([
    ['NAME', 'ROLE', 'STATE', 'MUST-CHANGE', '2FA', 'CREATED'],
    ...users.map((u) => [
      u.name,
      u.role,
      u.disabled ? 'disabled' : 'enabled',
      u.mustChangePassword ? 'yes' : 'no',
      u.twoFactor ? 'yes' : 'no',
      new Date(u.createdAt).toISOString(),
    ]),
  ]);
}
