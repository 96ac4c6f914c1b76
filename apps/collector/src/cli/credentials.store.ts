import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** `<data dir>/cli-credentials.json`: how `rounds-collector` commands on this machine reach the collector serving from that folder. */
export const CLI_CREDENTIALS_FILE_NAME = 'cli-credentials.json';

export function cliCredentialsFile(dataDir: string): string {
  return join(dataDir, CLI_CREDENTIALS_FILE_NAME);
}

/**
 * What the file holds. `url` is rewritten at every start (the port may be 0 or changed); `token`
 * is the first admin's API token, written on the first start (the only moment it is known in
 * clear) and kept after; `ca` is the self-signed certificate to trust when the collector made one.
 */
export interface CliCredentials {
  url: string;
  token?: string;
  /** Whose token it is, for messages. */
  user?: string;
  ca?: string;
  updatedAt: string;
}

const credentialsSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1).optional(),
  user: z.string().optional(),
  ca: z.string().min(1).optional(),
  updatedAt: z.string(),
});

/** The file's contents; null when there is none. A file that is not ours says so, naming it. */
export function readCliCredentials(file: string): CliCredentials | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'EACCES') throw new Error(`${file} cannot be read by this user — run the command as the collector's user (e.g. sudo -u rounds …)`);
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = credentialsSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a Rounds CLI credentials file — delete it; the collector writes it again at its next start`);
  const c = parsed.data;
  return { url: c.url, updatedAt: c.updatedAt, ...(c.token ? { token: c.token } : {}), ...(c.user ? { user: c.user } : {}), ...(c.ca ? { ca: c.ca } : {}) };
}

/**
 * Writes the file for a collector that now serves at `url` (mode 0600, replaced atomically):
 * `token` when one was made on this start, else the token already in the file is kept — it
 * stays valid across restarts, and only its hash is in the database, so it could not be written
 * again. Returns what was written.
 */
export function writeCliCredentials(dataDir: string, next: { url: string; token?: string; user?: string; ca?: string }, now = new Date()): CliCredentials {
  const file = cliCredentialsFile(dataDir);
  let previous: CliCredentials | null = null;
  try {
    previous = readCliCredentials(file);
  } catch {
    // A damaged file is replaced: it held nothing usable.
  }
  const token = next.token ?? previous?.token;
  const user = next.token ? next.user : previous?.user;
  const written: CliCredentials = {
    url: next.url,
    ...(token ? { token } : {}),
    ...(token && user ? { user } : {}),
    ...(next.ca ? { ca: next.ca } : {}),
    updatedAt: now.toISOString(),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const staged = `${file}.${process.pid}.tmp`;
  writeFileSync(staged, `${JSON.stringify(written, null, 2)}\n`, { mode: 0o600 });
  chmodSync(staged, 0o600);
  renameSync(staged, file);
  return written;
}
