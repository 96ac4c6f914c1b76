/**
 * What kind of storage failure an error from SQLite (better-sqlite3) or PostgreSQL (pg) is.
 * Errors that are about the statement — a unique constraint, a bad value — are not storage
 * failures and give undefined: storage works, the request was wrong.
 */
export type StorageFaultKind = 'disk_full' | 'io_error' | 'read_only' | 'locked' | 'corrupt' | 'unavailable';

export const STORAGE_FAULT_KINDS: readonly StorageFaultKind[] = ['disk_full', 'io_error', 'read_only', 'locked', 'corrupt', 'unavailable'];

export interface StorageFault {
  kind: StorageFaultKind;
  /** The driver's code (SQLITE_FULL, 53100, ECONNREFUSED…) and message. */
  detail: string;
}

/** What a person does about each kind; the data location is added by the caller. */
export const STORAGE_FAULT_ADVICE: Record<StorageFaultKind, string> = {
  disk_full: 'free disk space',
  io_error: 'check the disk and the system log for I/O errors',
  read_only: 'make the database writable by the collector (file system mounted read-only? file permissions?)',
  locked: 'stop the other process holding the database lock (a backup or sqlite3 shell?)',
  corrupt: 'stop the collector and restore the database from a backup',
  unavailable: 'check that the database server is running and reachable',
};

const SQLITE_KINDS: [RegExp, StorageFaultKind][] = [
  [/^SQLITE_FULL/, 'disk_full'],
  [/^SQLITE_IOERR/, 'io_error'],
  [/^SQLITE_READONLY/, 'read_only'],
  [/^SQLITE_(BUSY|LOCKED)/, 'locked'],
  [/^SQLITE_(CORRUPT|NOTADB)/, 'corrupt'],
  [/^SQLITE_CANTOPEN/, 'unavailable'],
];

function postgresKind(code: string): StorageFaultKind | undefined {
  if (code === '53100') return 'disk_full';
  if (code === '25006') return 'read_only';
  if (code === '55P03' || code === '40P01') return 'locked';
  if (code === 'XX001' || code === 'XX002') return 'corrupt';
  if (code.startsWith('58')) return 'io_error';
  if (code.startsWith('08') || code.startsWith('57P') || code.startsWith('53')) return 'unavailable';
  return undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);

export function storageFault(error: unknown): StorageFault | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    // TypeORM's QueryFailedError repeats the driver's class name in its message.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a thrown object without a message: its own toString, if any, is all there is to show
    const text = (typeof message === 'string' ? message : String(e)).replace(/^\w*Error: /, '');
    const detail = `${typeof code === 'string' ? `${code}: ` : ''}${text}`;
    if (typeof code === 'string') {
      const sqlite = SQLITE_KINDS.find(([pattern]) => pattern.test(code));
      if (sqlite) return { kind: sqlite[1], detail };
      const pg = /^[0-9A-Z]{5}$/.test(code) ? postgresKind(code) : undefined;
      if (pg) return { kind: pg, detail };
      if (NETWORK_CODES.has(code)) return { kind: 'unavailable', detail };
    }
    // TypeORM's QueryFailedError keeps the driver's error; RollbackFailedError its cause.
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}
