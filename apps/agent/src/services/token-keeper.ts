import { writeClaimedToken, writeTokenHashes, type TokenHashes } from '../repositories/config-file.repository.js';

/** Why a rotation was refused, for the gRPC status. */
export class TokenRotationRefused extends Error {
  constructor(
    message: string,
    readonly reason: 'invalid' | 'precondition',
  ) {
    super(message);
  }
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * The tokens this agent accepts: its current one and, while a rotation is under way, the next.
 * A rotation writes the next token's hash to the config file before it is accepted; the first
 * call that presents it makes it the only token (written too) — so a collector that never heard
 * the answer keeps working with the old token, and a stolen old token stops working as soon as
 * the collector has moved on. Writes are queued one after another.
 */
export class TokenKeeper {
  private hashes: TokenHashes;
  private digests: Buffer[];
  private writing: Promise<void> = Promise.resolve();
  /** A promotion whose write failed: tried again on the next call with the new token. */
  private unwritten = false;

  constructor(
    private readonly configPath: string,
    initial: TokenHashes,
    private readonly fromEnv: boolean,
    private readonly log: { log: (line: string) => void; error: (line: string) => void },
    private readonly write: (path: string, hashes: TokenHashes) => Promise<void> = writeTokenHashes,
    private readonly writeClaim: (path: string, tokenSha256: string) => Promise<void> = writeClaimedToken,
  ) {
    this.hashes = { ...initial };
    this.digests = this.digestsOf(this.hashes);
  }

  /** The digests a call's token may match: the current one first, then the next one during a rotation. */
  expected(): readonly Buffer[] {
    return this.digests;
  }

  /** Whether the agent has a token: until it has, only a site-key claim (SiteKeyClaims) can give it one. */
  get enrolled(): boolean {
    return this.fromEnv || this.hashes.tokenSha256 !== undefined;
  }

  /**
   * The first token, from a collector that claimed the agent with the site key: written to the
   * config file in place of the site-key verifier, and accepted once it is there.
   */
  async claim(tokenSha256: string): Promise<void> {
    if (!HEX_SHA256.test(tokenSha256)) throw new TokenRotationRefused('new_token_sha256 must be 64 lower-case hex characters (a SHA-256)', 'invalid');
    if (this.enrolled) throw new TokenRotationRefused('this agent has a token already', 'precondition');
    await this.queue(() => this.writeClaim(this.configPath, tokenSha256));
    this.hashes = { tokenSha256 };
    this.digests = this.digestsOf(this.hashes);
    this.log.log('claimed by a collector holding the site key: its token is accepted from now on, and the site key no longer');
  }

  /** Whether a rotation waits for its first use. */
  get rotating(): boolean {
    return this.hashes.nextTokenSha256 !== undefined;
  }

  /** Called by the door for each call let in, with the index of the digest its token matched. */
  used(matched: number): void {
    if (matched === 1 && this.hashes.nextTokenSha256 !== undefined) {
      // From now on only the new token opens the door, whatever the file write does.
      this.hashes = { tokenSha256: this.hashes.nextTokenSha256 };
      this.digests = this.digestsOf(this.hashes);
      this.unwritten = true;
      this.log.log('the collector uses the new token: the old one is no longer accepted');
    }
    if (this.unwritten) void this.persist();
  }

  /** Accepts `nextSha256` beside the current token, once it is in the config file. */
  async stage(nextSha256: string): Promise<void> {
    if (this.fromEnv) {
      throw new TokenRotationRefused(
        'this agent takes its token from ROUNDS_AGENT_TOKEN, which would bring the old token back at the next start — set a new token there and enrol the agent again',
        'precondition',
      );
    }
    if (!HEX_SHA256.test(nextSha256)) throw new TokenRotationRefused('new_token_sha256 must be 64 lower-case hex characters (a SHA-256)', 'invalid');
    if (this.hashes.tokenSha256 === undefined) throw new TokenRotationRefused('this agent has no token yet: a collector must claim it first', 'precondition');
    if (nextSha256 === this.hashes.tokenSha256) throw new TokenRotationRefused('the new token is the current one: make a new token', 'invalid');
    const staged: TokenHashes = { tokenSha256: this.hashes.tokenSha256, nextTokenSha256: nextSha256 };
    await this.queue(() => this.write(this.configPath, staged));
    this.hashes = staged;
    this.digests = this.digestsOf(staged);
    this.log.log('token rotation: a new token is accepted beside the current one until the collector uses it');
  }

  /** Waits for queued writes (tests, shutdown). */
  settled(): Promise<void> {
    return this.writing;
  }

  private persist(): Promise<void> {
    if (!this.unwritten) return this.writing;
    this.unwritten = false;
    const hashes = { ...this.hashes };
    return this.queue(() => this.write(this.configPath, hashes)).catch((e: unknown) => {
      this.unwritten = true;
      this.log.error(
        `cannot write the new token to ${this.configPath}: ${(e as Error).message} — it is in force until the agent stops; ` +
          'after a restart the file still accepts the old and the new token until the collector calls again',
      );
    });
  }

  private queue(job: () => Promise<void>): Promise<void> {
    const run = this.writing.then(job);
    this.writing = run.catch(() => {});
    return run;
  }

  private digestsOf(h: TokenHashes): Buffer[] {
    return [h.tokenSha256, h.nextTokenSha256].filter((x) => x !== undefined).map((x) => Buffer.from(x, 'hex'));
  }
}
