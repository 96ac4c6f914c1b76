import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import { AuthThrottle, checkBearer, peerAddress, sha256 as digest, type AuthThrottleLimits, type BearerVerdict, type Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { ApiTokenStore } from './api-token.store.js';
import { AuditRepository } from '../audit/audit.repository.js';
import type { AuditContext } from '../audit/audit.types.js';
import { API_AUTH_LIMITS, CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';

const HINT = 'if this is you, use the current API token (`rounds-collector api-token rotate` makes a new one; ROUNDS_API_TOKEN sets it)';

/**
 * The JSON API's bearer token. Generated on first start and shown once; only its
 * SHA-256 is kept in the data directory. ROUNDS_API_TOKEN replaces it (containers,
 * config management). Per-user tokens arrive with users and roles. Wrong tokens are throttled
 * per client address like the agent's door (the same AuthThrottle) and logged one line per
 * address per minute.
 */
@Injectable()
export class ApiTokenService implements OnModuleDestroy {
  private expected?: Buffer;
  private readonly log = new Logger('Api');
  private readonly throttle: AuthThrottle;

  constructor(
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    private readonly store: ApiTokenStore,
    private readonly audit: AuditRepository,
    @Inject(CLOCK) clock: Clock,
    @Optional() @Inject(API_AUTH_LIMITS) limits?: Partial<AuthThrottleLimits>,
  ) {
    this.throttle = new AuthThrottle(clock, (line) => this.log.warn(line), HINT, limits);
  }

  onModuleDestroy(): void {
    this.throttle.close();
  }

  /** Loads the stored hash, or creates a token and returns it so the caller can show it once. */
  ensure(): { created?: string } {
    if (this.config.apiToken) {
      this.expected = digest(this.config.apiToken);
      return {};
    }
    const stored = this.store.read();
    if (stored) {
      this.expected = Buffer.from(stored, 'hex');
      return {};
    }
    return { created: this.replace() };
  }

  /**
   * Makes a new token, replacing the old one; returns it (the only time it is readable). The
   * hash lives in a file, so there is no transaction to share: the audit row is appended right
   * after the file is written (a failed write records nothing; a failed append is reported to
   * the caller, with the new token already in force).
   */
  async rotate(context: AuditContext): Promise<string> {
    const token = this.replace();
    await this.audit.append({ context, action: 'api-token.rotate', target: { kind: 'api-token', id: null, name: null }, before: null, after: null });
    return token;
  }

  private replace(): string {
    const token = `rnd_${randomBytes(24).toString('base64url')}`;
    this.store.write(digest(token).toString('hex'));
    this.expected = digest(token);
    return token;
  }

  /** Checks an `Authorization` header from `remoteAddress`; `call` names the request in the log. */
  check(authorization: string | undefined, remoteAddress: string | undefined, call: string): BearerVerdict & { peer: string } {
    if (!this.expected) this.ensure();
    const peer = peerAddress(remoteAddress);
    return { ...checkBearer(this.throttle, { authorization, peer, call, expectedSha256: this.expected }), peer };
  }
}
