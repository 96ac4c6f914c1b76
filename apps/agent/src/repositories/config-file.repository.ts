import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { writeFileDurably } from '../spool/spool-files.js';

/**
 * The token hashes an agent's config file holds: the current one and, during a rotation, the
 * next. An agent installed with a site key has none until a collector claims it.
 */
export interface TokenHashes {
  tokenSha256?: string | undefined;
  nextTokenSha256?: string | undefined;
}

/**
 * Writes the token hashes into the agent's config file and leaves everything else as it was —
 * comments, order and the operator's other settings (the YAML document is edited, not rebuilt).
 * The file is replaced whole (temporary file, flushed, renamed) and readable by its owner only:
 * a crash or a full disk leaves the old file or the new one, never half of either.
 */
export async function writeTokenHashes(path: string, hashes: TokenHashes): Promise<void> {
  const doc = parseDocument(await readFile(path, 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${path} is not valid YAML any more (${doc.errors[0]!.message}): fix it, then rotate the token again`);
  if (hashes.tokenSha256 === undefined) throw new Error('no token to write');
  doc.set('tokenSha256', hashes.tokenSha256);
  if (hashes.nextTokenSha256 === undefined) doc.delete('nextTokenSha256');
  else if (doc.has('nextTokenSha256')) doc.set('nextTokenSha256', hashes.nextTokenSha256);
  else if (isMap(doc.contents)) {
    // Beside the current one, where a person reading the file looks for it.
    const items = doc.contents.items;
    const at = items.findIndex((pair) => isScalar(pair.key) && pair.key.value === 'tokenSha256');
    items.splice(at + 1, 0, doc.createPair('nextTokenSha256', hashes.nextTokenSha256));
  }
  await writeFileDurably(dirname(path), basename(path), doc.toString());
}

/**
 * A collector claimed the agent with the site key: its token's hash takes the place of the
 * site-key verifier, in one write (as writeTokenHashes writes: comments kept, owner-only,
 * replaced whole) — a file never holds both, so the key is no longer accepted after a restart either.
 */
export async function writeClaimedToken(path: string, tokenSha256: string): Promise<void> {
  const doc = parseDocument(await readFile(path, 'utf8'));
  if (doc.errors.length > 0)
    throw new Error(`${path} is not valid YAML any more (${doc.errors[0]!.message}): fix it, then have the collector claim the agent again`);
  if (!isMap(doc.contents)) throw new Error(`${path} is not a YAML mapping of settings any more`);
  doc.delete('nextTokenSha256');
  const items = doc.contents.items;
  // init's note about waiting to be claimed would now be wrong (YAML keeps a file's top comment on its first key).
  const note = / No token yet: [^\n]*\n[^\n]*/;
  const claimedNote = ' The token itself is not stored: only its SHA-256, from the collector that claimed this agent with the site key.';
  const first = items[0]?.key;
  if (doc.commentBefore) doc.commentBefore = doc.commentBefore.replace(note, claimedNote);
  else if (isScalar(first) && first.commentBefore) first.commentBefore = first.commentBefore.replace(note, claimedNote);
  const at = items.findIndex((pair) => isScalar(pair.key) && pair.key.value === 'siteKeyVerifier');
  if (at < 0) doc.set('tokenSha256', tokenSha256);
  else items.splice(at, 1, doc.createPair('tokenSha256', tokenSha256));
  await writeFileDurably(dirname(path), basename(path), doc.toString());
}
