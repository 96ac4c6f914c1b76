import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMON_PASSWORDS } from './common-passwords.js';
import { hashPassword, PasswordHasher, passwordProblem, randomPassword, verifyPassword } from './passwords.js';

describe('password hashes', () => {
  it('are stored as scrypt$32768$8$1$<32-byte salt>$<64-byte key> in base64, salted afresh each time', async () => {
    const stored = await hashPassword('correct horse battery');
    const [scheme, n, r, p, salt, key, ...rest] = stored.split('$');
    assert.deepEqual([scheme, n, r, p, rest.length], ['scrypt', '32768', '8', '1', 0]);
    assert.equal(Buffer.from(salt!, 'base64').length, 32);
    assert.equal(Buffer.from(key!, 'base64').length, 64);
    assert.notEqual(await hashPassword('correct horse battery'), stored);
  });

  it('verify the password they were made from and refuse any other', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword(stored, 'correct horse battery'), true);
    assert.equal(await verifyPassword(stored, 'correct horse batterY'), false);
    assert.equal(await verifyPassword(stored, ''), false);
  });

  it('verify with the parameters written in the hash, so hashes made with other parameters keep working', async () => {
    const stored = await hashPassword('correct horse battery');
    const [, , , , salt] = stored.split('$');
    const { scryptSync } = await import('node:crypto');
    const older = [
      'scrypt',
      2 ** 14,
      8,
      1,
      salt,
      scryptSync('correct horse battery', Buffer.from(salt!, 'base64'), 32, { N: 2 ** 14 }).toString('base64'),
    ].join('$');
    assert.equal(await verifyPassword(older, 'correct horse battery'), true);
  });

  it('refuse a stored string that is not a readable scrypt hash instead of throwing', async () => {
    for (const bad of [
      '',
      'plain',
      'bcrypt$2$8$1$c2FsdA==$a2V5',
      'scrypt$x$8$1$c2FsdA==$a2V5',
      `scrypt$${2 ** 30}$8$1$c2FsdA==$a2V5`,
      'scrypt$32768$8$1$$a2V5',
    ]) {
      assert.equal(await verifyPassword(bad, 'anything'), false, bad);
    }
  });

  it('the dummy hash is made once, with the current parameters, and no password verifies against it', async () => {
    const hasher = new PasswordHasher();
    const dummy = await hasher.dummyHash();
    assert.equal(await hasher.dummyHash(), dummy);
    assert.match(dummy, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await hasher.verify(dummy, ''), false);
  });

  it('random passwords are 20 base64url characters and differ', () => {
    const a = randomPassword();
    assert.match(a, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(randomPassword(), a);
  });
});

describe('password policy', () => {
  it('accepts a long password unrelated to the name', () => {
    assert.equal(passwordProblem('violet tram at noon', 'alice'), null);
  });

  it('refuses fewer than 12 characters, counting characters rather than bytes', () => {
    assert.equal(passwordProblem('x7#kQ9!mZ2a', 'alice'), 'the password must be at least 12 characters long');
    assert.equal(passwordProblem('ééééééééééé', 'alice'), 'the password must be at least 12 characters long');
    assert.equal(passwordProblem('x7#kQ9!mZ2ab', 'alice'), null);
  });

  it('refuses the user name itself or a password containing it, ignoring case', () => {
    assert.equal(passwordProblem('radiologist1', 'Radiologist1'), 'the password must not be or contain the user name');
    assert.equal(passwordProblem('my-ALICE-password', 'alice'), 'the password must not be or contain the user name');
  });

  it('refuses a common password, ignoring case', () => {
    assert.equal(passwordProblem('Password1234', 'alice'), 'the password is on the list of commonly used passwords — choose another');
    assert.equal(passwordProblem('QWERTYUIOP123', 'alice'), 'the password is on the list of commonly used passwords — choose another');
  });

  it('ships about two hundred common passwords, all lower-cased', () => {
    assert.ok(COMMON_PASSWORDS.size >= 200, String(COMMON_PASSWORDS.size));
    for (const p of COMMON_PASSWORDS) assert.equal(p, p.toLowerCase());
  });
});
