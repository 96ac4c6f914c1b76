import { Injectable, Module, type ExecutionContext } from '@nestjs/common';
import { ThrottlerException, ThrottlerGuard, ThrottlerModule, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import type { CollectorConfig } from '../../config/env.js';
import { COLLECTOR_CONFIG } from '../../shared/tokens.js';
import { principalOf } from '../caller.decorator.js';

const MINUTE_MS = 60_000;

/**
 * Whose budget a request spends: the API token's or the session's the access guard found (so
 * one script cannot starve another user's), else the client address. Ids, never secrets.
 */
function trackerOf(req: Request): string {
  const principal = principalOf(req);
  return principal ? `${principal.via}:${principal.credentialId}` : `address:${req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * ROUNDS_API_RATE_LIMIT requests a minute per token, session or address on /api/; past it a 429
 * with `Retry-After` (seconds) and problem details naming the limit. A guard registered after
 * the access guard, so the caller is known; pages are left to the sign-in throttle. Counters
 * live in memory: a limit per collector, which is what protects it.
 */
@Injectable()
export class ApiRateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    return !req.path.startsWith('/api/') || (await super.shouldSkip(context));
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(trackerOf(req as unknown as Request));
  }

  protected override throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const who = principalOf(context.switchToHttp().getRequest<Request>())?.via ?? 'address';
    const per = who === 'token' ? 'API token' : who === 'session' ? 'session' : 'client address';
    throw new ThrottlerException(
      `too many requests: the API answers ${detail.limit} a minute per ${per} (ROUNDS_API_RATE_LIMIT) — wait ${detail.timeToBlockExpire} s (Retry-After) and slow down`,
    );
  }
}

/** The API's rate limit, configured from the collector's settings; 0 turns it off. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [COLLECTOR_CONFIG],
      useFactory: (config: CollectorConfig) => ({
        throttlers: [{ ttl: MINUTE_MS, limit: Math.max(config.apiRateLimit, 1) }],
        skipIf: () => config.apiRateLimit === 0,
      }),
    }),
  ],
  providers: [ApiRateLimitGuard],
  exports: [ApiRateLimitGuard],
})
export class ApiRateLimitModule {}
