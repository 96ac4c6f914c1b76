import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CollectorConfig } from '../config/env.js';
import { ApiTokenStore } from '../repositories/api-token.store.js';
import { COLLECTOR_CONFIG } from './tokens.js';

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * The JSON API's bearer token. Generated on first start and shown once; only its
 * SHA-256 is kept in the data directory. ROUNDS_API_TOKEN replaces it (containers,
 * config management). Per-user tokens arrive with users and roles.
 */
@Injectable()
export class ApiTokenService {
  private expected?: Buffer;

  constructor(
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    private readonly store: ApiTokenStore,
  ) {}

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
    return { created: this.rotate() };
  }

  /** Makes a new token, replacing the old one; returns it (the only time it is readable). */
  rotate(): string {
    const token = `rnd_${randomBytes(24).toString('base64url')}`;
    this.store.write(digest(token).toString('hex'));
    this.expected = digest(token);
    return token;
  }

  verify(presented: string | undefined): boolean {
    if (!this.expected) this.ensure();
    if (presented === undefined || !this.expected) return false;
    return timingSafeEqual(digest(presented), this.expected);
  }
}
