import { Inject, Injectable } from '@nestjs/common';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Clock } from '#rounds/common';
import type { AuditAction, AuditContext, AuditDraft } from '../audit/audit.types.js';
import type { CollectorConfig } from '../config/env.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { BACKUP_CODE_COUNT, hashBackupCode, newBackupCodes, normaliseBackupCode, storedBackupCodes } from './backup-codes.js';
import type { UserEntity, UserRole } from './user.entity.js';
import { UsersRepository } from './users.repository.js';

/**
 * RFC 6238 as every authenticator app reads it: SHA-1, 6 digits, 30-second steps. One step either
 * side is accepted (a phone's clock a little off); a step once used is spent.
 */
const TOTP_PERIOD_S = 30;
const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 block the RFC recommends. */
const SECRET_BYTES = 20;
const ISSUER = 'Rounds';

/** A secret shown for enrolment, waiting (sealed, in the user's session) for the first code. */
export interface PendingTwoFactor {
  /** Base32, for typing into an app that cannot scan. */
  secret: string;
  /** The otpauth:// URI the QR code holds. */
  uri: string;
  qrSvg: string;
  /** The secret sealed with the database's key, to keep in the session until confirmed. */
  sealed: string;
}

/**
 * Two-factor sign-in with TOTP (otpauth: maintained, no dependencies, RFC 6238 test vectors) and
 * ten one-time backup codes. The QR code is made on the server (qrcode) as SVG: no script, no
 * request to anyone else — the UI runs on networks without internet.
 */
@Injectable()
export class TwoFactorService {
  constructor(
    private readonly users: UsersRepository,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Whether users of `role` must set up two-factor sign-in (ROUNDS_2FA_REQUIRED_ROLES). */
  requiredFor(role: UserRole): boolean {
    return this.config.twoFactorRequiredRoles?.includes(role) ?? false;
  }

  /**
   * A secret to enrol with: the pending one again when `pending` still opens (a mistyped code
   * should not make the person scan anew), else a new one.
   */
  async beginSealed(userName: string, pending: string | null = null): Promise<PendingTwoFactor> {
    const user = await this.get(userName);
    if (user.totpSecret !== null) throw alreadyOn(user);
    const reused = this.openPending(pending, user.name);
    const secret = reused ?? new Secret({ size: SECRET_BYTES }).base32;
    const uri = totpOf(user.name, secret).toString();
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, uri, qrSvg, sealed: reused !== null && pending !== null ? pending : this.users.seal(secret) };
  }

  /** The secret of a pending enrolment, or null when there is none or it cannot be opened (say, sealed under a rotated key). */
  openPending(sealed: string | null, userName: string): string | null {
    if (sealed === null) return null;
    try {
      return this.users.open(sealed, `the pending two-factor secret of user "${userName}"`);
    } catch {
      return null;
    }
  }

  /**
   * Confirms enrolment with a code from the app: stores the secret (sealed) and returns ten
   * backup codes, to show once. A wrong code changes nothing.
   */
  async enable(userName: string, secret: string, code: string, context: AuditContext): Promise<{ backupCodes: string[] }> {
    const user = await this.get(userName);
    if (user.totpSecret !== null) throw alreadyOn(user);
    const now = this.clock.now();
    const step = matchingStep(secret, code, now);
    if (step === null) {
      throw new ValidationFailedError(`two-factor code for "${user.name}" not accepted`, [
        { field: 'code', message: "that code does not match — type the 6-digit code the app shows now (if it keeps failing, check the phone's clock)" },
      ]);
    }
    const { codes, stored } = newBackupCodes();
    const audit = (after: UserEntity) =>
      draft(context, 'user.enable-2fa', after, { twoFactor: false }, { twoFactor: true, backupCodesLeft: BACKUP_CODE_COUNT });
    if (!(await this.users.enableTwoFactor(user, { secret, step, backupCodes: stored }, now, audit))) throw alreadyOn(user);
    return { backupCodes: codes };
  }

  /**
   * Checks a second factor: a current TOTP code (each time step once) or an unused backup code
   * (spent now, audited). Null for anything else — a wrong, reused or malformed code, a user
   * without two-factor or disabled — the caller counts it as a failed sign-in.
   */
  async verify(userName: string, code: string, context: AuditContext): Promise<'totp' | 'backup' | null> {
    const user = await this.users.findByName(userName);
    if (!user || user.disabled || user.totpSecret === null) return null;
    const digits = code.replace(/\s/g, '');
    if (/^\d{6}$/.test(digits)) {
      const step = matchingStep(this.users.totpSecretOf(user)!, digits, this.clock.now());
      return step !== null && (await this.users.acceptTotpStep(user.id, step)) ? 'totp' : null;
    }
    const backup = normaliseBackupCode(code);
    if (backup === null) return null;
    const stored = storedBackupCodes(user.backupCodes);
    const hash = hashBackupCode(backup);
    if (!stored.includes(hash)) return null;
    const left = stored.filter((h) => h !== hash);
    const audit = (after: UserEntity) => draft(context, 'user.use-backup-code', after, { backupCodesLeft: stored.length }, { backupCodesLeft: left.length });
    return (await this.users.replaceBackupCodes(user, user.backupCodes, JSON.stringify(left), this.clock.now(), audit)) ? 'backup' : null;
  }

  async remainingBackupCodes(userName: string): Promise<number> {
    return storedBackupCodes((await this.get(userName)).backupCodes).length;
  }

  /** Ten new backup codes replacing the old ones (all of them, used or not); returned to show once. */
  async regenerateBackupCodes(userName: string, context: AuditContext): Promise<{ backupCodes: string[] }> {
    const user = await this.get(userName);
    if (user.totpSecret === null) throw new ConflictError(`"${user.name}" has no two-factor sign-in — set it up first; the backup codes come with it`, 'code');
    const before = storedBackupCodes(user.backupCodes).length;
    const { codes, stored } = newBackupCodes();
    const audit = (after: UserEntity) => draft(context, 'user.backup-codes', after, { backupCodesLeft: before }, { backupCodesLeft: BACKUP_CODE_COUNT });
    if (!(await this.users.replaceBackupCodes(user, user.backupCodes, stored, this.clock.now(), audit))) {
      throw new ConflictError('the backup codes changed meanwhile (in another window?) — try again', 'code');
    }
    return { backupCodes: codes };
  }

  private async get(name: string): Promise<UserEntity> {
    const user = await this.users.findByName(name);
    if (!user) throw new NotFoundError(`no user named "${name}"`);
    return user;
  }
}

function totpOf(userName: string, secret: string): TOTP {
  return new TOTP({ issuer: ISSUER, label: userName, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_S, secret: Secret.fromBase32(secret) });
}

/** The time step `code` belongs to, or null when it matches none in the window. */
function matchingStep(secret: string, code: string, now: number): number | null {
  const token = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = TOTP.validate({
    token,
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_S,
    timestamp: now,
    window: TOTP_WINDOW,
  });
  return delta === null ? null : Math.floor(now / 1000 / TOTP_PERIOD_S) + delta;
}

function alreadyOn(user: UserEntity): ConflictError {
  return new ConflictError(
    `"${user.name}" already has two-factor sign-in — to set it up anew (a lost phone), an admin resets it: \`rounds-collector user reset-2fa ${user.name}\``,
    'code',
  );
}

function draft(context: AuditContext, action: AuditAction, user: UserEntity, before: unknown, after: unknown): AuditDraft {
  return { context, action, target: { kind: 'user', id: user.id, name: user.name }, before, after };
}
