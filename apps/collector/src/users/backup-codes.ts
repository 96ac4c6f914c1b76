import { createHash, randomInt } from 'node:crypto';

/** How many one-time codes a user gets when setting up two-factor sign-in (and each time they ask for new ones). */
export const BACKUP_CODE_COUNT = 10;

/** Lower-case letters and digits without look-alikes (0/o, 1/l/i): codes are read off paper and typed. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const CODE_CHARS = 10;

/** `abcde-fghjk`: 10 characters of a 31-letter alphabet, about 49 bits — ample for a code that locks out after 5 wrong tries. */
export function newBackupCode(): string {
  const chars = Array.from({ length: CODE_CHARS }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** What a person typed, as the code it stands for: case, spaces and dashes do not count. */
export function normaliseBackupCode(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]/g, '');
  return code.length === CODE_CHARS && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

/**
 * The stored form: SHA-256 hex. The codes are random with ~49 bits, so a fast hash is enough — a
 * slow one protects guessable passwords, and these are not guessable.
 */
export function hashBackupCode(normalised: string): string {
  return createHash('sha256').update(`rounds-backup-code\0${normalised}`).digest('hex');
}

/** A fresh set: the codes to show once, and the hashes to store (a JSON array). */
export function newBackupCodes(): { codes: string[]; stored: string } {
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
  return { codes, stored: JSON.stringify(codes.map((c) => hashBackupCode(normaliseBackupCode(c)!))) };
}

/** The stored hashes; a damaged column reads as no codes left (the user asks for new ones). */
export function storedBackupCodes(stored: string | null): string[] {
  if (stored === null) return [];
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? parsed.filter((h): h is string => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)) : [];
  } catch {
    return [];
  }
}
