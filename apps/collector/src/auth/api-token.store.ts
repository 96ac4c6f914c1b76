import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { CollectorConfig } from '../config/env.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';

/** The API token's hash, in `<data dir>/api-token.sha256` (owner-only). */
@Injectable()
export class ApiTokenStore {
  private readonly path: string;

  constructor(@Inject(COLLECTOR_CONFIG) config: CollectorConfig) {
    this.path = join(config.dataDir, 'api-token.sha256');
  }

  read(): string | undefined {
    try {
      const text = readFileSync(this.path, 'utf8').trim();
      return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
    } catch {
      return undefined;
    }
  }

  write(hashHex: string): void {
    mkdirSync(join(this.path, '..'), { recursive: true });
    writeFileSync(this.path, `${hashHex}\n`, { mode: 0o600 });
    chmodSync(this.path, 0o600);
  }
}
