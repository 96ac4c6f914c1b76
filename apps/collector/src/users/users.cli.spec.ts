import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase } from '../storage/testing.js';
import { verifyPassword } from './passwords.js';
import { queryDatabase, runCollectorCli } from '../cli/testing.js';

describe('rounds-collector user add | list | disable | enable | reset-password | reset-2fa', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  /** Runs the real CLI against the spec's database, `stdin` as its input. */
  const cli = (args: string[], stdin?: string) => runCollectorCli(db, args, { stdin });

  const query = <T>(sql: string) => queryDatabase<T>(db.config, sql);
  const storedHash = async (name: string) =>
    (await query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE name = '${name}'`))[0]!.password_hash;

  before(async () => {
    db = await openTestDatabase();
    await db.dataSource.destroy();
  });
  after(() => db.close());

  let alicePassword = '';

  it('add prints a generated password once, and list shows the user', async () => {
    const add = await cli(['user', 'add', '--name', 'alice', '--role', 'operator']);
    assert.equal(add.code, 0, add.output);
    const lines = add.output.trim().split('\n');
    assert.equal(lines[0], 'added user alice (role operator)');
    alicePassword = /^password \(shown once; it must be changed at the first sign-in\): (\S{20})$/.exec(lines[1] ?? '')?.[1] ?? '';
    assert.ok(alicePassword, add.output);
    assert.equal(await verifyPassword(await storedHash('alice'), alicePassword), true);
    const list = await cli(['user', 'list']);
    assert.equal(list.code, 0, list.output);
    const [header, row, ...rest] = list.output.trim().split('\n');
    assert.match(header!, /^NAME\s+ROLE\s+STATE\s+MUST-CHANGE\s+2FA\s+CREATED$/);
    assert.match(row!, /^alice\s+operator\s+enabled\s+yes\s+no\s+\d{4}-\d\d-\d\dT\S+Z$/);
    assert.equal(rest.length, 0);
  });

  it('add --password-stdin applies the policy and says which rule failed', async () => {
    const weak = await cli(['user', 'add', '--name', 'bob', '--role', 'viewer', '--password-stdin'], 'bob-is-here-today\n');
    assert.equal(weak.code, 1, weak.output);
    assert.equal(weak.output.trim(), 'rounds-collector: invalid user "bob": password: the password must not be or contain the user name');
    const ok = await cli(['user', 'add', '--name', 'bob', '--role', 'viewer', '--password-stdin'], 'violet tram at noon\n');
    assert.equal(ok.code, 0, ok.output);
    assert.doesNotMatch(ok.output, /violet/);
    assert.equal(await verifyPassword(await storedHash('bob'), 'violet tram at noon'), true);
  });

  it('disable shows in the list; an unknown name is an error naming it and what to do', async () => {
    assert.equal((await cli(['user', 'disable', 'alice'])).code, 0);
    assert.match((await cli(['user', 'list'])).output, /\nalice\s+operator\s+disabled\s/);
    const missing = await cli(['user', 'enable', 'ghost']);
    assert.equal(missing.code, 1, missing.output);
    assert.equal(missing.output.trim(), 'rounds-collector: no user named "ghost" — `rounds-collector user list` shows the users');
  });

  it('reset-password prints a new password that verifies while the old one no longer does', async () => {
    const reset = await cli(['user', 'reset-password', 'alice']);
    assert.equal(reset.code, 0, reset.output);
    const fresh = /: (\S{20})$/.exec(reset.output.trim())?.[1] ?? '';
    assert.ok(fresh && fresh !== alicePassword, reset.output);
    const hash = await storedHash('alice');
    assert.equal(await verifyPassword(hash, fresh), true);
    assert.equal(await verifyPassword(hash, alicePassword), false);
    assert.equal((await cli(['user', 'reset-2fa', 'alice'])).code, 0);
  });

  it('writes an audit row per change, as cli:<os user>, with no password or hash in it', async () => {
    const rows = await query<{ actor: string; action: string; target_name: string; before_json: string | null; after_json: string | null }>(
      'SELECT actor, action, target_name, before_json, after_json FROM audit_log ORDER BY id',
    );
    assert.deepEqual(
      rows.map((r) => `${r.action} ${r.target_name}`),
      ['user.add alice', 'user.add bob', 'user.disable alice', 'user.reset-password alice', 'user.reset-2fa alice'],
    );
    for (const r of rows) assert.equal(r.actor, `cli:${userInfo().username}`);
    const text = JSON.stringify(rows);
    for (const secret of [alicePassword, 'violet', 'scrypt$', await storedHash('alice')]) assert.ok(!text.includes(secret), secret);
  });
});
