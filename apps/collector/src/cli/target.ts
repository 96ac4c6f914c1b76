import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '#rounds/common';
import type { CliConfig } from '../config/env.js';
import type { ApiTarget } from './api-client.js';
import { cliCredentialsFile, readCliCredentials } from './credentials.store.js';

/** `--url`, `--token`, `--ca` as given on the command line. */
export interface TargetFlags {
  url?: string;
  token?: string;
  ca?: string;
}

const MAKE_A_TOKEN = 'Account → API tokens in the UI, or `rounds-collector token add <user> --name <what uses it>` on the collector’s machine, makes one';

/** Same collector: the file's token is sent only to the address the file names. */
const sameUrl = (a: string, b: string) => new URL(a).href.replace(/\/+$/, '') === new URL(b).href.replace(/\/+$/, '');

/**
 * Which collector the operator commands talk to and as whom: `--url`/`--token` first, then
 * ROUNDS_URL/ROUNDS_TOKEN, then `<data dir>/cli-credentials.json`, which the collector on this
 * machine writes at every start. The file's token (the first admin's) goes only to the URL in
 * the file: with another URL, a token must be given too. Nothing is looked up before a command
 * needs it, so a usage error never waits for this.
 */
export function resolveTarget(flags: TargetFlags, config: CliConfig): ApiTarget {
  const file = cliCredentialsFile(config.dataDir);
  const saved = readCliCredentials(file);
  if (flags.url !== undefined && !/^https?:\/\/[^/]/.test(flags.url)) {
    throw new UsageError(`--url must be the collector's http:// or https:// address, e.g. https://rounds.hospital.example:8380 — got "${flags.url}"`);
  }
  const url = flags.url
    ? { value: flags.url, from: '--url' }
    : config.url
      ? { value: config.url, from: 'ROUNDS_URL' }
      : saved
        ? { value: saved.url, from: file }
        : undefined;
  if (!url) {
    throw new Error(
      'no collector to talk to: pass --url <address> --token <API token>, or set ROUNDS_URL and ROUNDS_TOKEN, or run this on the collector’s machine with ' +
        `ROUNDS_DATA_DIR set to its data folder (the collector writes cli-credentials.json there at every start; there is none at ${file})`,
    );
  }
  const fileApplies = saved !== null && sameUrl(url.value, saved.url);
  const token = flags.token
    ? { value: flags.token, from: '--token' }
    : config.token
      ? { value: config.token, from: 'ROUNDS_TOKEN' }
      : fileApplies && saved.token
        ? { value: saved.token, from: file }
        : undefined;
  if (!token) {
    const why = fileApplies
      ? `${file} holds no token (the collector’s token comes from ROUNDS_API_TOKEN, or it was first started before it wrote one)`
      : saved
        ? `the token in ${file} is only sent to the collector it names (${saved.url})`
        : `no token was given`;
    throw new Error(`no API token for ${url.value}: ${why} — pass --token or set ROUNDS_TOKEN; ${MAKE_A_TOKEN}`);
  }
  const caFile = flags.ca ? { value: resolve(flags.ca), from: '--ca' } : config.caFile ? { value: config.caFile, from: 'ROUNDS_CA' } : undefined;
  const ca = caFile ?? (fileApplies && saved.ca ? { value: saved.ca, from: file } : undefined);
  return {
    url: url.value,
    token: token.value,
    ...(ca ? { ca: readCa(ca.value, ca.from) } : {}),
    from: { url: url.from, token: token.from, ...(ca ? { ca: ca.from } : {}) },
    ...(url.from === file ? { credentialsFile: file } : {}),
  };
}

/** The certificates to trust: a PEM file, refused with its name when it is not one. */
function readCa(file: string, from: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `the certificate file ${file} (${from}) ${code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read by this user' : (e as Error).message} — give the collector's certificate as a PEM file`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(
      `${file} (${from}) is not a PEM certificate ("-----BEGIN CERTIFICATE-----") — give the collector's certificate, e.g. <data dir>/tls/collector.crt`,
    );
  }
  return pem;
}

/** What to do about a token the collector refused (401), by where it came from. */
export function refusedTokenAdvice(target: ApiTarget): string {
  if (target.from.token === target.credentialsFile) {
    return (
      `the token in ${target.credentialsFile} is the one the collector made at its first start: rotated or revoked since? ` +
      'Make a new one (`rounds-collector token add <user> --name cli` on this machine) and give it as ROUNDS_TOKEN'
    );
  }
  return 'give a valid one with --token or ROUNDS_TOKEN';
}
