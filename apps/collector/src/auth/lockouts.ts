/** Failed sign-ins in a row that lock an account or an address… */
export const LOCKOUT_AFTER = 5;
/** …for this long (issue #13: 5 failures → a 5-minute lockout, per account and per address). */
export const LOCKOUT_MS = 5 * 60_000;
/** A key's failures are forgotten after this long without a new one. */
const FORGET_AFTER_MS = 15 * 60_000;
/** Keys remembered at most: a flood of made-up names cannot grow the map without bound. */
const MAX_KEYS = 10_000;

interface Entry {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

/**
 * In-memory failure counts for what has no row to keep them in: client addresses, and user names
 * that do not exist (so that an unknown name locks exactly like a real one and the answers never
 * say which names exist). Known accounts keep theirs in the users table, across restarts.
 */
export class Lockouts {
  private readonly entries = new Map<string, Entry>();

  /** Until when `key` is locked, or 0. */
  lockedUntil(key: string, now: number): number {
    const e = this.entries.get(key);
    return e && e.lockedUntil > now ? e.lockedUntil : 0;
  }

  /** Counts a failure; returns the lock's end when this failure locks `key`, else 0. */
  fail(key: string, now: number): number {
    let e = this.entries.get(key);
    if (!e || now - e.lastFailureAt > FORGET_AFTER_MS || (e.lockedUntil !== 0 && e.lockedUntil <= now)) e = { failures: 0, lastFailureAt: now, lockedUntil: 0 };
    e.failures++;
    e.lastFailureAt = now;
    this.entries.delete(key); // re-inserted last: the map's order is least recently failed first
    this.entries.set(key, e);
    if (this.entries.size > MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
    if (e.failures < LOCKOUT_AFTER) return 0;
    e.failures = 0;
    e.lockedUntil = now + LOCKOUT_MS;
    return e.lockedUntil;
  }

  clear(key: string): void {
    this.entries.delete(key);
  }
}
