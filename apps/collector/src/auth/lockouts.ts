/** Failed sign-ins in a row that lock an account or an address… */
export const LOCKOUT_AFTER = 5;
/** …for this long (issue #13: 5 failures → a 5-minute lockout, per account and per address). */
export const LOCKOUT_MS = 5 * 60_000;
/** A key's failures are forgotten after this long without a new one. */
export const FORGET_AFTER_MS = 15 * 60_000;

/** A key's failures in a row (auth/sign-in-lockout.entity.ts keeps them). */
export interface LockoutCount {
  failures: number;
  lastFailureAt: number;
  /** Until when the key is locked; 0 when it is not. */
  lockedUntil: number;
}

/**
 * The count after one more failure at `now`: failures long forgotten or before a lock that has
 * ended start from nothing; the LOCKOUT_AFTER-th locks the key and starts the count again.
 */
export function afterFailure(count: LockoutCount | null, now: number): LockoutCount {
  const fresh = !count || now - count.lastFailureAt > FORGET_AFTER_MS || (count.lockedUntil !== 0 && count.lockedUntil <= now);
  const failures = (fresh ? 0 : count.failures) + 1;
  return failures < LOCKOUT_AFTER
    ? { failures, lastFailureAt: now, lockedUntil: fresh ? 0 : count.lockedUntil }
    : { failures: 0, lastFailureAt: now, lockedUntil: now + LOCKOUT_MS };
}
