import type { CollectorConfig } from '../config/env.js';
import { withContext, type AdminArgs } from '../cli/local.js';
import { SecretsService } from './secrets.service.js';

/** `secrets rotate-key`: re-seals every stored secret under a new key, with the collector stopped (it reads the key at start). */
export async function secretsCommand(config: CollectorConfig, { positionals }: AdminArgs, print: (s: string) => void, now = () => new Date()): Promise<number> {
  if (positionals[0] !== 'rotate-key') throw new Error('usage: rounds-collector secrets rotate-key   (with the collector stopped)');
  return withContext(config, async (app) => {
    for (const line of await app.get(SecretsService).rotateKey(now())) print(line);
    return 0;
  });
}
