import { AuthThrottle, agentProof, claimProof, isNonce, makeNonce, proofsEqual, type AuthThrottleLimits, type Clock } from '#rounds/common';
import type { TokenKeeper } from './token-keeper.js';

/** Why a challenge or a claim was refused; the controller maps each to a gRPC status. */
export type ClaimRefusal = 'invalid' | 'nonce' | 'proof' | 'enrolled' | 'busy' | 'throttled';

export class ClaimRefused extends Error {
  constructor(
    message: string,
    readonly reason: ClaimRefusal,
    /** For `throttled`: how long this address is refused unchecked. */
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/** Who the agent is, as a challenge's answer says. */
export interface AgentIdentity {
  agentId: string;
  certificateSha256: string;
  hostname: string;
  version: string;
}

export type ChallengeAnswer =
  | { state: 'enrolled'; agentId: string; certificateSha256: string }
  | ({ state: 'claimable'; nonce: string; nonceTtlMs: number; agentProof: string } & AgentIdentity);

export interface ClaimLimits {
  /** How long a nonce may be claimed with. */
  nonceTtlMs: number;
  /** Nonces handed out and not yet spent or expired; the oldest goes first, so a flood of challenges costs bounded memory. */
  maxNonces: number;
  /** Failed proofs from one address before it is refused unchecked (doubling penalty, as for wrong tokens). */
  perAddress: Partial<AuthThrottleLimits>;
  /** Failed proofs from all addresses together: bounds guessing from many addresses. */
  overall: Partial<AuthThrottleLimits>;
}

export const CLAIM_LIMITS: Readonly<ClaimLimits> = Object.freeze({
  nonceTtlMs: 30_000,
  maxNonces: 64,
  perAddress: { freeFailures: 5 },
  overall: { freeFailures: 20 },
});

const HINT =
  'a collector claims this agent only with the site key it was installed with (if that collector is yours, check its site key; to start over, run `rounds-agent init --force --site-key-file …` here)';
const ALL = 'any address';

/**
 * The agent's side of site-key enrolment. Installed with a site key, the agent keeps a verifier
 * derived from the key and its id (never the key) and has no token. A challenge hands out a
 * single-use, short-lived nonce and proves that the agent holds the verifier; a claim that proves
 * the same over that nonce, the agent's id, its certificate and the SHA-256 of the collector's
 * token gets the token written to the config file in place of the verifier — from then on the
 * agent is enrolled like any other and the site key is no longer accepted. Proofs are compared in
 * constant time; a nonce is spent by any claim naming it; failed claims are throttled per address
 * and overall, so that guessing costs time and stays bounded.
 */
export class SiteKeyClaims {
  private verifier: Buffer | undefined;
  private readonly nonces = new Map<string, number>();
  private claiming = false;
  private readonly perAddress: AuthThrottle;
  private readonly overall: AuthThrottle;
  private readonly limits: ClaimLimits;

  constructor(
    private readonly identity: AgentIdentity,
    verifierHex: string | undefined,
    private readonly tokens: Pick<TokenKeeper, 'enrolled' | 'claim'>,
    private readonly clock: Clock,
    log: (line: string) => void,
    limits: Partial<ClaimLimits> = {},
  ) {
    this.verifier = verifierHex === undefined ? undefined : Buffer.from(verifierHex, 'hex');
    this.limits = { ...CLAIM_LIMITS, ...limits };
    this.perAddress = new AuthThrottle(clock, log, HINT, this.limits.perAddress);
    this.overall = new AuthThrottle(clock, log, HINT, { ...this.limits.overall, maxPeers: 1 });
  }

  /** Whether a collector holding the site key may claim the agent now. */
  get claimable(): boolean {
    return this.verifier !== undefined && !this.tokens.enrolled;
  }

  /** Step one: who the agent is and, while it can be claimed, a nonce and its proof over the collector's. */
  challenge(collectorNonce: string, peer: string): ChallengeAnswer {
    if (!this.claimable || this.verifier === undefined) {
      return { state: 'enrolled', agentId: this.identity.agentId, certificateSha256: this.identity.certificateSha256 };
    }
    if (!isNonce(collectorNonce)) throw new ClaimRefused('collector_nonce must be 16–128 base64url characters', 'invalid');
    this.refuseIfThrottled(peer, 'EnrolChallenge');
    const now = this.clock.now();
    for (const [nonce, expires] of this.nonces) if (expires <= now) this.nonces.delete(nonce);
    while (this.nonces.size >= this.limits.maxNonces) this.nonces.delete(this.nonces.keys().next().value!);
    const nonce = makeNonce();
    this.nonces.set(nonce, now + this.limits.nonceTtlMs);
    return {
      state: 'claimable',
      ...this.identity,
      nonce,
      nonceTtlMs: this.limits.nonceTtlMs,
      agentProof: agentProof(this.verifier, { collectorNonce, nonce, ...this.identity }),
    };
  }

  /** Step two: a collector's proof that it holds the site key; on success its token is the agent's. */
  async claim(request: { nonce: string; newTokenSha256: string; proof: string }, peer: string): Promise<void> {
    this.refuseIfThrottled(peer, 'Claim');
    if (!this.claimable || this.verifier === undefined) {
      throw new ClaimRefused(
        'this agent is enrolled already (claimed, or initialised with an enrolment string): the site key is not accepted — ' +
          'if it should be enrolled again, run `rounds-agent init --force --site-key-file …` on it',
        'enrolled',
      );
    }
    if (!/^[0-9a-f]{64}$/.test(request.newTokenSha256) || !/^[0-9a-f]{64}$/.test(request.proof) || !isNonce(request.nonce)) {
      this.failed(peer);
      throw new ClaimRefused('nonce, new_token_sha256 and proof are required: a nonce from EnrolChallenge and two SHA-256 sized hex values', 'invalid');
    }
    if (this.claiming) throw new ClaimRefused('another claim is being written: ask for a new challenge in a moment', 'busy');
    const expires = this.nonces.get(request.nonce);
    this.nonces.delete(request.nonce);
    if (expires === undefined || expires <= this.clock.now()) {
      this.failed(peer);
      throw new ClaimRefused('the nonce is unknown, expired or spent: ask for a new challenge and claim within its time', 'nonce');
    }
    const expected = claimProof(this.verifier, { nonce: request.nonce, ...this.identity, newTokenSha256: request.newTokenSha256 });
    if (!proofsEqual(expected, request.proof)) {
      this.failed(peer);
      throw new ClaimRefused(
        'the proof does not match: the collector holds another site key than the one this agent was installed with (or sees another certificate)',
        'proof',
      );
    }
    this.claiming = true;
    try {
      await this.tokens.claim(request.newTokenSha256);
    } finally {
      this.claiming = false;
    }
    this.verifier = undefined;
    this.nonces.clear();
    this.perAddress.succeeded(peer);
  }

  /** Logs the refusals not yet reported (at shutdown). */
  close(): void {
    this.perAddress.close();
    this.overall.close();
  }

  private refuseIfThrottled(peer: string, call: string): void {
    const wait = Math.max(this.perAddress.retryAfterMs(peer, call), this.overall.retryAfterMs(ALL, call));
    if (wait > 0) {
      throw new ClaimRefused(`too many failed site-key proofs: refused without checking for ${Math.ceil(wait / 1000)} s more — ${HINT}`, 'throttled', wait);
    }
  }

  private failed(peer: string): void {
    this.perAddress.failed(peer, 'wrong proof', 'Claim');
    this.overall.failed(ALL, 'wrong proof', 'Claim');
  }
}
