import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { COMMON_PASSWORDS } from './common-passwords.js';

/**
 * scrypt parameters for new hashes (RFC 7914; the OWASP password storage cheat sheet's
 * N=2^15, r=8, p=1 — about 32 MiB and tens of milliseconds per hash). Each stored hash names its
 * own parameters, so raising them later only changes new hashes; old ones still verify.
 */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 32;
const KEY_BYTES = 64;
/** scrypt needs 128·N·r bytes; Node's default limit (32 MiB) is exactly that for N=2^15 and refuses it. */
const MAX_MEM = 256 * 2 ** 20;
/** Highest N a stored hash may ask for: a tampered row must not make one verify take gigabytes. */
const MAX_N = 2 ** 20;

function derive(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, { ...options, maxmem: MAX_MEM }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `password` matches `stored`; false for a wrong password and for a stored string it cannot read. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 || N > MAX_N || r < 1 || p < 1 || salt.length === 0 || expected.length === 0) return false;
  const actual = await derive(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/** A password to print once: 20 characters of base64url (120 random bits). */
export function randomPassword(): string {
  return randomBytes(15).toString('base64url');
}

export const PASSWORD_MIN_LENGTH = 12;

/**
 * Why `password` may not be chosen by `userName`, or null when it may. Applied to passwords a
 * person chooses; generated ones are random and skip it. The name counts as contained only from
 * three characters on: a two-letter name would otherwise rule out every password holding those letters.
 */
export function passwordProblem(password: string, userName: string): string | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return `the password must be at least ${PASSWORD_MIN_LENGTH} characters long`;
  const lower = password.toLowerCase();
  const name = userName.toLowerCase();
  if (lower === name || (name.length >= 3 && lower.includes(name))) return 'the password must not be or contain the user name';
  if (COMMON_PASSWORDS.has(lower)) return 'the password is on the list of commonly used passwords — choose another';
  return null;
}

/**
 * Hashing and verifying as an injectable, so a sign-in for an unknown user can be seen (in
 * specs) to take the same path as a wrong password: it verifies against a dummy hash made once.
 */
@Injectable()
export class PasswordHasher {
  private dummy?: Promise<string>;

  hash(password: string): Promise<string> {
    return hashPassword(password);
  }

  verify(stored: string, password: string): Promise<boolean> {
    return verifyPassword(stored, password);
  }

  /** A hash of a random password nobody knows, with the current parameters: verifying against it costs what a real one does. */
  dummyHash(): Promise<string> {
    this.dummy ??= hashPassword(randomPassword());
    return this.dummy;
  }
}
