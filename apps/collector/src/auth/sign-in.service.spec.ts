import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../storage/data-source.js';
import { openTestDatabase, rowCount, TEST_ON_POSTGRES } from '../storage/testing.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import type { AuditContext } from '../audit/audit.types.js';
import { PasswordHasher } from '../users/passwords.js';
import { UsersRepository } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';
import { LOCKOUT_MS } from './lockouts.js';
import { SignInRepository } from './sign-in.repository.js';
import { SignInService, WRONG_CREDENTIALS } from './sign-in.service.js';

const PASSWORD = 'correct horse battery staple';
const from = (address: string): AuditContext => ({ actor: 'spec', source: 'ui', address, userAgent: 'spec' });

describe('SignInService', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let clock: ManualClock;
  let signIn: SignInService;
  let users: UsersService;

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(1_800_000_000_000);
    users = new UsersService(new UsersRepository(db.dataSource), new PasswordHasher());
    signIn = new SignInService(users, new SignInRepository(db.dataSource), clock);
    await users.add({ name: 'alice', role: 'operator', password: PASSWORD }, SPEC_AUDIT);
  });
  afterEach(() => db.close());

  const actions = async () =>
    (
      await db.dataSource.query<{ action: string; target_kind: string; target_name: string }[]>(
        'SELECT action, target_kind, target_name FROM audit_log WHERE id > 1 ORDER BY id',
      )
    ).map((r) => `${r.action} ${r.target_kind}:${r.target_name}`);

  it('signs in with the right password and answers a wrong password and an unknown name alike', async () => {
    const ok = await signIn.password('ALICE', PASSWORD, from('10.0.0.1'));
    assert.ok(ok.ok);
    assert.equal(ok.user.name, 'alice');
    const wrong = await signIn.password('alice', 'not the password at all', from('10.0.0.1'));
    const unknown = await signIn.password('nobody', PASSWORD, from('10.0.0.1'));
    assert.deepEqual(wrong, { ok: false, message: WRONG_CREDENTIALS });
    assert.deepEqual(unknown, wrong);
    assert.deepEqual(await actions(), ['user.sign-in-failed user:alice', 'user.sign-in-failed user:nobody']);
  });

  it('refuses a disabled account with the same answer as a wrong password', async () => {
    await users.setDisabled('alice', true, SPEC_AUDIT);
    assert.deepEqual(await signIn.password('alice', PASSWORD, from('10.0.0.1')), { ok: false, message: WRONG_CREDENTIALS });
  });

  it('locks an account for 5 minutes after 5 failures from any addresses — even the right password — and audits it', async () => {
    for (let i = 1; i <= 4; i++) assert.equal((await signIn.password('alice', `guess number ${i}!`, from(`10.0.0.${i}`))).ok, false);
    const fifth = await signIn.password('alice', 'guess number 5!', from('10.0.0.5'));
    assert.ok(!fifth.ok);
    assert.equal(fifth.retryAfterMs, LOCKOUT_MS);
    assert.match(
      fifth.message,
      /^too many failed sign-ins for "alice": it is locked for 5 minutes more — wait, or an admin can run `rounds-collector user reset-password alice`$/,
    );
    const locked = await signIn.password('alice', PASSWORD, from('10.0.0.9'));
    assert.ok(!locked.ok && locked.retryAfterMs === LOCKOUT_MS, 'the right password is refused while locked');
    assert.equal((await actions()).filter((a) => a === 'user.lockout user:alice').length, 1);
    await clock.advance(LOCKOUT_MS);
    assert.ok((await signIn.password('alice', PASSWORD, from('10.0.0.9'))).ok, 'the lock ends after 5 minutes');
  });

  it('keeps the lock across a restart (it lives in the users table)', async () => {
    for (let i = 0; i < 5; i++) await signIn.password('alice', 'wrong wrong wrong', from(`10.0.1.${i}`));
    const restarted = new SignInService(users, new SignInRepository(db.dataSource), clock);
    assert.equal((await restarted.password('alice', PASSWORD, from('10.0.2.1'))).ok, false);
  });

  it('locks an address after 5 failures across names, for every name, and audits it', async () => {
    for (let i = 0; i < 5; i++) await signIn.password(`user${i}`, 'wrong wrong wrong', from('192.0.2.7'));
    const refused = await signIn.password('alice', PASSWORD, from('192.0.2.7'));
    assert.ok(!refused.ok);
    assert.match(refused.message, /^too many failed sign-ins from 192\.0\.2\.7: signing in from there is blocked for 5 minutes more$/);
    assert.ok((await signIn.password('alice', PASSWORD, from('192.0.2.8'))).ok, 'another address is not blocked');
    assert.ok((await actions()).includes('user.lockout address:192.0.2.7'));
    await clock.advance(LOCKOUT_MS);
    assert.ok((await signIn.password('alice', PASSWORD, from('192.0.2.7'))).ok);
  });

  it('locks an unknown name exactly like a real one, so lockouts do not reveal which names exist', async () => {
    const answers = async (name: string) => {
      const out: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await signIn.password(name, 'wrong wrong wrong', from(`198.51.100.${name.length * 10 + i}`));
        out.push(r.ok ? 'ok' : r.message.replaceAll(name, 'NAME'));
      }
      return out;
    };
    assert.deepEqual(await answers('ghost'), await answers('alice'));
  });

  it('counts a wrong second-factor code towards the account lockout', async () => {
    const alice = (await users.findForSignIn('alice'))!;
    for (let i = 0; i < 4; i++) assert.match(((await signIn.secondFactorFailed(alice, from('10.0.3.1'))) as { message: string }).message, /^wrong code/);
    const fifth = await signIn.secondFactorFailed(alice, from('10.0.3.1'));
    assert.ok(!fifth.ok && fifth.retryAfterMs === LOCKOUT_MS);
  });

  describe('on several collectors', () => {
    let other: DataSource;
    let collectors: SignInService[];

    beforeEach(async () => {
      // PostgreSQL: a second collector has a pool of its own; SQLite has one collector.
      other = TEST_ON_POSTGRES ? await createDataSource(db.config).initialize() : db.dataSource;
      const otherUsers = new UsersService(new UsersRepository(other), new PasswordHasher());
      collectors = [signIn, new SignInService(otherUsers, new SignInRepository(other), clock)];
    });
    afterEach(async () => {
      if (other !== db.dataSource) await other.destroy();
    });

    it('counts failures from one address on any collector towards one lockout, seen by every collector', async () => {
      for (let i = 0; i < 4; i++)
        assert.equal(
          ((await collectors[i % 2]!.password(`user${i}`, 'wrong wrong wrong', from('203.0.113.5'))) as { message: string }).message,
          WRONG_CREDENTIALS,
        );
      const fifth = await collectors[0]!.password('user4', 'wrong wrong wrong', from('203.0.113.5'));
      assert.ok(!fifth.ok && fifth.retryAfterMs === LOCKOUT_MS, 'the fifth failure overall locks the address');
      for (const c of collectors) assert.ok(!(await c.password('alice', PASSWORD, from('203.0.113.5'))).ok, 'locked on every collector');
      await clock.advance(LOCKOUT_MS);
      assert.ok((await collectors[1]!.password('alice', PASSWORD, from('203.0.113.5'))).ok);
    });

    it("counts an unknown name's failures on any collector, like a known account's", async () => {
      for (let i = 0; i < 4; i++) await collectors[i % 2]!.password('ghost', 'wrong wrong wrong', from(`198.18.0.${i}`));
      const fifth = await collectors[1]!.password('Ghost', 'wrong wrong wrong', from('198.18.0.9'));
      assert.match((fifth as { message: string }).message, /^too many failed sign-ins for "Ghost": it is locked for 5 minutes more/);
      assert.ok(!(await collectors[0]!.password('ghost', 'anything at all', from('198.18.0.10'))).ok);
    });

    it('counts failures arriving at once on two collectors each once: five lock the address, once', async () => {
      await Promise.all(Array.from({ length: 5 }, (_, i) => collectors[i % 2]!.password(`user${i}`, 'wrong wrong wrong', from('203.0.113.9'))));
      assert.ok(!(await collectors[1]!.password('alice', PASSWORD, from('203.0.113.9'))).ok, 'locked');
      assert.equal((await actions()).filter((a) => a === 'user.lockout address:203.0.113.9').length, 1);
    });

    it('forgets the failures of addresses and names not seen for 15 minutes', async () => {
      for (let i = 0; i < 3; i++) await signIn.password(`name${i}`, 'wrong wrong wrong', from(`192.0.2.${100 + i}`));
      assert.equal(await rowCount(db.dataSource, 'sign_in_lockouts'), 6);
      await clock.advance(15 * 60_000 + 1);
      await signIn.password('someone', 'wrong wrong wrong', from('192.0.2.200'));
      assert.equal(await rowCount(db.dataSource, 'sign_in_lockouts'), 2, "only the newest failure's address and name are left");
    });
  });
});
