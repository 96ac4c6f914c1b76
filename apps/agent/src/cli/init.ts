import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { stringify as toYaml } from 'yaml';
import { certificateFingerprint, formatEnrolment, selfSignedCertificate, siteKeyProblem, siteKeyVerifier } from '#rounds/common';

export { certificateFingerprint };
import { agentConfigSchema, sha256Hex, spoolDirSchema, splitHostPort } from '../config/agent-config.js';

export interface InitOptions {
  configPath: string;
  listen: string;
  advertise?: string;
  /** Folder for the result spool; relative to the working directory, like any path typed on a command line. */
  spoolDir?: string;
  force: boolean;
  /**
   * Install for site-key enrolment instead of printing an enrolment string: no token, only a
   * verifier derived from the key; a collector holding the key claims the agent. The key itself,
   * or the file it is in (`--site-key-file`, which keeps it out of the process list).
   */
  siteKey?: string | undefined;
  siteKeyFile?: string | undefined;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

function checked<T>(flag: string, schema: z.ZodType<T>, value: string): NonNullable<T> {
  const r = schema.safeParse(value);
  if (!r.success || r.data === undefined || r.data === null) {
    throw new Error(`${flag} ${JSON.stringify(value)}: ${r.success ? 'is required' : r.error.issues.map((i) => i.message).join('; ')}`);
  }
  return r.data;
}

/** The site key from `--site-key` or `--site-key-file`, checked; undefined when neither is given. */
function siteKeyOf(options: InitOptions): string | undefined {
  if (options.siteKey !== undefined && options.siteKeyFile !== undefined) throw new Error('pass --site-key or --site-key-file, not both');
  let key = options.siteKey;
  if (options.siteKeyFile !== undefined) {
    try {
      key = readFileSync(resolve(options.siteKeyFile), 'utf8').trim();
    } catch (e) {
      throw new Error(`--site-key-file ${options.siteKeyFile}: cannot read it (${(e as Error).message})`);
    }
  }
  if (key === undefined) return undefined;
  const problem = siteKeyProblem(key);
  if (problem) throw new Error(`${options.siteKeyFile !== undefined ? `the site key in ${options.siteKeyFile}` : '--site-key'} ${problem}`);
  return key;
}

/**
 * Creates a config with a fresh id and token, a self-signed certificate for the
 * names the collector may dial, and returns the lines to print — the enrolment
 * string last. The token is shown only here; the file keeps its hash. With a site
 * key there is no token yet: the file keeps a verifier derived from the key, and a
 * collector holding the key claims the agent (see services/site-key-claims.ts).
 */
export async function initAgent(options: InitOptions): Promise<string[]> {
  const configPath = resolve(options.configPath);
  if (existsSync(configPath) && !options.force) {
    throw new Error(`${configPath} already exists — pass --force to replace it (the old token and certificate stop working)`);
  }
  const siteKey = siteKeyOf(options);
  const listen = checked('--listen', agentConfigSchema.shape.listen, options.listen);
  const advertise = options.advertise ? checked('--advertise', agentConfigSchema.shape.advertise, options.advertise) : undefined;
  // Written even when it is the default, so the file shows where results wait (and which folder must be writable).
  const spoolDir = options.spoolDir === undefined ? 'spool' : resolve(checked('--spool-dir', spoolDirSchema, options.spoolDir));
  const bind = splitHostPort(listen);
  const target = advertise ? splitHostPort(advertise) : { host: WILDCARD.has(bind.host) ? hostname() : bind.host, port: bind.port };
  if (target.port === 0) throw new Error('the enrolment string needs a fixed port: pass --listen host:port (not port 0) or --advertise host:port');

  const dir = dirname(configPath);
  mkdirSync(dir, { recursive: true });
  const stem = basename(configPath).replace(/\.(ya?ml|json)$/i, '');
  const certFile = `${stem}.crt`;
  const keyFile = `${stem}.key`;

  const pems = await selfSignedCertificate(`rounds-agent ${target.host}`, [target.host, hostname(), 'localhost', '127.0.0.1']);

  const token = randomBytes(32).toString('base64url');
  const id = randomUUID();
  const credential = siteKey ? { siteKeyVerifier: (await siteKeyVerifier(siteKey, id)).toString('hex') } : { tokenSha256: sha256Hex(token) };
  const config = {
    id,
    listen,
    ...(advertise ? { advertise } : {}),
    ...credential,
    tls: { cert: certFile, key: keyFile },
    spool: { dir: spoolDir },
  };
  writeFileSync(resolve(dir, keyFile), pems.key, { mode: 0o600 });
  writeFileSync(resolve(dir, certFile), pems.cert, { mode: 0o644 });
  const about = siteKey
    ? '# No token yet: a collector holding the site key claims this agent and its token replaces siteKeyVerifier,\n' +
      '# which is derived from the key and the id (the key itself is not stored). To be claimed again, run init with --force.\n'
    : '# The token itself is not stored: only its SHA-256. Lost it? Run init again with --force.\n';
  writeFileSync(configPath, `# rounds-agent configuration, written by \`rounds-agent init\`.\n${about}${toYaml(config)}`, { mode: 0o600 });
  const fingerprint = certificateFingerprint(pems.cert);
  if (siteKey) {
    return [
      `wrote ${configPath} (agent ${config.id})`,
      `wrote ${resolve(dir, certFile)} and ${resolve(dir, keyFile)} (self-signed, sha256 ${fingerprint})`,
      `start it:   rounds-agent start --config ${configPath}`,
      `enrol it on the collector:   Agents → Enrol many agents, a CSV line "<name>,${formatHostPort(target)}"; approve it where the fingerprint below is shown`,
      `waiting to be claimed with the site key: agent ${config.id} at ${formatHostPort(target)}, certificate sha256 ${fingerprint}`,
    ];
  }
  return [
    `wrote ${configPath} (agent ${config.id})`,
    `wrote ${resolve(dir, certFile)} and ${resolve(dir, keyFile)} (self-signed, sha256 ${fingerprint})`,
    `start it:   rounds-agent start --config ${configPath}`,
    'enrol it on the collector:   rounds-collector agent add --name <name> --enrol <the line below>',
    'enrolment string (contains the token — shown only now):',
    formatEnrolment({ host: target.host, port: target.port, token, fingerprint }),
  ];
}

function formatHostPort(t: { host: string; port: number }): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}
