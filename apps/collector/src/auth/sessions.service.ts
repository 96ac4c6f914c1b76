import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';
import { NotFoundError } from '../shared/errors.js';
import { CLOCK } from '../shared/tokens.js';
import type { UserEntity } from '../users/user.entity.js';
import { SessionEntity, type SessionStage } from './session.entity.js';
import { SessionsRepository } from './sessions.repository.js';
import type { SESSION_SORT_KEYS } from './sessions.dto.js';
import { byNumber } from '../shared/dto.js';

/** A session ends after 30 minutes without a request… */
export const SESSION_IDLE_MS = 30 * 60_000;
/** …and 12 hours after sign-in, whatever the activity (OWASP session management: idle and absolute timeouts). */
export const SESSION_ABSOLUTE_MS = 12 * 3_600_000;
/** A sign-in step (second factor, password change, enrolment) must be finished within this. */
export const SESSION_STEP_MS = 10 * 60_000;
/** last_seen_at is written when older than this, not on every request: idle expiry loses at most a minute. */
const TOUCH_AFTER_MS = 60_000;

/** Where the request comes from, kept with the session for the "your sessions" list. */
export interface SessionOrigin {
  address: string | null;
  userAgent: string | null;
}

/** A session as its user sees it in the list; `current` marks the one making the request. */
export interface SessionView {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  address: string | null;
  userAgent: string | null;
  current: boolean;
}

export const SESSION_ORDER: Record<(typeof SESSION_SORT_KEYS)[number], (a: SessionView, b: SessionView) => number> = {
  lastSeenAt: byNumber((v) => v.lastSeenAt),
  createdAt: byNumber((v) => v.createdAt),
};

export type ResolvedSession = { session: SessionEntity; user: UserEntity } | { expired: 'idle' | 'absolute' | 'step' } | null;

function digest(cookie: string): string {
  return createHash('sha256').update(cookie).digest('hex');
}

/**
 * Server-side sessions (written here rather than taken from express-session: that keeps session
 * ids in clear in its store, and listing and ending a user's sessions needs our own table anyway —
 * connect-typeorm, the store there is, peers an older TypeORM). The cookie carries 256 random bits;
 * the table keeps their SHA-256, so a copy of the database signs nobody in. Every step up (password
 * → second factor → signed in) replaces the session with a new id: an id seen before sign-in is worthless after it.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Opens a session at `stage` for `user`; returns the cookie value (shown to nobody but the
   * browser). `from`: the session this one replaces (a step up), whose sign-in time it keeps.
   */
  async open(
    user: UserEntity,
    stage: SessionStage,
    origin: SessionOrigin,
    audit: readonly AuditDraft[],
    from?: SessionEntity,
  ): Promise<{ cookie: string; session: SessionEntity }> {
    const now = this.clock.now();
    if (!from) await this.sessions.deleteExpired(now, now - SESSION_IDLE_MS);
    const cookie = randomBytes(32).toString('base64url');
    const createdAt = from?.createdAt ?? now;
    const session = Object.assign(new SessionEntity(), {
      id: digest(cookie),
      userId: user.id,
      stage,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt,
      lastSeenAt: now,
      // A session short of `full` only lives long enough to finish its step.
      expiresAt: stage === 'full' ? createdAt + SESSION_ABSOLUTE_MS : now + SESSION_STEP_MS,
      address: origin.address,
      userAgent: origin.userAgent === null ? null : origin.userAgent.slice(0, 512),
      pendingTotpSecret: null,
    } satisfies SessionEntity);
    await this.sessions.insert(session, audit, from?.id);
    return { cookie, session };
  }

  /** The live session behind a cookie value, or why it ended; null when there is none. */
  async resolve(cookie: string | undefined): Promise<ResolvedSession> {
    if (!cookie || cookie.length > 128) return null;
    const found = await this.sessions.findWithUser(digest(cookie));
    if (!found) return null;
    const { session, user } = found;
    const now = this.clock.now();
    const ended = now >= session.expiresAt ? (session.stage === 'full' ? 'absolute' : 'step') : now - session.lastSeenAt >= SESSION_IDLE_MS ? 'idle' : null;
    if (ended || user.disabled) {
      await this.sessions.delete(user.id, { ids: [session.id] });
      return ended ? { expired: ended } : null;
    }
    if (now - session.lastSeenAt >= TOUCH_AFTER_MS) {
      await this.sessions.touch(session.id, now);
      session.lastSeenAt = now;
    }
    return found;
  }

  /** True when `token` is the session's CSRF token (constant time). */
  csrfMatches(session: SessionEntity, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const a = Buffer.from(token);
    const b = Buffer.from(session.csrfToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async list(userId: string, currentId?: string): Promise<SessionView[]> {
    return (await this.sessions.listForUser(userId)).map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      expiresAt: s.expiresAt,
      address: s.address,
      userAgent: s.userAgent,
      current: s.id === currentId,
    }));
  }

  /** Ends one of `user`'s sessions; another user's id is "not found" (ids are not confirmed to exist). */
  async end(user: Pick<UserEntity, 'id' | 'name'>, id: string, context: AuditContext): Promise<void> {
    const gone = await this.sessions.delete(user.id, { ids: [id] }, [revoked(context, user, 1)], this.clock.now());
    if (gone === 0) throw new NotFoundError('no such session — it may have ended already; reload the list');
  }

  /** Ends every session of `user` but `keep` (sign out everywhere else; a password change; an admin's reset). */
  async endAll(user: Pick<UserEntity, 'id' | 'name'>, context: AuditContext, keep?: string): Promise<number> {
    const now = this.clock.now();
    const sessions = await this.sessions.listForUser(user.id);
    const ending = sessions.filter((s) => s.id !== keep).length;
    if (ending === 0) return 0;
    return this.sessions.delete(user.id, keep === undefined ? {} : { keep }, [revoked(context, user, ending)], now);
  }

  /** Sign-out: the session goes without an audit row of its own (the caller writes `user.sign-out`). */
  async close(session: SessionEntity, audit: readonly AuditDraft[]): Promise<void> {
    await this.sessions.delete(session.userId, { ids: [session.id] }, audit, this.clock.now());
  }

  setPendingTotpSecret(session: SessionEntity, sealed: string | null): Promise<void> {
    session.pendingTotpSecret = sealed;
    return this.sessions.setPendingTotpSecret(session.id, sealed);
  }
}

function revoked(context: AuditContext, user: Pick<UserEntity, 'id' | 'name'>, count: number): AuditDraft {
  return { context, action: 'session.revoke', target: { kind: 'user', id: user.id, name: user.name }, before: null, after: { sessionsEnded: count } };
}
