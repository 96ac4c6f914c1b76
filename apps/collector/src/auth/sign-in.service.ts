import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';
import { CLOCK } from '../shared/tokens.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import type { SessionStage } from './session.entity.js';
import { SignInRepository } from './sign-in.repository.js';

/** The one answer for an unknown name, a wrong password and a disabled account. */
export const WRONG_CREDENTIALS = 'wrong user name or password';

export type SignInOutcome = { ok: true; user: UserEntity } | { ok: false; message: string; retryAfterMs?: number };

function minutes(ms: number): string {
  const m = Math.ceil(ms / 60_000);
  return m === 1 ? '1 minute' : `${m} minutes`;
}

function lockedAccount(name: string, ms: number): string {
  return `too many failed sign-ins for "${name}": it is locked for ${minutes(ms)} more — wait, or an admin can run \`rounds-collector user reset-password ${name}\``;
}

function lockedAddress(address: string, ms: number): string {
  return `too many failed sign-ins from ${address}: signing in from there is blocked for ${minutes(ms)} more`;
}

/**
 * Checking who signs in: the password, then (elsewhere) the second factor. Failures lock the
 * account and the client address after LOCKOUT_AFTER in a row; a locked door is refused before
 * any password is checked. An unknown name is counted like a real one, so neither the answers
 * nor the lockouts say which names exist. Every count is in the database: collectors behind one
 * load balancer lock the same doors after the same failures.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly users: UsersService,
    private readonly bookkeeping: SignInRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Checks `name` and `password` from `context.address`. */
  async password(name: string, password: string, context: AuditContext): Promise<SignInOutcome> {
    const now = this.clock.now();
    const address = context.address ?? 'unknown';
    const addressLock = await this.bookkeeping.lockedUntil(addressKey(address), now);
    if (addressLock) return { ok: false, message: lockedAddress(address, addressLock - now), retryAfterMs: addressLock - now };
    const user = await this.users.findForSignIn(name);
    const accountLock = user ? (user.lockedUntil ?? 0) : await this.bookkeeping.lockedUntil(nameKey(name), now);
    if (accountLock > now) return { ok: false, message: lockedAccount(name, accountLock - now), retryAfterMs: accountLock - now };
    const matches = await this.users.passwordMatches(user, password);
    if (user && matches && !user.disabled) {
      await this.bookkeeping.recordSuccess(user.id, now);
      await this.bookkeeping.clearFailures(addressKey(address));
      return { ok: true, user };
    }
    return this.failed(user, name, context, 'password');
  }

  /** A wrong second-factor code counts like a wrong password. */
  secondFactorFailed(user: UserEntity, context: AuditContext): Promise<SignInOutcome> {
    return this.failed(user, user.name, context, 'code');
  }

  /** Where a user whose password (and code, `passed`) checked out goes next. */
  nextStage(user: UserEntity, passed: 'password' | 'second-factor', twoFactorRequired: boolean): SessionStage {
    if (passed === 'password' && user.totpSecret !== null) return 'two-factor';
    if (user.mustChangePassword) return 'password';
    if (user.totpSecret === null && twoFactorRequired) return 'enrol';
    return 'full';
  }

  private async failed(user: UserEntity | null, name: string, context: AuditContext, what: 'password' | 'code'): Promise<SignInOutcome> {
    const now = this.clock.now();
    const address = context.address ?? 'unknown';
    const target = { kind: 'user', id: user?.id ?? null, name: user?.name ?? name.slice(0, 64) };
    const failure: AuditDraft = { context, action: 'user.sign-in-failed', target, before: null, after: { wrong: what } };
    const addressLock = await this.bookkeeping.countFailure(addressKey(address), now);
    const drafts = (accountLock: number): AuditDraft[] => [
      failure,
      ...(accountLock ? [lockout(context, target, accountLock)] : []),
      ...(addressLock ? [lockout(context, { kind: 'address', id: null, name: address }, addressLock)] : []),
    ];
    let accountLock: number;
    if (user) {
      accountLock = await this.bookkeeping.recordFailure(user.id, now, drafts);
    } else {
      accountLock = await this.bookkeeping.countFailure(nameKey(name), now);
      await this.bookkeeping.audit(drafts(accountLock), now);
    }
    if (accountLock) return { ok: false, message: lockedAccount(name, accountLock - now), retryAfterMs: accountLock - now };
    if (addressLock) return { ok: false, message: lockedAddress(address, addressLock - now), retryAfterMs: addressLock - now };
    return { ok: false, message: what === 'password' ? WRONG_CREDENTIALS : 'wrong code — enter the current code from the authenticator app, or a backup code' };
  }
}

/** sign_in_lockouts keys, bounded by the column's width (a made-up name can be any length). */
function addressKey(address: string): string {
  return `address:${address.slice(0, 180)}`;
}

function nameKey(name: string): string {
  return `name:${name.toLowerCase().slice(0, 180)}`;
}

function lockout(context: AuditContext, target: AuditDraft['target'], until: number): AuditDraft {
  return { context, action: 'user.lockout', target, before: null, after: { lockedUntil: new Date(until).toISOString() } };
}
