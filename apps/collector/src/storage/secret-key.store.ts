import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CollectorConfig } from '../config/env.js';
import { MAKE_A_KEY, SECRET_KEY_BYTES, secretKey, type SecretKey } from './secret-box.js';

/** The key file's name beside the SQLite database (ROUNDS_DATA_DIR). */
export const SECRET_KEY_FILE_NAME = 'secret.key';

/** Where the key comes from: the environment (ROUNDS_SECRET_KEY) or a file, created on first start when missing. */
export type SecretKeySource = { readonly key: Buffer } | { readonly file: string };

/** ROUNDS_SECRET_KEY, else ROUNDS_SECRET_KEY_FILE, else `secret.key` in ROUNDS_DATA_DIR (env.ts requires one of the first two with PostgreSQL). */
export function secretKeySourceOf(config: Pick<CollectorConfig, 'dataDir' | 'secretKey' | 'secretKeyFile'>): SecretKeySource {
  if (config.secretKey) return { key: config.secretKey };
  return { file: config.secretKeyFile ?? join(config.dataDir, SECRET_KEY_FILE_NAME) };
}

/** The current key, and the key of a rotation that stopped after its commit (its `.new` file), if one is left. */
export interface LoadedKeys {
  current: SecretKey;
  fallbacks: SecretKey[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The key for agent tokens and channel secrets. A missing file is created (0600) — the first
 * start; a file that is unreadable, holds no 32-byte key or that group or others may read
 * stops the collector with a message naming the file and what to do.
 */
export function loadSecretKeys(source: SecretKeySource): LoadedKeys {
  if ('key' in source) return { current: secretKey(source.key, 'ROUNDS_SECRET_KEY'), fallbacks: [] };
  const file = source.file;
  let current: SecretKey;
  if (existsSync(file)) {
    current = readKeyFile(file);
  } else {
    const bytes = randomBytes(SECRET_KEY_BYTES);
    writeKeyFile(file, bytes, true);
    current = secretKey(bytes, file, true);
  }
  const staged = stagedKeyFile(file);
  return { current, fallbacks: existsSync(staged) ? [readKeyFile(staged)] : [] };
}

export function readKeyFile(file: string): SecretKey {
  let text: string;
  try {
    if (process.platform !== 'win32') {
      const mode = statSync(file).mode & 0o777;
      if (mode & 0o077) {
        throw new Error(
          `secret key file ${file} may be read by other users (mode ${mode.toString(8).padStart(4, '0')}) — run \`chmod 600 ${file}\` ` +
            '(and consider who may have copied it: `rounds-collector secrets rotate-key` replaces it)',
        );
      }
    }
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!err.code) throw e;
    throw new Error(`cannot read secret key file ${file} (${err.code}) — it must belong to the collector's user with mode 0600 (chown, chmod 600)`);
  }
  const bytes = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (bytes.length !== SECRET_KEY_BYTES) {
    throw new Error(
      `secret key file ${file} does not hold a ${SECRET_KEY_BYTES}-byte key in base64 — restore it from the backup saved with the database ` +
        `(a new key, e.g. from ${MAKE_A_KEY}, cannot open what this one encrypted; only for an empty database may you delete the file to have one created)`,
    );
  }
  return secretKey(bytes, file);
}

/** Writes a key as one base64 line, 0600, flushed to disk before anything is sealed with it. */
export function writeKeyFile(file: string, bytes: Buffer, exclusive: boolean): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': two processes starting on a fresh data dir cannot each create a key of their own.
  const fd = openSync(file, exclusive ? 'wx' : 'w', 0o600);
  try {
    writeSync(fd, `${bytes.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(file, 0o600);
  syncDir(dirname(file));
}

/** Where a rotation keeps the new key until its transaction has committed. */
export function stagedKeyFile(file: string): string {
  return `${file}.new`;
}

/** Rotation, step 1: a new key in `<file>.new` (one left by an interrupted rotation is replaced). */
export function stageNewKey(file: string): SecretKey {
  const staged = stagedKeyFile(file);
  if (existsSync(staged)) unlinkSync(staged);
  const bytes = randomBytes(SECRET_KEY_BYTES);
  writeKeyFile(staged, bytes, true);
  return secretKey(bytes, staged);
}

/** Rotation, step 2: a copy of the old key, `<file>.old-<date>`, kept until the rotation is done. */
export function keepOldKey(file: string, now: Date): string {
  const old = `${file}.old-${now.toISOString().replace(/[:.]/g, '-')}`;
  copyFileSync(file, old, constants.COPYFILE_EXCL);
  chmodSync(old, 0o600);
  syncDir(dirname(file));
  return old;
}

/** Rotation, step 4 (after the commit): the new key replaces the old one in one rename. */
export function installStagedKey(file: string): void {
  renameSync(stagedKeyFile(file), file);
  syncDir(dirname(file));
}

/** `<file>.new` and `<file>.old-*` that a rotation which stopped half-way left behind. */
export function leftoverRotationFiles(file: string): string[] {
  const name = basename(file);
  let entries: string[];
  try {
    entries = readdirSync(dirname(file));
  } catch {
    return [];
  }
  return entries
    .filter((e) => e === `${name}.new` || e.startsWith(`${name}.old-`))
    .sort()
    .map((e) => join(dirname(file), e));
}

export function removeKeyFile(file: string): void {
  unlinkSync(file);
  syncDir(dirname(file));
}

/** A rename or a new file survives a power cut only once its directory is flushed too. */
function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
