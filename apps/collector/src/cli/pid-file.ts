import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `<data dir>/collector.pid`: a serving collector's pid, so that commands that must not run beside it (restore) can tell. */
function pidFile(dataDir: string): string {
  return join(dataDir, 'collector.pid');
}

export function writePidFile(dataDir: string): void {
  // On PostgreSQL nothing else may have made the data dir yet (SQLite makes it for its file).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(pidFile(dataDir), `${process.pid}\n`, { mode: 0o600 });
}

export function removePidFile(dataDir: string): void {
  rmSync(pidFile(dataDir), { force: true });
}

/** The pid of a collector serving from `dataDir`, or null (no file, or its process is gone: a crash left it). */
export function runningCollector(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
