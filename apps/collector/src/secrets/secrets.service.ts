import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CollectorConfig } from '../config/env.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { keyCreatedNotice, MAKE_A_KEY, SecretBox, secretKey } from '../storage/secret-box.js';
import {
  installStagedKey,
  keepOldKey,
  leftoverRotationFiles,
  removeKeyFile,
  secretKeySourceOf,
  stageNewKey,
  stagedKeyFile,
} from '../storage/secret-key.store.js';
import { SecretsRepository, type ResealCounts } from './secrets.repository.js';

/** Agent tokens, channel and check secrets, two-factor secrets and the site key at rest: the start-up sweep and key rotation. */
@Injectable()
export class SecretsService {
  private readonly log = new Logger('Secrets');

  constructor(
    private readonly secrets: SecretsRepository,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
  ) {}

  /**
   * At start, before anything polls: seals what an older version stored in plaintext (and
   * what an interrupted rotation left under its new key), in one transaction, and says so
   * once. A value sealed with a key the collector lacks stops the start here, naming the key.
   */
  async sealStoredSecrets(): Promise<ResealCounts> {
    const box = this.secrets.box();
    if (box.current.created) {
      this.log.warn(keyCreatedNotice(box.current));
    }
    const counts = await this.secrets.resealAll(box);
    if (counts.agents + counts.channels + counts.checks + counts.users + counts.enrolments > 0) {
      this.log.log(`encrypted ${describe(counts)} stored in plaintext or under an older key, with key ${box.current.id}`);
    }
    const source = secretKeySourceOf(this.config);
    if ('file' in source) {
      for (const file of leftoverRotationFiles(source.file)) {
        this.log.warn(
          `${file} is left from an interrupted \`rounds-collector secrets rotate-key\`; nothing here needs it any more — delete it, or run the rotation again`,
        );
      }
    }
    return counts;
  }

  /**
   * Re-encrypts every stored secret under a new key, in one transaction. With a key file: the
   * new key is written to `<file>.new`, the old one kept as `<file>.old-<date>`, and only
   * after the commit does the new key replace the file and the old copy go. With
   * ROUNDS_SECRET_KEY the new key is ROUNDS_SECRET_KEY_NEW, which the operator then puts in
   * ROUNDS_SECRET_KEY. Returns lines for the operator.
   */
  async rotateKey(now: Date): Promise<string[]> {
    const old = this.secrets.box();
    // Plaintext or an interrupted rotation's values first: afterwards only `old` is needed.
    await this.secrets.resealAll(old);
    const source = secretKeySourceOf(this.config);
    if ('key' in source) {
      if (!this.config.newSecretKey) {
        throw new Error(
          `the secret key comes from ROUNDS_SECRET_KEY (key ${old.current.id}): set ROUNDS_SECRET_KEY_NEW to a new key made with ${MAKE_A_KEY} ` +
            'and run `rounds-collector secrets rotate-key` again with both set; then give the collector the new key as ROUNDS_SECRET_KEY',
        );
      }
      const next = secretKey(this.config.newSecretKey, 'ROUNDS_SECRET_KEY_NEW');
      if (next.id === old.current.id) throw new Error('ROUNDS_SECRET_KEY_NEW is the key already in use — make a new one with ' + MAKE_A_KEY);
      const counts = await this.reseal(new SecretBox(next, [old.current]));
      return [
        `re-encrypted ${describe(counts)} from key ${old.current.id} to key ${next.id} (ROUNDS_SECRET_KEY_NEW)`,
        'now set ROUNDS_SECRET_KEY to the value of ROUNDS_SECRET_KEY_NEW, remove ROUNDS_SECRET_KEY_NEW, and start the collector; the old key opens nothing here any more',
      ];
    }
    const file = source.file;
    const next = stageNewKey(file);
    let kept: string;
    try {
      kept = keepOldKey(file, now);
    } catch (e) {
      removeKeyFile(stagedKeyFile(file));
      throw e;
    }
    let counts: ResealCounts;
    try {
      counts = await this.reseal(new SecretBox(next, [old.current]));
    } catch (e) {
      // Rolled back: the database is still under the old key, which is still in `file`.
      removeKeyFile(stagedKeyFile(file));
      removeKeyFile(kept);
      throw new Error(`the key rotation was rolled back, nothing changed (key ${old.current.id} in ${file} still opens everything): ${(e as Error).message}`);
    }
    installStagedKey(file);
    removeKeyFile(kept);
    return [
      `re-encrypted ${describe(counts)} from key ${old.current.id} to key ${next.id}`,
      `the new key is in ${file} (0600); the old key was kept as ${kept} until now and is deleted`,
      'back the new key up with the database now: backups taken before this need the old key, which is gone',
    ];
  }

  private async reseal(box: SecretBox): Promise<ResealCounts> {
    const counts = await this.secrets.resealAll(box);
    this.secrets.useBox(box);
    return counts;
  }
}

function describe(c: ResealCounts): string {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return (
    `${plural(c.agents, 'agent token')}, ${plural(c.channels, 'notification channel')}, ${plural(c.checks, 'check config')}, ` +
    `${plural(c.users, "user's two-factor secret")} and ${plural(c.enrolments, 'site-key enrolment secret')}`
  );
}
