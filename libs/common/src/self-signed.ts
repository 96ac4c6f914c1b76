import { isIP } from 'node:net';

/** How long a self-signed certificate is made for: it is pinned by fingerprint, not trusted by a CA, so renewal only costs re-pinning. */
const VALID_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * A self-signed server certificate (EC P-256, SHA-256) for `names` — host names and IP
 * addresses, each put in subjectAltName as what it is (browsers and Node ignore the common name).
 * The agent's gRPC door and the collector's HTTPS share it; both are pinned by the certificate's
 * SHA-256 fingerprint.
 */
export async function selfSignedCertificate(commonName: string, names: readonly string[]): Promise<{ cert: string; key: string }> {
  const altNames = [...new Set(names)].map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  // Loaded when a certificate is made, not with the rest of #rounds/common: a running agent never
  // makes one, and selfsigned with its X.509 and ASN.1 libraries holds about 3 MiB of heap.
  const { default: selfsigned } = await import('selfsigned');
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + VALID_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
