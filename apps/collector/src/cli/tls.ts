import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { selfSignedCertificate } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';

/** Where the self-signed certificate lives, beside the database (back it up with it: browsers and scripts pin it). */
export function selfSignedFiles(dataDir: string): { certFile: string; keyFile: string } {
  const dir = join(dataDir, 'tls');
  return { certFile: join(dir, 'collector.crt'), keyFile: join(dir, 'collector.key') };
}

const WARN_BEFORE_MS = 30 * 24 * 3600 * 1000;
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * The certificate and key for HTTPS, or undefined for plain HTTP. The operator's files are
 * checked here — readable, PEM, the key belonging to the certificate — so a mistake stops the
 * start with the file named rather than as a TLS error in a browser. A self-signed certificate
 * is made on the first start and reused after; its SHA-256 fingerprint is logged every start,
 * for people to compare with what their browser shows and for scripts to pin.
 */
export async function httpsOptionsFor(config: CollectorConfig, log: LoggerService, now = Date.now()): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  const tls = config.tls;
  if (!tls) return undefined;
  let files: { certFile: string; keyFile: string };
  let made = false;
  if ('selfSigned' in tls) {
    files = selfSignedFiles(config.dataDir);
    if (!existsSync(files.certFile) || !existsSync(files.keyFile)) {
      const names = ['localhost', '127.0.0.1', '::1', hostname(), ...(WILDCARDS.has(config.httpHost) ? [] : [config.httpHost]), ...tls.selfSigned.names];
      const pems = await selfSignedCertificate(`rounds-collector ${hostname()}`, names);
      mkdirSync(join(files.certFile, '..'), { recursive: true });
      writeFileSync(files.keyFile, pems.key, { mode: 0o600 });
      chmodSync(files.keyFile, 0o600);
      writeFileSync(files.certFile, pems.cert, { mode: 0o644 });
      made = true;
    }
  } else {
    files = tls;
  }
  const what = 'selfSigned' in tls ? 'the self-signed certificate' : 'ROUNDS_TLS_CERT';
  const cert = readPem(files.certFile, what);
  const key = readPem(files.keyFile, 'selfSigned' in tls ? 'its key' : 'ROUNDS_TLS_KEY');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new Error(`${what} ${files.certFile} is not a PEM certificate ("-----BEGIN CERTIFICATE-----") — point ROUNDS_TLS_CERT at the certificate file`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new Error(`${files.keyFile} is not a PEM private key (or it is encrypted) — point ROUNDS_TLS_KEY at the unencrypted key of ${files.certFile}`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new Error(`the key ${files.keyFile} does not belong to the certificate ${files.certFile} — give the key the certificate was issued for`);
  }
  const validTo = new Date(x509.validTo);
  log.log(
    `HTTPS with ${made ? 'a new self-signed certificate' : 'selfSigned' in tls ? 'the self-signed certificate' : 'the certificate'} ${files.certFile} ` +
      `(SHA-256 fingerprint ${x509.fingerprint256}, valid until ${validTo.toISOString()}` +
      `${'selfSigned' in tls ? `; browsers will ask to trust it — compare the fingerprint; scripts: curl --cacert ${files.certFile}` : ''})`,
  );
  if (validTo.getTime() <= now) log.warn(`the certificate ${files.certFile} expired on ${validTo.toISOString()} — browsers refuse it: renew it`);
  else if (validTo.getTime() - now < WARN_BEFORE_MS) log.warn(`the certificate ${files.certFile} expires on ${validTo.toISOString()} — renew it before then`);
  return { cert, key };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read by this user (permissions)' : (e as Error).message;
    throw new Error(`${what} ${file} ${why} — check the path and that the collector's user may read it`);
  }
}
