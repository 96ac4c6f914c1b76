import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it, mock } from 'node:test';
import { openTestDatabase } from '../storage/testing.js';
import { firstAdminNotice } from '../cli/serve.js';
import type { AuditContext } from '../audit/audit.types.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { PasswordHasher } from './passwords.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

const CONTEXT: AuditContext = { actor: 'cli:tester', source: 'cli', address: null, userAgent: null };

describe('UsersService', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let hasher: PasswordHasher;
  let users: UsersService;
  let repository: UsersRepository;

  beforeEach(async () => {
    db = await openTestDatabase();
    hasher = new PasswordHasher();
    repository = new UsersRepository(db.dataSource);
    users = new UsersService(repository, hasher);
  });
  afterEach(() => db.close());
  after(() => mock.restoreAll());

  const auditRows = async (): Promise<{ actor: string; action: string; target_name: string; before_json: string | null; after_json: string | null }[]> =>
    db.dataSource.query('SELECT actor, action, target_name, before_json, after_json FROM audit_log ORDER BY id');

  it('creates admin on first start with must-change and a printed password that verifies, and not again on the second start', async () => {
    const first = await users.ensureFirstAdmin();
    assert.ok(first);
    assert.equal(first.name, 'admin');
    const stored = await repository.findByName('admin');
    assert.equal(stored?.role, 'admin');
    assert.equal(stored?.mustChangePassword, true);
    assert.equal(await hasher.verify(stored.passwordHash, first.password), true);
    assert.match(
      firstAdminNotice(first),
      new RegExp(`the password ${first.password} — shown once; it must be changed at the first sign-in.*rounds-collector user reset-password admin`),
    );
    assert.equal(await users.ensureFirstAdmin(), null);
    assert.equal((await users.list()).length, 1);
    const [row, ...more] = await auditRows();
    assert.equal(more.length, 0);
    assert.equal(row?.actor, 'system');
    assert.equal(row?.action, 'user.add');
  });

  it('two collectors starting at once on one new database make one first admin, and neither fails', async () => {
    const other = new UsersService(new UsersRepository(db.dataSource), new PasswordHasher());
    const made = await Promise.all([users.ensureFirstAdmin(), other.ensureFirstAdmin()]);
    assert.equal(made.filter((m) => m !== null).length, 1, 'one prints the password');
    assert.deepEqual(
      (await users.list()).map((u) => u.name),
      ['admin'],
    );
  });

  it('adds a user with a generated password that verifies, or with a chosen one that passes the policy, and never returns or audits a secret', async () => {
    const generated = await users.add({ name: 'alice', role: 'operator' }, CONTEXT);
    assert.ok(generated.password);
    assert.equal((await users.authenticate('alice', generated.password))?.name, 'alice');
    const chosen = await users.add({ name: 'bob', role: 'viewer', password: 'violet tram at noon' }, CONTEXT);
    assert.equal(chosen.password, undefined);
    assert.equal((await users.authenticate('BOB', 'violet tram at noon'))?.role, 'viewer');
    const bob = await repository.findByName('bob');
    for (const row of await auditRows()) {
      const text = JSON.stringify(row);
      assert.ok(!text.includes(generated.password) && !text.includes('violet') && !text.includes(bob!.passwordHash) && !text.includes('scrypt$'), text);
    }
    assert.deepEqual(JSON.parse((await auditRows())[1]!.after_json!), {
      name: 'bob',
      role: 'viewer',
      disabled: false,
      mustChangePassword: true,
      twoFactor: false,
    });
  });

  it('refuses a chosen password with the rule it breaks, naming the user', async () => {
    await assert.rejects(users.add({ name: 'carol', role: 'viewer', password: 'short' }, CONTEXT), (e: unknown) => {
      assert.ok(e instanceof ValidationFailedError);
      assert.equal(e.message, 'invalid user "carol"');
      assert.deepEqual(e.errors, [{ field: 'password', message: 'the password must be at least 12 characters long' }]);
      return true;
    });
    await assert.rejects(users.add({ name: 'carol', role: 'viewer', password: 'Carol-radiology' }, CONTEXT), {
      errors: [{ field: 'password', message: 'the password must not be or contain the user name' }],
    });
    await assert.rejects(users.add({ name: 'carol', role: 'viewer', password: 'password1234' }, CONTEXT), {
      errors: [{ field: 'password', message: 'the password is on the list of commonly used passwords — choose another' }],
    });
    assert.deepEqual(await users.list(), []);
  });

  it('refuses a bad name, an unknown role and a name taken in any case', async () => {
    await assert.rejects(users.add({ name: 'two words', role: 'viewer' }, CONTEXT), {
      errors: [{ field: 'name', message: 'use 1 to 64 letters, digits, dots, dashes, underscores or @' }],
    });
    await assert.rejects(users.add({ name: 'dave', role: 'root' }, CONTEXT), {
      errors: [{ field: 'role', message: '"root" is not a role: use one of admin, operator, viewer' }],
    });
    await users.add({ name: 'dave', role: 'viewer' }, CONTEXT);
    await assert.rejects(users.add({ name: 'DAVE', role: 'viewer' }, CONTEXT), (e: unknown) => {
      assert.ok(e instanceof ConflictError);
      assert.match(e.message, /^a user named "dave" already exists \(names ignore case\) — choose another name than "DAVE"/);
      return true;
    });
  });

  it('an unknown user is checked against the dummy hash, with the same answer as a wrong password', async () => {
    const { password } = await users.add({ name: 'erin', role: 'viewer' }, CONTEXT);
    const verify = mock.method(hasher, 'verify');
    assert.equal(await users.authenticate('erin', `${password!}x`), null);
    assert.equal(await users.authenticate('nobody', password!), null);
    assert.equal(verify.mock.callCount(), 2);
    assert.equal(verify.mock.calls[1]!.arguments[0], await hasher.dummyHash());
  });

  it('disables and enables, resets the password (the old one stops working) and 2FA, auditing each without secrets', async () => {
    const { password: old } = await users.add({ name: 'frank', role: 'operator' }, CONTEXT);
    assert.equal((await users.setDisabled('frank', true, CONTEXT)).disabled, true);
    assert.equal(await users.authenticate('frank', old!), null);
    await users.setDisabled('frank', false, CONTEXT);
    const { password } = await users.resetPassword('frank', CONTEXT);
    assert.equal(await users.authenticate('frank', old!), null);
    assert.equal((await users.authenticate('frank', password))?.mustChangePassword, true);
    await db.dataSource.query(`UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE name = 'frank'`);
    assert.equal((await users.list())[0]?.twoFactor, true);
    assert.equal((await users.resetTwoFactor('frank', CONTEXT)).twoFactor, false);
    const rows = await auditRows();
    assert.deepEqual(
      rows.map((r) => r.action),
      ['user.add', 'user.disable', 'user.enable', 'user.reset-password', 'user.reset-2fa'],
    );
    assert.deepEqual(JSON.parse(rows[4]!.before_json!), { name: 'frank', role: 'operator', disabled: false, mustChangePassword: true, twoFactor: true });
    const text = JSON.stringify(rows);
    for (const secret of [old!, password, 'JBSWY3DPEHPK3PXP', 'scrypt$']) assert.ok(!text.includes(secret), secret);
  });

  it('names the user and what to do when there is no such user', async () => {
    await assert.rejects(users.resetPassword('ghost', CONTEXT), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.message, 'no user named "ghost" — `rounds-collector user list` shows the users');
      return true;
    });
  });
});
