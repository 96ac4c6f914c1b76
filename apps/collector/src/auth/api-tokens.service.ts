import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import { AuthThrottle, bearerToken, peerAddress, type AuthThrottleLimits, type Clock } from '#rounds/common';
import type { AuditAction, AuditContext, AuditDraft } from '../audit/audit.types.js';
import type { CollectorConfig } from '../config/env.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { API_AUTH_LIMITS, CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import type { UserEntity } from '../users/user.entity.js';
import { SYSTEM_AUDIT_CONTEXT, UsersService } from '../users/users.service.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokensRepository, LAST_USED_PRECISION_MS, type OwnedToken } from './api-tokens.repository.js';
import { LegacyApiTokenStore } from './legacy-api-token.store.js';
import type { Principal } from './principal.js';
import type { ListTokensQuery, TOKEN_SORT_KEYS } from './api-tokens.dto.js';
import { byNumber, byText, nameContains, type Matchers } from '../shared/dto.js';

/** A token as lists show it: never the token, nor its hash. */
export interface ApiTokenView {
  id: string;
  name: string;
  owner: string;
  /** The token's first characters, to recognise it by. */
  prefix: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  lastUsedAddress: string | null;
  revokedAt: number | null;
  state: 'active' | 'expired' | 'revoked';
}

/** The orders of `GET /tokens?sort=`. */
export const TOKEN_ORDER: Record<(typeof TOKEN_SORT_KEYS)[number], (a: ApiTokenView, b: ApiTokenView) => number> = {
  name: byText((t) => t.name),
  createdAt: byNumber((t) => t.createdAt),
  lastUsedAt: byNumber((t) => t.lastUsedAt),
  expiresAt: byNumber((t) => t.expiresAt),
};

/** `user` and `all` choose whose tokens are read (the controller's); these narrow them. */
export const TOKEN_FILTERS: Matchers<ApiTokenView, ListTokensQuery> = {
  state: (t, state) => t.state === state,
  name: (t, name) => nameContains(t.name, name),
};

export interface NewApiToken {
  name: string;
  /** Epoch ms; null or absent: no expiry. */
  expiresAt?: number | null;
  /** Or: this long from now. */
  expiresInMs?: number;
}

export type TokenRefusal = 'missing' | 'wrong' | 'throttled' | 'revoked' | 'expired' | 'disabled';

export type TokenVerdict = { ok: true; principal: Principal } | { ok: false; why: TokenRefusal; message: string; retryAfterMs?: number; peer: string };

const PREFIX_CHARS = 10;
const NAME_MAX = 100;
const HOW_TO_GET_ONE = 'create one under Account → API tokens, or with `rounds-collector token add <user> --name <what uses it>`';
/** The names the start-up gives the tokens it makes, for lists and the audit log. */
export const FIRST_TOKEN_NAME = 'first token';
export const ENV_TOKEN_NAME = 'ROUNDS_API_TOKEN (environment)';
export const IMPORTED_TOKEN_NAME = 'api token (from before users)';

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Per-user API tokens (`Authorization: Bearer rnd_…`). A token is shown once; the table keeps its
 * SHA-256, a short prefix and its bookkeeping. A token acts with its owner's role as stored at
 * each call, so a role change, a disabled owner, a revocation or a rotation — from the UI, the
 * API or the CLI in another process — applies to the next request: nothing is cached. Wrong
 * tokens are throttled per client address, like the agent's door (AuthThrottle).
 */
@Injectable()
export class ApiTokensService implements OnModuleDestroy {
  private readonly log = new Logger('Api');
  private readonly throttle: AuthThrottle;

  constructor(
    private readonly tokens: ApiTokensRepository,
    private readonly users: UsersService,
    private readonly legacy: LegacyApiTokenStore,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(API_AUTH_LIMITS) limits?: Partial<AuthThrottleLimits>,
  ) {
    this.throttle = new AuthThrottle(clock, (line) => this.log.warn(line), `if this is you, send a valid API token (${HOW_TO_GET_ONE})`, limits);
  }

  onModuleDestroy(): void {
    this.throttle.close();
  }

  /**
   * At start, once the first admin exists. ROUNDS_API_TOKEN becomes (stays) a token of the
   * oldest enabled admin; so does the single token of versions before users (its hash file is
   * then renamed `.imported`), so scripts keep working across the upgrade. On a first start
   * with no token at all, one is made for that admin and returned, to show once.
   */
  async ensure(): Promise<{ created?: string; imported?: string }> {
    const admin = (await this.users.list()).filter((u) => u.role === 'admin' && !u.disabled).sort((a, b) => a.createdAt - b.createdAt)[0];
    if (!admin) return {};
    const owner = (await this.users.findById(admin.id))!;
    if (this.config.apiToken) {
      const hash = hashOf(this.config.apiToken);
      // Present (even revoked: a revocation stands until the variable changes) — nothing to do.
      if (!(await this.tokens.findByHash(hash))) await this.store(owner, { name: ENV_TOKEN_NAME, hash, prefix: this.config.apiToken.slice(0, PREFIX_CHARS) });
      return {};
    }
    const legacyHash = this.legacy.read();
    if (legacyHash) {
      if (!(await this.tokens.findByHash(legacyHash))) await this.store(owner, { name: IMPORTED_TOKEN_NAME, hash: legacyHash, prefix: '(imported)' });
      return { imported: this.legacy.markImported() };
    }
    if ((await this.tokens.count()) > 0) return {};
    const token = newToken();
    await this.store(owner, { name: FIRST_TOKEN_NAME, hash: hashOf(token), prefix: token.slice(0, PREFIX_CHARS) });
    return { created: token };
  }

  /** A new token of `ownerName`, returned once with its view. */
  async create(ownerName: string, input: NewApiToken, context: AuditContext): Promise<{ token: string; view: ApiTokenView }> {
    const owner = await this.owner(ownerName);
    const now = this.clock.now();
    const name = this.checkName(input.name);
    const expiresAt = input.expiresInMs !== undefined ? now + input.expiresInMs : (input.expiresAt ?? null);
    if (expiresAt !== null && expiresAt <= now) throw invalid('expiresAt', 'the expiry must be in the future');
    if ((await this.tokens.list(owner.id)).some(({ token }) => token.name === name && live(token, now))) {
      throw new ConflictError(`${owner.name} already has a live API token named "${name}" — choose another name, or rotate that one`, 'name');
    }
    const token = newToken();
    const entity = await this.store(owner, { name, hash: hashOf(token), prefix: token.slice(0, PREFIX_CHARS), expiresAt, createdAt: now }, context);
    return { token, view: viewOf({ token: entity, owner }, now) };
  }

  /** Every token (of `ownerName` when given), newest first. */
  async list(ownerName?: string): Promise<ApiTokenView[]> {
    const now = this.clock.now();
    const owner = ownerName === undefined ? undefined : await this.owner(ownerName, { evenDisabled: true });
    return (await this.tokens.list(owner?.id)).map((t) => viewOf(t, now));
  }

  /** Revokes a token (by id or prefix; only among `owner`'s when given): it stops working at the next request. */
  async revoke(idOrPrefix: string, context: AuditContext, scope: { owner?: string } = {}): Promise<ApiTokenView> {
    const found = await this.find(idOrPrefix, scope.owner);
    const now = this.clock.now();
    if (found.token.revokedAt !== null) throw alreadyRevoked(found.token);
    const after = { ...found.token, revokedAt: now };
    if (
      !(await this.tokens.revoke(found.token.id, now, [draft(context, 'api-token.revoke', found, viewOf(found, now), viewOf({ ...found, token: after }, now))]))
    ) {
      throw alreadyRevoked(found.token);
    }
    return viewOf({ ...found, token: after }, now);
  }

  /**
   * Replaces a token with a new one of the same owner and name (and, if it expired after a time,
   * the same lifetime from now): the old one stops at once, the new one is returned once.
   */
  async rotate(idOrPrefix: string, context: AuditContext, scope: { owner?: string } = {}): Promise<{ token: string; view: ApiTokenView }> {
    const found = await this.find(idOrPrefix, scope.owner);
    const now = this.clock.now();
    if (found.token.revokedAt !== null) throw alreadyRevoked(found.token);
    if (found.owner.disabled) throw new ConflictError(`user "${found.owner.name}" is disabled — enable them before rotating their token`, 'owner');
    const token = newToken();
    const lifetime = found.token.expiresAt === null ? null : found.token.expiresAt - found.token.createdAt;
    const entity = tokenEntity(found.owner, {
      name: found.token.name,
      hash: hashOf(token),
      prefix: token.slice(0, PREFIX_CHARS),
      expiresAt: lifetime === null ? null : now + lifetime,
      createdAt: now,
    });
    const next: OwnedToken = { token: entity, owner: found.owner };
    const audit = draft(context, 'api-token.rotate', found, viewOf(found, now), viewOf(next, now));
    if (!(await this.tokens.insert(entity, [audit], { id: found.token.id, at: now }))) throw alreadyRevoked(found.token);
    return { token, view: viewOf(next, now) };
  }

  /** Checks `Authorization: Bearer <token>` from `remoteAddress`; `call` names the request in the log. */
  async authenticate(authorization: string | undefined, remoteAddress: string | undefined, call: string): Promise<TokenVerdict> {
    const peer = peerAddress(remoteAddress);
    const retryAfterMs = this.throttle.retryAfterMs(peer, call);
    if (retryAfterMs > 0) {
      const seconds = Math.ceil(retryAfterMs / 1000);
      return {
        ok: false,
        why: 'throttled',
        retryAfterMs,
        peer,
        message: `too many wrong API tokens from ${peer}: refused without checking for ${seconds} s more — then send a valid token`,
      };
    }
    const presented = bearerToken(authorization);
    if (presented === undefined) {
      this.throttle.failed(peer, 'no bearer token', call);
      return { ok: false, why: 'missing', peer, message: `send an API token as "Authorization: Bearer <token>" — ${HOW_TO_GET_ONE}` };
    }
    const hash = hashOf(presented);
    const found = await this.tokens.findByHash(hash);
    // The lookup is by hash; comparing the hashes again in constant time costs nothing and leaves no doubt.
    if (!found || !timingSafeEqual(Buffer.from(found.token.hash, 'hex'), Buffer.from(hash, 'hex'))) {
      this.throttle.failed(peer, 'wrong token', call);
      return { ok: false, why: 'wrong', peer, message: `this API token is not known here (mistyped, or from another collector?) — ${HOW_TO_GET_ONE}` };
    }
    this.throttle.succeeded(peer);
    const { token, owner } = found;
    const now = this.clock.now();
    const which = `API token "${token.name}" of ${owner.name}`;
    if (token.revokedAt !== null)
      return { ok: false, why: 'revoked', peer, message: `the ${which} was revoked at ${iso(token.revokedAt)} — ${HOW_TO_GET_ONE}` };
    if (token.expiresAt !== null && token.expiresAt <= now) {
      return { ok: false, why: 'expired', peer, message: `the ${which} expired at ${iso(token.expiresAt)} — rotate it or ${HOW_TO_GET_ONE}` };
    }
    if (owner.disabled) return { ok: false, why: 'disabled', peer, message: `the ${which} belongs to a disabled user — an admin can enable them again` };
    // The row at hand says whether a minute has passed: most calls write nothing (a write per call would queue behind result writes).
    if (token.lastUsedAt === null || now - token.lastUsedAt >= LAST_USED_PRECISION_MS) await this.tokens.touch(token.id, now, peer);
    return { ok: true, principal: { userId: owner.id, name: owner.name, role: owner.role, via: 'token', credentialId: token.id } };
  }

  private async store(
    owner: UserEntity,
    fields: Omit<TokenFields, 'createdAt'> & { createdAt?: number },
    context: AuditContext = SYSTEM_AUDIT_CONTEXT,
  ): Promise<ApiTokenEntity> {
    const now = fields.createdAt ?? this.clock.now();
    const entity = tokenEntity(owner, { ...fields, createdAt: now });
    const found: OwnedToken = { token: entity, owner };
    await this.tokens.insert(entity, [draft(context, 'api-token.create', found, null, viewOf(found, now))]);
    return entity;
  }

  private async find(idOrPrefix: string, owner: string | undefined): Promise<OwnedToken> {
    const found = await this.tokens.findByIdOrPrefix(idOrPrefix);
    if (found === 'ambiguous') throw invalid('id', `several API tokens start with "${idOrPrefix}" — use the token's id (\`rounds-collector token list\`)`);
    // Another user's token reads as unknown: its existence is not confirmed to someone who may not touch it.
    if (!found || (owner !== undefined && found.owner.name.toLowerCase() !== owner.toLowerCase())) {
      throw new NotFoundError(
        `no API token "${idOrPrefix}"${owner ? ` among ${owner}'s` : ''} — \`rounds-collector token list\` or Account → API tokens shows them`,
      );
    }
    return found;
  }

  private async owner(name: string, options: { evenDisabled?: boolean } = {}): Promise<UserEntity> {
    const user = await this.users.findForSignIn(name);
    if (!user) throw new NotFoundError(`no user named "${name}" — \`rounds-collector user list\` shows the users`);
    if (user.disabled && !options.evenDisabled) throw new ConflictError(`user "${user.name}" is disabled — enable them first`, 'owner');
    return user;
  }

  private checkName(raw: string): string {
    const name = raw.trim();
    if (name === '' || name.length > NAME_MAX) throw invalid('name', `give the token a name of 1 to ${NAME_MAX} characters saying what uses it (e.g. grafana)`);
    if (/\p{Cc}/u.test(name)) throw invalid('name', 'the name must not contain control characters (line breaks, tabs, …)');
    return name;
  }
}

type TokenFields = Pick<ApiTokenEntity, 'name' | 'hash' | 'prefix' | 'createdAt'> & { expiresAt?: number | null };

/** `rnd_` and 32 characters of base64url: 192 random bits. */
function newToken(): string {
  return `rnd_${randomBytes(24).toString('base64url')}`;
}

function tokenEntity(owner: UserEntity, f: TokenFields): ApiTokenEntity {
  return Object.assign(new ApiTokenEntity(), {
    id: randomUUID(),
    userId: owner.id,
    name: f.name,
    hash: f.hash,
    prefix: f.prefix,
    createdAt: f.createdAt,
    expiresAt: f.expiresAt ?? null,
    lastUsedAt: null,
    lastUsedAddress: null,
    revokedAt: null,
  });
}

function live(token: ApiTokenEntity, now: number): boolean {
  return token.revokedAt === null && (token.expiresAt === null || token.expiresAt > now);
}

export function viewOf({ token, owner }: OwnedToken, now: number): ApiTokenView {
  return {
    id: token.id,
    name: token.name,
    owner: owner.name,
    prefix: token.prefix,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    lastUsedAddress: token.lastUsedAddress,
    revokedAt: token.revokedAt,
    state: token.revokedAt !== null ? 'revoked' : live(token, now) ? 'active' : 'expired',
  };
}

function draft(context: AuditContext, action: AuditAction, { token, owner }: OwnedToken, before: ApiTokenView | null, after: ApiTokenView): AuditDraft {
  const audited = (v: ApiTokenView | null) => v && { name: v.name, owner: v.owner, prefix: v.prefix, expiresAt: v.expiresAt, state: v.state };
  return { context, action, target: { kind: 'api-token', id: token.id, name: `${owner.name}/${token.name}` }, before: audited(before), after: audited(after) };
}

function alreadyRevoked(token: ApiTokenEntity): ConflictError {
  return new ConflictError(`the API token "${token.name}" is revoked already${token.revokedAt ? ` (at ${iso(token.revokedAt)})` : ''}`, 'id');
}

function invalid(field: string, message: string): ValidationFailedError {
  return new ValidationFailedError('invalid API token', [{ field, message }]);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
