import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Site-key enrolment: the cryptography both sides share.
 *
 * An agent installed with the site key (`rounds-agent init --site-key-file …`) keeps only a
 * verifier derived from the key and its own id — never the key — and no token. A collector that
 * holds the key derives the same verifier and uses it to prove, over a single-use nonce the agent
 * handed out, that it may give the agent a token; the agent likewise proves that it was installed
 * with the key. Each proof is an HMAC-SHA256 under the verifier over a message that names what it
 * is for, so an answer of one kind can never pass for the other.
 *
 * The verifier is scrypt(site key, agent id): a per-agent key, so a verifier read off one agent's
 * disk claims nothing but that agent, and slow to derive, so that it does not make guessing a
 * weaker, hand-made site key cheap.
 */

/**
 * Letters, digits, `-` and `_`, 32 to 128 of them, the first a letter or digit (a key starting
 * with `-` would be read as an option after `--site-key`): what `makeSiteKey()` makes (43) or an admin sets.
 */
export const SITE_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{31,127}$/;
export const SITE_KEY_RULE =
  'must be 32–128 letters, digits, "-" or "_", starting with a letter or digit — use the key the collector made (Agents → Enrol many agents, or POST /api/v1/site-key)';

/** Nonces of either side: 32 random bytes, base64url (43 characters); anything from 16 to 128 of those characters is read. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const HEX_64 = /^[0-9a-f]{64}$/;

/** scrypt's cost: 16 MiB and ~50 ms a derivation — once at `init` on the agent, once per agent contacted on the collector. */
const SCRYPT = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** A new site key: 32 random bytes, base64url — drawn again while it starts with `-` or `_`. */
export function makeSiteKey(): string {
  for (;;) {
    const key = randomBytes(32).toString('base64url');
    if (SITE_KEY_PATTERN.test(key)) return key;
  }
}

/** A nonce for either side of the handshake. */
export function makeNonce(): string {
  return randomBytes(32).toString('base64url');
}

export function isNonce(text: string): boolean {
  return NONCE_PATTERN.test(text);
}

/** Why `text` is no site key, or undefined when it is one. */
export function siteKeyProblem(text: string): string | undefined {
  return SITE_KEY_PATTERN.test(text) ? undefined : SITE_KEY_RULE;
}

/** The agent's verifier (32 bytes): derived from the site key and the agent's id, stored by the agent as hex. */
export function siteKeyVerifier(siteKey: string, agentId: string): Promise<Buffer> {
  const problem = siteKeyProblem(siteKey);
  if (problem) return Promise.reject(new Error(`the site key ${problem}`));
  return new Promise((resolve, reject) =>
    scrypt(siteKey, `rounds site key verifier v1\0${agentId}`, 32, SCRYPT, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** What the collector's claim covers: the agent's nonce, who the agent is, and the token it is to accept. */
export interface ClaimFacts {
  nonce: string;
  agentId: string;
  /** The certificate the collector sees (and will pin): a claim relayed by something in between names the wrong one. */
  certificateSha256: string;
  newTokenSha256: string;
}

/** What the agent's proof covers: the collector's nonce and its own. */
export interface AgentProofFacts {
  collectorNonce: string;
  nonce: string;
  agentId: string;
  certificateSha256: string;
}

function mac(verifier: Buffer, purpose: string, fields: readonly string[]): string {
  // Every field has a fixed alphabet without NUL, so NUL-separated fields read back one way only.
  return createHmac('sha256', verifier)
    .update([purpose, ...fields].join('\0'))
    .digest('hex');
}

/** The collector's proof that it holds the site key: the agent accepts `newTokenSha256` only with it. */
export function claimProof(verifier: Buffer, f: ClaimFacts): string {
  return mac(verifier, 'rounds claim v1', [f.nonce, f.agentId, f.certificateSha256, f.newTokenSha256]);
}

/** The agent's proof that it was installed with the site key, answering the collector's nonce. */
export function agentProof(verifier: Buffer, f: AgentProofFacts): string {
  return mac(verifier, 'rounds agent proof v1', [f.collectorNonce, f.nonce, f.agentId, f.certificateSha256]);
}

/** Compares two proofs (hex HMACs) in constant time; anything not 64 hex digits never matches. */
export function proofsEqual(expected: string, presented: string): boolean {
  if (!HEX_64.test(presented) || !HEX_64.test(expected)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(presented, 'hex'));
}
