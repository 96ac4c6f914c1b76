import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface TlsFixture {
  key: string;
  cert: string;
}

/** A throwaway self-signed certificate for localhost, valid for `days` (negative: already expired). */
export async function selfSignedCert(days = 30, commonName = 'localhost'): Promise<TlsFixture> {
  const notBefore = new Date(Date.now() - 24 * 3600 * 1000 * (days < 0 ? -days + 2 : 1));
  const notAfter = new Date(Date.now() + days * 24 * 3600 * 1000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: commonName },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** The fixture as PEM files in a fresh temp folder, for configs that name files (caFile, certFile, keyFile). */
export async function writeTlsFiles(fixture: TlsFixture): Promise<{ certFile: string; keyFile: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rounds-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await writeFile(certFile, fixture.cert);
  await writeFile(keyFile, fixture.key, { mode: 0o600 });
  return { certFile, keyFile, remove: () => rm(dir, { recursive: true, force: true }) };
}
