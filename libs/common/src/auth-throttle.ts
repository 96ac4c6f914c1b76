import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.js';

/** How hard the door pushes back on a peer that keeps presenting bad credentials. */
export interface AuthThrottleLimits {
  /** Failed attempts a peer may make before it is throttled. */
  freeFailures: number;
  /** The first penalty; each failure after it doubles the penalty, up to maxPenaltyMs. */
  firstPenaltyMs: number;
  maxPenaltyMs: number;
  /** A peer's failures are forgotten after this long without a new one. */
  forgetAfterMs: number;
  /** Refusals of one peer are logged at most once per interval (the first one at once). */
  reportIntervalMs: number;
  /** Peers remembered at most; the least recently seen one is forgotten first. */
  maxPeers: number;
}

export const AUTH_THROTTLE_DEFAULTS: Readonly<AuthThrottleLimits> = Object.freeze({
  freeFailures: 5,
  firstPenaltyMs: 1_000,
  maxPenaltyMs: 60_000,
  forgetAfterMs: 900_000,
  reportIntervalMs: 60_000,
  maxPeers: 10_000,
});

export type BearerRefusal = 'no bearer token' | 'wrong token';
/** Why a credential failed: a bearer token's reasons, or a site-key claim whose proof (or nonce) did not hold. */
export type AuthRefusal = BearerRefusal | 'wrong proof';

/** Why a call was let in or not; `retryAfterMs` is how long a throttled peer is refused unchecked. */
export type BearerVerdict = { ok: true; matched: number } | { ok: false; why: BearerRefusal } | { ok: false; why: 'throttled'; retryAfterMs: number };

/** The credentials of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235 §2.1). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^bearer +([^\s]+) *$/i.exec(header)?.[1];
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const PENDING_WORDS = {
  'no bearer token': 'without a bearer token',
  'wrong token': 'with a wrong token',
  'wrong proof': 'with a wrong site-key proof',
  throttled: 'unchecked while throttled',
} as const;

interface PeerState {
  failures: number;
  lastFailureAt: number;
  penaltyMs: number;
  blockedUntil: number;
  /** When the last log line about this peer was written (undefined: never). */
  reportedAt?: number;
  /** Refusals since that line, by reason. */
  pending: Map<keyof typeof PENDING_WORDS, number>;
}

/**
 * Counts failed credential checks per peer address. After `freeFailures` a peer is refused
 * without a check for a penalty that doubles with each further failure, so guessing costs the
 * guesser time and the door no hashing; a success clears the peer. Refusals are logged as one
 * line per peer per interval (the first at once), so a flood of guesses costs a few log lines.
 * Pure apart from the injected clock and log sink; the flush timer is unref'd so it never
 * keeps a process alive.
 */
export class AuthThrottle {
  private readonly peers = new Map<string, PeerState>();
  private readonly limits: AuthThrottleLimits;
  private flushTimer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
    /** What to do about it, ending every line: "rotate the token with …". */
    private readonly hint: string,
    limits: Partial<AuthThrottleLimits> = {},
  ) {
    this.limits = { ...AUTH_THROTTLE_DEFAULTS, ...limits };
  }

  /** 0 when `peer` may present a credential now; otherwise the ms it is still refused for (the refusal is counted). */
  retryAfterMs(peer: string, call: string): number {
    const state = this.peers.get(peer);
    const left = state ? state.blockedUntil - this.clock.now() : 0;
    if (left <= 0) return 0;
    this.record(peer, state!, 'throttled', call);
    return left;
  }

  /** A credential from `peer` failed the check. */
  failed(peer: string, why: AuthRefusal, call: string): void {
    const now = this.clock.now();
    const state = this.touch(peer);
    if (now - state.lastFailureAt > this.limits.forgetAfterMs) {
      state.failures = 0;
      state.penaltyMs = 0;
    }
    state.failures++;
    state.lastFailureAt = now;
    if (state.failures > this.limits.freeFailures) {
      state.penaltyMs = state.penaltyMs === 0 ? this.limits.firstPenaltyMs : Math.min(this.limits.maxPenaltyMs, state.penaltyMs * 2);
      state.blockedUntil = now + state.penaltyMs;
    }
    this.record(peer, state, why, call);
  }

  /** A credential from `peer` was right: its failures are forgiven. */
  succeeded(peer: string): void {
    const state = this.peers.get(peer);
    if (!state) return;
    if (state.pending.size === 0) this.peers.delete(peer);
    else Object.assign(state, { failures: 0, penaltyMs: 0, blockedUntil: 0 });
  }

  /** How many peers are remembered (bounded by maxPeers). */
  get size(): number {
    return this.peers.size;
  }

  /** Writes the refusals not yet logged and stops the flush timer (at shutdown). */
  close(): void {
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flush();
  }

  private touch(peer: string): PeerState {
    let state = this.peers.get(peer);
    if (state) {
      // Re-inserting keeps the map in least-recently-seen order for eviction.
      this.peers.delete(peer);
    } else {
      state = { failures: 0, lastFailureAt: -Infinity, penaltyMs: 0, blockedUntil: 0, pending: new Map() };
      while (this.peers.size >= this.limits.maxPeers) {
        const [oldest, old] = this.peers.entries().next().value as [string, PeerState];
        this.report(oldest, old);
        this.peers.delete(oldest);
      }
    }
    this.peers.set(peer, state);
    return state;
  }

  private record(peer: string, state: PeerState, why: keyof typeof PENDING_WORDS, call: string): void {
    const now = this.clock.now();
    if (state.pending.size === 0 && (state.reportedAt === undefined || now - state.reportedAt >= this.limits.reportIntervalMs)) {
      state.reportedAt = now;
      const throttled =
        why === 'throttled' ? `throttled after ${state.failures} failed attempts, refused unchecked for ${seconds(state.blockedUntil - now)} s more` : why;
      this.log(`refused ${call} from ${peer}: ${throttled} — ${this.hint}`);
      return;
    }
    state.pending.set(why, (state.pending.get(why) ?? 0) + 1);
    if (this.flushTimer === undefined) {
      this.flushTimer = this.clock.setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, this.limits.reportIntervalMs);
      (this.flushTimer as { unref?: () => void }).unref?.();
    }
  }

  private flush(): void {
    const now = this.clock.now();
    for (const [peer, state] of [...this.peers]) {
      this.report(peer, state);
      const idle = now >= state.blockedUntil && now - state.lastFailureAt > this.limits.forgetAfterMs;
      if (idle) this.peers.delete(peer);
    }
  }

  private report(peer: string, state: PeerState): void {
    if (state.pending.size === 0) return;
    const now = this.clock.now();
    const total = [...state.pending.values()].reduce((a, b) => a + b, 0);
    const reasons = [...state.pending].map(([why, n]) => `${count(n)} ${PENDING_WORDS[why]}`).join(', ');
    const blocked = state.blockedUntil > now ? `; throttled for ${seconds(state.blockedUntil - now)} s more` : '';
    this.log(
      `refused ${count(total)} call${total === 1 ? '' : 's'} from ${peer} in the last ${seconds(now - (state.reportedAt ?? now))} s: ${reasons}${blocked} — ${this.hint}`,
    );
    state.reportedAt = now;
    state.pending.clear();
  }
}

/**
 * The door both apps share: a throttled peer is refused before any hashing; otherwise the
 * presented token's SHA-256 is compared in constant time with the expected digest — or with each
 * of several (an agent between two tokens while one is rotated), every one compared so that the
 * time taken does not say which matched. `matched` is the index of the one that did.
 */
export function checkBearer(
  throttle: AuthThrottle,
  request: { authorization: string | undefined; peer: string; call: string; expectedSha256: Buffer | readonly Buffer[] | undefined },
): BearerVerdict {
  const retryAfterMs = throttle.retryAfterMs(request.peer, request.call);
  if (retryAfterMs > 0) return { ok: false, why: 'throttled', retryAfterMs };
  const presented = bearerToken(request.authorization);
  const expected = request.expectedSha256 === undefined ? [] : Buffer.isBuffer(request.expectedSha256) ? [request.expectedSha256] : request.expectedSha256;
  if (presented !== undefined) {
    const digest = sha256(presented);
    let matched = -1;
    expected.forEach((e, i) => {
      if (e.length === 32 && timingSafeEqual(digest, e) && matched < 0) matched = i;
    });
    if (matched >= 0) {
      throttle.succeeded(request.peer);
      return { ok: true, matched };
    }
  }
  const why: BearerRefusal = presented === undefined ? 'no bearer token' : 'wrong token';
  throttle.failed(request.peer, why, request.call);
  return { ok: false, why };
}

/** A socket's remote address as one key per host: IPv4-mapped IPv6 is written as IPv4. */
export function peerAddress(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown peer';
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
