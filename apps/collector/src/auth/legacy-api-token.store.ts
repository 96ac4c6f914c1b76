import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { CollectorConfig } from '../config/env.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';

/**
 * The single API token of versions before users: its SHA-256 in `<data dir>/api-token.sha256`.
 * Read once on upgrade, to become an admin's token, then renamed so it is not imported again.
 */
@Injectable()
export class LegacyApiTokenStore {
  constructor(@Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig) {}

  private get path(): string {
    return join(this.config.dataDir, 'api-token.sha256');
  }

  /** The stored hash (hex), or undefined when there is no usable file. */
  read(): string | undefined {
    if (!existsSync(this.path)) return undefined;
    const text = readFileSync(this.path, 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
  }

  /** Moves the file aside once its token is in the database. */
  markImported(): string {
    const to = `${this.path}.imported`;
    renameSync(this.path, to);
    return to;
  }
}
