import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { writeFileDurably } from '../spool/spool-files.js';

/** The token hashes an agent's config file holds: the current one and, during a rotation, the next. */
export interface TokenHashes {
  tokenSha256: string;
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
