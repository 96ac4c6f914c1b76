import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Secret, TOTP, URI } from 'otpauth';
import { ManualClock } from '#rounds/common';
import type { AuditContext } from '../audit/audit.types.js';
import { readCollectorConfig } from '../config/env.js';
import { ConflictError, ValidationFailedError } from '../shared/errors.js';
import { openTestDatabase } from '../storage/testing.js';
import { BACKUP_CODE_COUNT } from './backup-codes.js';
import { PasswordHasher } from './passwords.js';
import { TwoFactorService } from './two-factor.service.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

const CONTEXT: AuditContext = { actor: 'alice', source: 'ui', address: '127.0.0.1', userAgent: 'spec' };
/** Mid-step, so a code one step off is still in the window on either side. */
const T0 = Date.UTC(2026, 11, 3, 12, 0, 15);

/** What the person's phone shows at `at` for `secret`. */
const codeAt = (secret: string, at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at });

describe('TwoFactorService', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let clock: ManualClock;
  let users: UsersService;
  let repository: UsersRepository;
  const service = (env: Record<string, string> = {}) => new TwoFactorService(repository, readCollectorConfig(env), clock);

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(T0);
    repository = new UsersRepository(db.dataSource);
    users = new UsersService(repository, new PasswordHasher());
    await users.add({ name: 'alice', role: 'operator', password: 'violet tram at noon' }, CONTEXT);
  });
  afterEach(() => db.close());

  const auditActions = async () => (await db.dataSource.query<{ action: string }[]>('SELECT action FROM audit_log ORDER BY id')).map((r) => r.action);

  /** Enrols alice as a browser would: the pending secret, then a code from the app. */
  async function enrol(twoFactor: TwoFactorService): Promise<{ secret: string; backupCodes: string[] }> {
    const pending = await twoFactor.beginSealed('alice');
    const { backupCodes } = await twoFactor.enable('alice', pending.secret, codeAt(pending.secret, clock.now()), CONTEXT);
    return { secret: pending.secret, backupCodes };
  }

  it('offers a QR code of an otpauth URI an authenticator app reads, and keeps the pending secret sealed', async () => {
    const twoFactor = service();
    const pending = await twoFactor.beginSealed('alice');
    const parsed = URI.parse(pending.uri);
    assert.ok(parsed instanceof TOTP);
    assert.equal(parsed.issuer, 'Rounds');
    assert.equal(parsed.label, 'alice');
    assert.equal(parsed.secret.base32, pending.secret);
    assert.equal(parsed.secret.bytes.length, 20);
    assert.match(pending.qrSvg, /^<svg[^>]*>[\s\S]*<path[\s\S]*<\/svg>\s*$/);
    assert.match(pending.sealed, /^enc:v1:/);
    assert.ok(!pending.sealed.includes(pending.secret));
    assert.equal(twoFactor.openPending(pending.sealed, 'alice'), pending.secret);
    // A mistyped code does not make the person scan again: the same secret comes back.
    assert.equal((await twoFactor.beginSealed('alice', pending.sealed)).secret, pending.secret);
    assert.equal(twoFactor.openPending('enc:v1:garbage', 'alice'), null);
    assert.equal(twoFactor.openPending(null, 'alice'), null);
  });

  it('enables with a current code only, stores the secret sealed and ten hashed backup codes, and audits without secrets', async () => {
    const twoFactor = service();
    const pending = await twoFactor.beginSealed('alice');
    await assert.rejects(twoFactor.enable('alice', pending.secret, codeAt(pending.secret, T0 - 5 * 60_000), CONTEXT), (e: unknown) => {
      assert.ok(e instanceof ValidationFailedError);
      assert.match(e.errors[0]!.message, /that code does not match — type the 6-digit code the app shows now/);
      return true;
    });
    assert.equal((await repository.findByName('alice'))!.totpSecret, null, 'a wrong code changes nothing');

    const { backupCodes } = await twoFactor.enable('alice', pending.secret, codeAt(pending.secret, T0), CONTEXT);
    assert.equal(backupCodes.length, BACKUP_CODE_COUNT);
    assert.equal(new Set(backupCodes).size, BACKUP_CODE_COUNT);
    for (const c of backupCodes) assert.match(c, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
    const stored = (await repository.findByName('alice'))!;
    assert.match(stored.totpSecret!, /^enc:v1:/);
    assert.equal(repository.totpSecretOf(stored), pending.secret);
    const hashes = JSON.parse(stored.backupCodes!) as string[];
    assert.equal(hashes.length, BACKUP_CODE_COUNT);
    const rows = JSON.stringify([await db.dataSource.query('SELECT * FROM users'), await db.dataSource.query('SELECT * FROM audit_log')]);
    for (const secret of [pending.secret, ...backupCodes, ...backupCodes.map((c) => c.replace('-', ''))])
      assert.ok(!rows.includes(secret), `${secret} is stored in clear`);
    assert.equal((await auditActions()).at(-1), 'user.enable-2fa');
    await assert.rejects(
      twoFactor.beginSealed('alice'),
      (e: unknown) => e instanceof ConflictError && /already has two-factor sign-in .* user reset-2fa alice/.test(e.message),
    );
  });

  it('accepts a code once: the same code again, or an older one, is refused (the code that enabled it is spent too)', async () => {
    const twoFactor = service();
    const { secret } = await enrol(twoFactor);
    assert.equal(await twoFactor.verify('alice', codeAt(secret, T0), CONTEXT), null, 'the enrolment code is spent');
    await clock.advance(30_000);
    const code = codeAt(secret, clock.now());
    assert.equal(await twoFactor.verify('alice', code, CONTEXT), 'totp');
    assert.equal(await twoFactor.verify('alice', code, CONTEXT), null, 'replayed');
    assert.equal(await twoFactor.verify('alice', codeAt(secret, T0), CONTEXT), null, 'an earlier step');
    // Two requests racing with one fresh code: one wins.
    await clock.advance(30_000);
    const fresh = codeAt(secret, clock.now());
    const both = await Promise.all([twoFactor.verify('alice', fresh, CONTEXT), twoFactor.verify('alice', fresh, CONTEXT)]);
    assert.deepEqual(both.sort(), ['totp', null].sort());
    // A phone 30 s off still works; 2 minutes off does not.
    await clock.advance(60_000);
    assert.equal(await twoFactor.verify('alice', codeAt(secret, clock.now() - 30_000), CONTEXT), 'totp');
    await clock.advance(60_000);
    assert.equal(await twoFactor.verify('alice', codeAt(secret, clock.now() - 120_000), CONTEXT), null);
    assert.equal(await twoFactor.verify('alice', 'not a code', CONTEXT), null);
    assert.equal(await twoFactor.verify('nobody', '123456', CONTEXT), null);
  });

  it('spends each backup code once, however it is typed, and counts what is left; new codes replace all old ones', async () => {
    const twoFactor = service();
    const { backupCodes } = await enrol(twoFactor);
    const [first, second] = backupCodes as [string, string];
    assert.equal(await twoFactor.verify('alice', ` ${first.toUpperCase().replace('-', ' ')} `, CONTEXT), 'backup');
    assert.equal(await twoFactor.verify('alice', first, CONTEXT), null, 'used already');
    assert.equal(await twoFactor.remainingBackupCodes('alice'), BACKUP_CODE_COUNT - 1);
    assert.equal((await auditActions()).at(-1), 'user.use-backup-code');
    const both = await Promise.all([twoFactor.verify('alice', second, CONTEXT), twoFactor.verify('alice', second, CONTEXT)]);
    assert.deepEqual(both.filter((r) => r === 'backup').length, 1, 'one code, two requests at once: one passes');

    const { backupCodes: renewed } = await twoFactor.regenerateBackupCodes('alice', CONTEXT);
    assert.equal(await twoFactor.remainingBackupCodes('alice'), BACKUP_CODE_COUNT);
    assert.equal(await twoFactor.verify('alice', backupCodes[2]!, CONTEXT), null, 'the old set is gone');
    assert.equal(await twoFactor.verify('alice', renewed[0]!, CONTEXT), 'backup');
    assert.equal((await auditActions()).filter((a) => a === 'user.backup-codes').length, 1);
  });

  it('an admin reset forgets the secret, the codes and the spent step; a disabled user passes no code', async () => {
    const twoFactor = service();
    const { secret, backupCodes } = await enrol(twoFactor);
    await users.resetTwoFactor('alice', CONTEXT);
    const reset = (await repository.findByName('alice'))!;
    assert.deepEqual([reset.totpSecret, reset.backupCodes, reset.totpLastStep], [null, null, null]);
    assert.equal(await twoFactor.verify('alice', backupCodes[0]!, CONTEXT), null);
    await assert.rejects(twoFactor.regenerateBackupCodes('alice', CONTEXT), ConflictError);

    const again = await enrol(twoFactor);
    assert.notEqual(again.secret, secret);
    await clock.advance(30_000);
    await users.setDisabled('alice', true, CONTEXT);
    assert.equal(await twoFactor.verify('alice', codeAt(again.secret, clock.now()), CONTEXT), null);
  });

  it('is required for the roles ROUNDS_2FA_REQUIRED_ROLES names, and for none by default', () => {
    assert.equal(service().requiredFor('admin'), false);
    const required = service({ ROUNDS_2FA_REQUIRED_ROLES: 'admin,operator' });
    assert.deepEqual([required.requiredFor('admin'), required.requiredFor('operator'), required.requiredFor('viewer')], [true, true, false]);
  });
});
