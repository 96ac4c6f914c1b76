import { randomUUID } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * One agent per spool folder. Two agents replaying, appending to and compacting the same
 * segments would hand the collector the same seqs twice and delete each other's files.
 *
 * Why a lock file created with O_EXCL and not flock(2): Node has no flock in its core API
 * (only native add-ons, which the agent does not ship), and O_CREAT|O_EXCL is atomic on
 * every local file system, on NFSv3+ and on Windows alike. What an O_EXCL file lacks is
 * release on death — a killed agent leaves it behind — so the file names its holder
 * (pid, and on Linux the process start time from /proc, which tells a reused pid from the
 * holder) and a lock whose holder no longer runs is taken over, with a warning.
 */
export const LOCK_FILE = 'agent.lock';

interface LockContent {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks after boot); null off Linux. */
  procStart: string | null;
  /** Tells two holders inside one process apart (in-process restarts, tests). */
  token: string;
  since: string;
}

/** Another live agent holds the spool folder. */
export class SpoolLockedError extends Error {}

/** Tokens of the locks this process holds, by folder. */
const heldHere = new Map<string, string>();

function procStart(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'; field 22 is index 19 there.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function decode(text: string): LockContent | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockContent>;
    if (!Number.isSafeInteger(o.pid) || typeof o.token !== 'string') return undefined;
    return { pid: o.pid!, procStart: typeof o.procStart === 'string' ? o.procStart : null, token: o.token, since: String(o.since ?? '?') };
  } catch {
    return undefined;
  }
}

/** Why the holder no longer holds the folder, or undefined while it runs. */
function staleBecause(dir: string, holder: LockContent): string | undefined {
  if (holder.pid === process.pid) {
    return heldHere.get(dir) === holder.token ? undefined : `pid ${holder.pid} is this process, which had not taken it (a restart reusing the pid)`;
  }
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    // EPERM: the process exists under another user, so it may well be an agent.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return `no process has pid ${holder.pid} any more`;
  }
  const now = procStart(holder.pid);
  if (holder.procStart !== null && now !== null && now !== holder.procStart) return `pid ${holder.pid} now belongs to another process`;
  return undefined;
}

export interface SpoolLock {
  /** Removes the lock file if it is still this holder's. Never throws. */
  release(): void;
}

/**
 * Takes `dir`'s lock or throws SpoolLockedError naming the folder, the holder's pid and
 * what to do; a stale lock is taken over and `warn` says so. `configPath` is named in the
 * message. Other I/O errors are thrown as they are (the caller reports the folder unusable).
 */
export async function lockSpoolDir(dir: string, configPath: string, warn: (message: string) => void): Promise<SpoolLock> {
  const path = join(dir, LOCK_FILE);
  const mine: LockContent = { pid: process.pid, procStart: procStart(process.pid), token: randomUUID(), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw e;
      const holder = await readHolder(path);
      if (holder === null) continue; // removed meanwhile: try again
      const why = holder === undefined ? 'its content is not a lock (a write cut short by a crash)' : staleBecause(dir, holder);
      if (why === undefined) {
        const h = holder!;
        throw new SpoolLockedError(
          `spool.dir ${dir} is in use by another rounds-agent (pid ${h.pid}, since ${h.since}; lock ${path}): two agents on one spool would ` +
            `hand the collector the same results twice. Stop that agent first (kill ${h.pid}, or systemctl stop rounds-agent), or give this one ` +
            `its own spool.dir and listen address in ${configPath}`,
        );
      }
      if (takeOver(path, holder)) warn(`spool ${dir}: took over the lock ${path} left by an agent that did not stop cleanly (${why})`);
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(mine)}\n`);
    } finally {
      closeSync(fd);
    }
    heldHere.set(dir, mine.token);
    return {
      release: () => {
        if (heldHere.get(dir) === mine.token) heldHere.delete(dir);
        try {
          // Only our own: a holder that took over after we were presumed dead keeps its lock.
          if (decode(readFileSync(path, 'utf8'))?.token === mine.token) unlinkSync(path);
        } catch {
          // Gone already, or unreadable: the next start judges what is left.
        }
      },
    };
  }
}

/** The holder, undefined when the file is not a lock, null when it vanished. Waits briefly for a holder still writing it. */
async function readHolder(path: string): Promise<LockContent | undefined | null> {
  for (let i = 0; ; i++) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const holder = decode(text);
    if (holder || i >= 10) return holder;
    await sleep(50);
  }
}

/**
 * Moves the stale lock out of the way; false when another starting agent was quicker.
 * Renaming (atomic) rather than deleting means two agents that both judged it stale can
 * never both remove it: the second one's rename finds nothing, or finds the first one's
 * fresh lock, which it puts back.
 */
function takeOver(path: string, stale: LockContent | undefined): boolean {
  const aside = `${path}.${process.pid}.${randomUUID()}.stale`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  let moved: LockContent | undefined;
  try {
    moved = decode(readFileSync(aside, 'utf8'));
  } catch {
    moved = undefined;
  }
  if (moved?.token !== stale?.token) {
    try {
      linkSync(aside, path); // fails if a third one locked meanwhile: then that one holds it
    } catch {
      // The next attempt judges whoever holds it now.
    }
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}
