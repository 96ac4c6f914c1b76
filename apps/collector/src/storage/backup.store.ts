import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import type { DataSource } from 'typeorm';
import { ROUNDS_VERSION } from '#rounds/common';
import { SQLITE_FILE_NAME } from './data-source.js';
import { keyIdOf, SECRET_KEY_BYTES } from './secret-box.js';
import { readKeyFile, type SecretKeySource } from './secret-key.store.js';
import { isPostgres } from './transaction.js';

export const BACKUP_FORMAT = 'rounds-backup/1';
const MANIFEST = 'manifest.json';
const KEY_IN_BACKUP = 'secret.key';

/** What a backup holds besides the database: enough to say what it is and to check its key before anything is replaced. */
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  collectorVersion: string;
  /** Public id of the key the database's secrets are sealed with (secret-box.ts). */
  keyId: string;
  /** The key came from ROUNDS_SECRET_KEY: it is not in the backup, the operator keeps it. */
  keyFromEnvironment: boolean;
  databaseBytes: number;
}

/** The native connection TypeORM's better-sqlite3 driver holds: its online backup API. */
interface NativeSqlite {
  backup(file: string, options?: { progress?: (info: { totalPages: number; remainingPages: number }) => number | void }): Promise<unknown>;
}

/**
 * A consistent copy while the collector runs: SQLite's online backup API copies the database
 * page by page (writers go on meanwhile; pages they change are copied again), the copy is
 * checked (`PRAGMA integrity_check`), and written with the secret key and a manifest as one
 * gzip'd tar, 0600. Staged beside the target and renamed at the end: a full disk or any failure
 * leaves no partial file and changes nothing.
 */
export async function writeBackup(
  dataSource: DataSource,
  key: { source: SecretKeySource; id: string },
  target: string,
  progress: (percent: number) => void,
  now = new Date(),
): Promise<BackupManifest> {
  if (isPostgres(dataSource)) {
    throw new Error(
      'the database is PostgreSQL: back it up with pg_dump (and keep ROUNDS_SECRET_KEY with it) — `rounds-collector backup` copies the embedded SQLite database',
    );
  }
  const file = resolve(target);
  const dir = dirname(file);
  if (!existsSync(dir)) throw new Error(`${dir} does not exist — create the folder for the backup first`);
  const staging = mkdtempSync(join(dir, '.rounds-backup-'));
  const partial = `${file}.partial`;
  try {
    const database = join(staging, SQLITE_FILE_NAME);
    const native = (dataSource.driver as unknown as { databaseConnection: NativeSqlite }).databaseConnection;
    let reported = -1;
    await native.backup(database, {
      progress: ({ totalPages, remainingPages }) => {
        const percent = totalPages === 0 ? 100 : Math.floor((100 * (totalPages - remainingPages)) / totalPages);
        if (percent >= reported + 10 || percent === 100) progress((reported = percent));
        // Pages per step: large enough to finish fast, small enough that writers wait only a moment.
        return 1000;
      },
    });
    // A database copied in one step reports no progress on the way.
    if (reported < 100) progress(100);
    checkIntegrity(database, 'the copy just made');
    const entries = [MANIFEST, SQLITE_FILE_NAME];
    if ('file' in key.source) {
      copyFileSync(key.source.file, join(staging, KEY_IN_BACKUP));
      chmodSync(join(staging, KEY_IN_BACKUP), 0o600);
      entries.push(KEY_IN_BACKUP);
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: now.toISOString(),
      collectorVersion: ROUNDS_VERSION,
      keyId: key.id,
      keyFromEnvironment: !('file' in key.source),
      databaseBytes: statSync(database).size,
    };
    writeFileSync(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await tar.c({ gzip: true, file: partial, cwd: staging, portable: true }, entries);
    chmodSync(partial, 0o600);
    renameSync(partial, file);
    return manifest;
  } catch (e) {
    rmSync(partial, { force: true });
    throw spaceExplained(e, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A backup unpacked and checked, ready to be put in place. */
export interface CheckedBackup {
  manifest: BackupManifest;
  /** The folder it was unpacked into (inside the data folder, so the final moves are renames). */
  dir: string;
  hasKey: boolean;
}

/**
 * Unpacks `file` into a new folder inside `dataDir` and checks it — a Rounds backup, its
 * database whole (`PRAGMA integrity_check`), its key the one the manifest names — before
 * anything is replaced. A damaged or foreign file is refused, naming what is wrong.
 */
export async function unpackBackup(file: string, dataDir: string): Promise<CheckedBackup> {
  if (!existsSync(file)) throw new Error(`${file} does not exist — give the path of a file made by \`rounds-collector backup\``);
  mkdirSync(dataDir, { recursive: true });
  const dir = mkdtempSync(join(dataDir, '.restore-'));
  try {
    const allowed = new Set([MANIFEST, SQLITE_FILE_NAME, KEY_IN_BACKUP]);
    try {
      await tar.x({ file, cwd: dir, strict: true, filter: (path) => allowed.has(path) });
    } catch (e) {
      throw new Error(`${file} is not a Rounds backup or it is damaged (${(e as Error).message}) — nothing was changed`);
    }
    const manifest = readManifest(join(dir, MANIFEST), file);
    const database = join(dir, SQLITE_FILE_NAME);
    if (!existsSync(database)) throw new Error(`${file} holds no database — nothing was changed`);
    checkIntegrity(database, `the database in ${file}`);
    const keyFile = join(dir, KEY_IN_BACKUP);
    const hasKey = existsSync(keyFile);
    if (hasKey && readKeyFile(keyFile).id !== manifest.keyId) {
      throw new Error(`the key in ${file} is not the one its database was sealed with (${manifest.keyId}) — the backup is damaged; nothing was changed`);
    }
    return { manifest, dir, hasKey };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Puts a checked backup in place of the database (and key file) in `dataDir`; what was there
 * is moved to `before-restore-<time>/` in the data folder, not deleted. The collector must be
 * stopped (the caller checks).
 */
export function installBackup(backup: CheckedBackup, dataDir: string, keyFile: string | null, now = new Date()): { keptIn: string | null } {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const kept = join(dataDir, `before-restore-${stamp}`);
  const current = readdirSync(dataDir).filter((f) => f === SQLITE_FILE_NAME || f.startsWith(`${SQLITE_FILE_NAME}-`));
  const moves: [string, string][] = current.map((f) => [join(dataDir, f), join(kept, f)]);
  if (keyFile && backup.hasKey && existsSync(keyFile)) moves.push([keyFile, join(kept, basename(keyFile))]);
  if (moves.length > 0) mkdirSync(kept, { recursive: true, mode: 0o700 });
  for (const [from, to] of moves) renameSync(from, to);
  renameSync(join(backup.dir, SQLITE_FILE_NAME), join(dataDir, SQLITE_FILE_NAME));
  if (keyFile && backup.hasKey) renameSync(join(backup.dir, KEY_IN_BACKUP), keyFile);
  rmSync(backup.dir, { recursive: true, force: true });
  return { keptIn: moves.length > 0 ? kept : null };
}

/** The id of a key given as bytes (ROUNDS_SECRET_KEY), to compare with a backup's. */
export function keyIdOfBytes(bytes: Buffer): string | null {
  return bytes.length === SECRET_KEY_BYTES ? keyIdOf(bytes) : null;
}

function readManifest(path: string, file: string): BackupManifest {
  let manifest: Partial<BackupManifest>;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Partial<BackupManifest>;
  } catch {
    throw new Error(`${file} has no readable manifest: it is not a Rounds backup, or it is damaged — nothing was changed`);
  }
  if (manifest.format !== BACKUP_FORMAT || typeof manifest.keyId !== 'string') {
    throw new Error(`${file} is not a ${BACKUP_FORMAT} backup (format ${JSON.stringify(manifest.format)}) — nothing was changed`);
  }
  return manifest as BackupManifest;
}

function checkIntegrity(database: string, what: string): void {
  let result: unknown;
  try {
    const db = new Database(database, { readonly: true, fileMustExist: true });
    try {
      const rows = db.pragma('integrity_check') as { integrity_check: string }[];
      result = rows.map((r) => r.integrity_check).join('; ');
    } finally {
      db.close();
    }
  } catch (e) {
    throw new Error(`${what} cannot be read as a database (${(e as Error).message}) — nothing was changed`);
  }
  if (result !== 'ok') throw new Error(`${what} failed SQLite's integrity check (${String(result).slice(0, 200)}) — nothing was changed`);
}

function spaceExplained(e: unknown, dir: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const message = (e as Error).message;
  if (code === 'ENOSPC' || /SQLITE_FULL|disk is full|database or disk is full/i.test(message)) {
    return new Error(`no space left in ${dir} for the backup — nothing was written; free space there or give another place`);
  }
  return e instanceof Error ? e : new Error(String(e));
}
