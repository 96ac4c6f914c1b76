import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** AES-256 takes a 32-byte key. */
export const SECRET_KEY_BYTES = 32;
/** 96-bit IVs are GCM's native size; random per value, so one key may seal ~2^32 values safely. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ENVELOPE_PREFIX = 'enc:v1:';
/** `enc:v<n>:` marks an envelope; anything else is a value stored before encryption (plaintext). */
const ANY_ENVELOPE = /^enc:v\d+:/;
const V1_ENVELOPE = /^enc:v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22,})$/;

/** How a person gets a key, for every message that asks for one. */
export const MAKE_A_KEY = '`openssl rand -base64 32` (or `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`)';

export interface SecretKey {
  /** Short, public fingerprint of the key, written into every envelope it seals. */
  readonly id: string;
  readonly bytes: Buffer;
  /** Where it came from, for messages: a file path or `ROUNDS_SECRET_KEY`. */
  readonly source: string;
  /** The key file was created on this start (no key existed). */
  readonly created?: boolean;
}

/** What to say once when a key file was just made: without it, what it sealed cannot be read. */
export function keyCreatedNotice(key: SecretKey): string {
  return (
    `created the secret key ${key.source} (key ${key.id}, mode 0600): it encrypts agent tokens and channel secrets — ` +
    'back it up with the database; without it they cannot be read'
  );
}

/** A stable, public id for a key: it names the key in envelopes and messages without revealing it. */
export function keyIdOf(bytes: Buffer): string {
  return createHash('sha256').update('rounds-secret-key-id\0').update(bytes).digest().subarray(0, 6).toString('base64url');
}

export function secretKey(bytes: Buffer, source: string, created = false): SecretKey {
  if (bytes.length !== SECRET_KEY_BYTES)
    throw new Error(`the secret key from ${source} has ${bytes.length} bytes, not ${SECRET_KEY_BYTES} — make one with ${MAKE_A_KEY}`);
  return Object.freeze({ id: keyIdOf(bytes), bytes, source, ...(created ? { created } : {}) });
}

/** A stored value was sealed with a key this collector does not have. */
export class SecretKeyMismatchError extends Error {
  constructor(
    readonly what: string,
    readonly keyId: string,
    current: SecretKey,
  ) {
    super(
      `${what} was encrypted with secret key ${keyId}, but the key in use is ${current.id} (from ${current.source})` +
        (current.created ? ', created on this start because none was found' : '') +
        ` — put back the key this database was encrypted with (the secret.key saved with its backup, or the ROUNDS_SECRET_KEY it ran with); ` +
        'if that key is lost, the agents must be enrolled again and the channel secrets entered again',
    );
    this.name = 'SecretKeyMismatchError';
  }
}

/** A stored envelope failed authentication or does not parse: it was altered or damaged. */
export class SecretTamperedError extends Error {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(
      `${what} cannot be decrypted: ${detail} — it was altered or damaged in the database; enter it again (re-enrol the agent, or save the channel with its secret)`,
    );
    this.name = 'SecretTamperedError';
  }
}

/**
 * Seals secrets for storage with AES-256-GCM and opens them again. A sealed value is one line
 * of text, `enc:v1:<key id>:<iv>:<ciphertext+tag>` (base64url), so it fits the text columns
 * that held the plaintext, names the key that sealed it (rotation, and a message naming the
 * missing key) and has a version for a later format. The header is authenticated as associated
 * data: a changed key id fails like a changed ciphertext.
 *
 * `fallbacks` open values sealed with an older key (an interrupted rotation); {@link seal}
 * always uses `current`, and {@link isCurrent} tells which stored values need sealing again.
 */
export class SecretBox {
  private readonly keys: ReadonlyMap<string, SecretKey>;

  constructor(
    readonly current: SecretKey,
    fallbacks: readonly SecretKey[] = [],
  ) {
    this.keys = new Map([...fallbacks, current].map((k) => [k.id, k]));
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const header = `${ENVELOPE_PREFIX}${this.current.id}:`;
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv);
    cipher.setAAD(Buffer.from(header));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${header}${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  /**
   * The plaintext of a stored value. A value without an envelope was stored before encryption
   * and is returned as it is (the start-up sweep seals it). `what` names the value in errors,
   * e.g. `the token of agent pacs-01`.
   */
  open(stored: string, what: string): string {
    if (!isSealed(stored)) return stored;
    const m = V1_ENVELOPE.exec(stored);
    if (!m) {
      if (!stored.startsWith(ENVELOPE_PREFIX)) {
        throw new SecretTamperedError(what, `its format ${stored.split(':', 2).join(':')} is newer than this collector understands (upgrade the collector)`);
      }
      throw new SecretTamperedError(what, 'it is not a well-formed enc:v1 envelope');
    }
    const [, keyId, iv, body] = m as unknown as [string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) throw new SecretKeyMismatchError(what, keyId, this.current);
    const bytes = Buffer.from(body, 'base64url');
    if (bytes.length < TAG_BYTES) throw new SecretTamperedError(what, 'the ciphertext is too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${ENVELOPE_PREFIX}${keyId}:`));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretTamperedError(what, 'authentication failed');
    }
  }

  /** Sealed with the current key: nothing to do for it in a sweep or a rotation. */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${ENVELOPE_PREFIX}${this.current.id}:`);
  }
}

export function isSealed(stored: string): boolean {
  return ANY_ENVELOPE.test(stored);
}

/**
 * The box belongs to the database it seals for: whoever opens a DataSource gives it its key
 * (createDataSource), and the repositories that store secrets take it from there — so a spec
 * or a bench that opens a database gets the same sealing as the collector, with no second
 * path that could store plaintext.
 */
const boxes = new WeakMap<DataSource, SecretBox>();

export function attachSecretBox(dataSource: DataSource, box: SecretBox): void {
  boxes.set(dataSource, box);
}

export function secretBoxOf(dataSource: DataSource): SecretBox {
  const box = boxes.get(dataSource);
  if (!box) throw new Error('this DataSource has no secret key: open it with createDataSource(), which loads the key for agent tokens and channel secrets');
  return box;
}
