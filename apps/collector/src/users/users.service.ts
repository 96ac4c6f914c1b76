import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuditAction, AuditContext, AuditDraft } from '../audit/audit.types.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { uniqueViolation } from '../shared/unique-violation.js';
import { passwordProblem, PasswordHasher, randomPassword } from './passwords.js';
import { UserEntity, USER_ROLES, type UserRole } from './user.entity.js';
import { UsersRepository, type UserPatch } from './users.repository.js';
import type { ListUsersQuery, USER_SORT_KEYS } from './users.dto.js';
import { byNumber, byText, nameContains, type Matchers } from '../shared/dto.js';

/** A user as lists and the audit log show it: never the hash nor the TOTP secret. */
export interface UserView {
  id: string;
  name: string;
  role: UserRole;
  disabled: boolean;
  mustChangePassword: boolean;
  twoFactor: boolean;
  createdAt: number;
}

const ROLE_RANK: Record<UserRole, number> = { admin: 0, operator: 1, viewer: 2 };

/** The orders of `GET /users?sort=`; `role` puts admins first. */
export const USER_ORDER: Record<(typeof USER_SORT_KEYS)[number], (a: UserView, b: UserView) => number> = {
  name: byText((u) => u.name),
  role: (a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role],
  createdAt: byNumber((u) => u.createdAt),
};

export const USER_FILTERS: Matchers<UserView, ListUsersQuery> = {
  role: (u, role) => u.role === role,
  disabled: (u, disabled) => u.disabled === (disabled === 'true'),
  name: (u, name) => nameContains(u.name, name),
};

export interface NewUser {
  name: string;
  role: string;
  /** A chosen password, checked against the policy; without one a random password is generated and returned. */
  password?: string;
}

export const FIRST_ADMIN_NAME = 'admin';

const NAME_PATTERN = /^[\p{L}\p{N}._@-]{1,64}$/u;

/** The collector's own changes (first start) in the audit log. */
export const SYSTEM_AUDIT_CONTEXT: AuditContext = { actor: 'system', source: 'system', address: null, userAgent: null };

export function userView(u: UserEntity): UserView {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    disabled: u.disabled,
    mustChangePassword: u.mustChangePassword,
    twoFactor: u.totpSecret !== null,
    createdAt: u.createdAt,
  };
}

/** The audit log's picture of a user: the view without its id and creation time (they are the target and the row's time). */
function audited({ name, role, disabled, mustChangePassword, twoFactor }: UserView): Record<string, unknown> {
  return { name, role, disabled, mustChangePassword, twoFactor };
}

/**
 * Users of the admin UI, as the operator manages them from the command line (HTTP sign-in
 * comes later and will use {@link UsersService.authenticate}). Passwords are scrypt hashes
 * (passwords.ts); a password is returned only when it was generated, for the caller to show once.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
  ) {}

  async list(): Promise<UserView[]> {
    return (await this.users.findAll()).map(userView);
  }

  /** On first start (no users at all): `admin` with a random password that must be changed at first sign-in; null when users exist. */
  async ensureFirstAdmin(now = Date.now()): Promise<{ name: string; password: string } | null> {
    if ((await this.users.count()) > 0) return null;
    try {
      const { user, password } = await this.create({ name: FIRST_ADMIN_NAME, role: 'admin' }, SYSTEM_AUDIT_CONTEXT, now);
      return { name: user.name, password: password! };
    } catch (e) {
      // Several collectors started at once on one new database (docs/scaling.md): another made it first.
      if ((e instanceof ConflictError || uniqueViolation(e)) && (await this.users.count()) > 0) return null;
      throw e;
    }
  }

  /** Adds a user; `password` is set when it was generated (show it once), absent when the caller chose it. */
  async add(input: NewUser, context: AuditContext, now = Date.now()): Promise<{ user: UserView; password?: string }> {
    return this.create(input, context, now);
  }

  async setDisabled(name: string, disabled: boolean, context: AuditContext, now = Date.now()): Promise<UserView> {
    const user = await this.get(name);
    if (user.disabled === disabled) return userView(user);
    if (disabled && user.role === 'admin') await this.keepAnAdmin(user, 'disabled');
    return userView(await this.change(user, { disabled }, disabled ? 'user.disable' : 'user.enable', context, now));
  }

  /** A new random password (returned, to show once) that must be changed at the next sign-in; also lifts a lockout. */
  async resetPassword(name: string, context: AuditContext, now = Date.now()): Promise<{ user: UserView; password: string }> {
    const user = await this.get(name);
    const password = randomPassword();
    const patch = { passwordHash: await this.passwords.hash(password), mustChangePassword: true, failedSignIns: 0, lockedUntil: null };
    return { user: userView(await this.change(user, patch, 'user.reset-password', context, now)), password };
  }

  /** Forgets the TOTP secret: the user signs in with the password alone and sets 2FA up again. */
  async resetTwoFactor(name: string, context: AuditContext, now = Date.now()): Promise<UserView> {
    const user = await this.get(name);
    return userView(await this.change(user, { totpSecret: null, totpLastStep: null, backupCodes: null }, 'user.reset-2fa', context, now));
  }

  /**
   * The user when `password` is theirs and the account is enabled, else null. An unknown name
   * still verifies (against a dummy hash), so the answer and its time do not say which names exist.
   */
  async authenticate(name: string, password: string): Promise<UserView | null> {
    const user = await this.users.findByName(name);
    return (await this.passwordMatches(user, password)) && user && !user.disabled ? userView(user) : null;
  }

  /** The stored user, for the sign-in flow (auth/), which keeps its own bookkeeping on the row. */
  findForSignIn(name: string): Promise<UserEntity | null> {
    return this.users.findByName(name);
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findById(id);
  }

  /** Whether `password` is `user`'s; for no user it verifies against a dummy hash, taking the same time. */
  async passwordMatches(user: UserEntity | null, password: string): Promise<boolean> {
    return this.passwords.verify(user?.passwordHash ?? (await this.passwords.dummyHash()), password);
  }

  /**
   * The user's own password change: the current password proves it is them (null: it was checked
   * moments ago, at the sign-in step that forces this change), the new one must meet the policy and
   * differ from the current one. Clears "must change".
   */
  async changePassword(userId: string, current: string | null, next: string, context: AuditContext, now = Date.now()): Promise<UserView> {
    const user = await this.users.findById(userId);
    if (!user) throw new NotFoundError('this user no longer exists');
    if (current !== null && !(await this.passwordMatches(user, current))) throw invalid(user.name, 'current', 'the current password is wrong');
    const same = current === null ? await this.passwordMatches(user, next) : next === current;
    const problem = passwordProblem(next, user.name) ?? (same ? 'the new password must differ from the current one' : null);
    if (problem) throw invalid(user.name, 'password', problem);
    const patch = { passwordHash: await this.passwords.hash(next), mustChangePassword: false };
    return userView(await this.change(user, patch, 'user.change-password', context, now));
  }

  /** Gives `name` another role; the last enabled admin keeps theirs (someone must be able to manage users). */
  async setRole(name: string, role: string, context: AuditContext, now = Date.now()): Promise<UserView> {
    const user = await this.get(name);
    if (!USER_ROLES.includes(role as UserRole)) throw invalid(name, 'role', `"${role}" is not a role: use one of ${USER_ROLES.join(', ')}`);
    if (user.role === role) return userView(user);
    if (user.role === 'admin') await this.keepAnAdmin(user, 'role');
    return userView(await this.change(user, { role: role as UserRole }, 'user.set-role', context, now));
  }

  private async keepAnAdmin(user: UserEntity, field: string): Promise<void> {
    const admins = (await this.users.findAll()).filter((u) => u.role === 'admin' && !u.disabled && u.id !== user.id);
    if (admins.length === 0) throw new ConflictError(`"${user.name}" is the last enabled admin — make another user admin first`, field);
  }

  private async create(input: NewUser, context: AuditContext, now: number): Promise<{ user: UserView; password?: string }> {
    const name = input.name.trim();
    if (!NAME_PATTERN.test(name)) {
      throw invalid(input.name, 'name', 'use 1 to 64 letters, digits, dots, dashes, underscores or @');
    }
    const role = input.role as UserRole;
    if (!USER_ROLES.includes(role)) throw invalid(name, 'role', `"${input.role}" is not a role: use one of ${USER_ROLES.join(', ')}`);
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password, name);
      if (problem) throw invalid(name, 'password', problem);
    }
    const existing = await this.users.findByName(name);
    if (existing) throw taken(name, existing.name);
    const password = input.password ?? randomPassword();
    const user: UserEntity = Object.assign(new UserEntity(), {
      id: randomUUID(),
      name,
      role,
      passwordHash: await this.passwords.hash(password),
      // A password someone else knows (generated and printed, or typed in for the user) is changed at first sign-in.
      mustChangePassword: true,
      disabled: false,
      totpSecret: null,
      failedSignIns: 0,
      lockedUntil: null,
      lastSignInAt: null,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await this.users.create(user, (u) => draft(context, 'user.add', u, null, audited(userView(u))));
    } catch (e) {
      // Two adds of one name at once: the index on lower(name) refuses the second.
      if (uniqueViolation(e)) throw taken(name, name);
      throw e;
    }
    return { user: userView(user), ...(input.password === undefined ? { password } : {}) };
  }

  private async get(name: string): Promise<UserEntity> {
    const user = await this.users.findByName(name);
    if (!user) throw new NotFoundError(`no user named "${name}" — \`rounds-collector user list\` shows the users`);
    return user;
  }

  private change(user: UserEntity, patch: UserPatch, action: AuditAction, context: AuditContext, now: number): Promise<UserEntity> {
    // A password reset, a disabled account, forgotten 2FA or another role ends the user's sessions: whoever held them signs in
    // anew, and a changed privilege gets a new session id (the role itself is read on every request).
    const endSessions = (['user.reset-password', 'user.disable', 'user.reset-2fa', 'user.set-role'] as AuditAction[]).includes(action);
    return this.users.update(user, patch, now, (before, after) => draft(context, action, after, audited(userView(before)), audited(userView(after))), {
      endSessions,
    });
  }
}

function draft(context: AuditContext, action: AuditAction, user: UserEntity, before: unknown, after: unknown): AuditDraft {
  return { context, action, target: { kind: 'user', id: user.id, name: user.name }, before, after };
}

/** Reads on the command line as `invalid user "bob": password: the password must be …`. */
function invalid(name: string, field: string, message: string): ValidationFailedError {
  return new ValidationFailedError(`invalid user "${name}"`, [{ field, message }]);
}

function taken(name: string, existing: string): ConflictError {
  return new ConflictError(
    `a user named "${existing}" already exists (names ignore case) — choose another name than "${name}", or \`rounds-collector user reset-password ${existing}\``,
    'name',
  );
}
