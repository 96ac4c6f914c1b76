import { Metadata, ServerInterceptingCall, status as GrpcStatus, type StatusObject, type ServerInterceptor } from '@grpc/grpc-js';
import { AUTH_METADATA_KEY, AuthThrottle, checkBearer, peerAddress, type AuthThrottleLimits, type Clock } from '#rounds/common';
import type { TokenKeeper } from '../services/token-keeper.js';

const HINT =
  'this agent answers only a collector that enrolled it with its current token (if that collector is yours, enrol the agent there again with the enrolment string from `rounds-agent init`)';

/** `retry-after` (whole seconds) in a refusal's trailers: when a throttled caller may try again. */
export function retryAfterTrailers(retryAfterMs: number): Metadata {
  const trailers = new Metadata();
  trailers.set('retry-after', String(Math.ceil(retryAfterMs / 1000)));
  return trailers;
}

/**
 * The calls answered without a token: site-key enrolment, which proves its own credential (an
 * HMAC over a nonce, see SiteKeyClaims) and is throttled there.
 */
export const TOKENLESS_METHODS: ReadonlySet<string> = new Set(['EnrolChallenge', 'Claim']);

/**
 * Every call must carry `authorization: Bearer <token>` (but {@link TOKENLESS_METHODS}). It runs as a gRPC server interceptor
 * on the call's metadata, before the request body is read — Nest's guards run after the body
 * is deserialised, so a malformed body from anyone would have been parsed (and answered
 * INTERNAL) before the token was looked at. The config holds only the token's SHA-256 (two
 * during a rotation, see TokenKeeper) and the comparison is constant-time over digests. A peer that keeps failing is throttled without
 * hashing (RESOURCE_EXHAUSTED, with `retry-after` seconds in the trailers) and its refusals are
 * logged one line per interval, with its address and method, never with what it sent.
 */
export class TokenGuard {
  private readonly throttle: AuthThrottle;

  constructor(
    private readonly tokens: Pick<TokenKeeper, 'expected' | 'used'>,
    clock: Clock,
    log: (line: string) => void,
    limits: Partial<AuthThrottleLimits> = {},
  ) {
    this.throttle = new AuthThrottle(clock, log, HINT, limits);
  }

  /** The status a call is refused with, or undefined to let it through. */
  check(metadata: Metadata, remoteAddress: string | undefined, method: string): StatusObject | undefined {
    const header = metadata.get(AUTH_METADATA_KEY)[0];
    const peer = peerAddress(remoteAddress);
    const verdict = checkBearer(this.throttle, {
      authorization: typeof header === 'string' ? header : undefined,
      peer,
      call: method,
      expectedSha256: this.tokens.expected(),
    });
    if (verdict.ok) {
      this.tokens.used(verdict.matched);
      return undefined;
    }
    if (verdict.why === 'throttled') {
      const retryAfter = Math.ceil(verdict.retryAfterMs / 1000);
      const trailers = retryAfterTrailers(verdict.retryAfterMs);
      return {
        code: GrpcStatus.RESOURCE_EXHAUSTED,
        details: `too many failed token attempts from ${peer}: refused without checking for ${retryAfter} s more — ${HINT}`,
        metadata: trailers,
      };
    }
    return { code: GrpcStatus.UNAUTHENTICATED, details: `${verdict.why} — ${HINT}`, metadata: new Metadata() };
  }

  /** For `new Server({ interceptors: [guard.interceptor] })`. */
  readonly interceptor: ServerInterceptor = (descriptor, call) => {
    const method = descriptor.path.slice(descriptor.path.lastIndexOf('/') + 1);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const refusal = TOKENLESS_METHODS.has(method) ? undefined : this.check(metadata, call.getConnectionInfo().remoteAddress, method);
            // Not passing the metadata on means the handler never starts reading the body.
            if (refusal) call.sendStatus(refusal);
            else pass(metadata);
          },
        }),
    });
  };

  /** Logs the refusals not yet reported (at shutdown). */
  close(): void {
    this.throttle.close();
  }
}
