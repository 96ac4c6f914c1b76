import { X509Certificate } from 'node:crypto';

/**
 * The SHA-256 fingerprint of a certificate (PEM text or DER bytes) as 64 lower-case hex
 * digits: what `rounds-agent init` prints in the enrolment string and the collector pins.
 */
export function certificateFingerprint(certificate: string | Buffer): string {
  return new X509Certificate(certificate).fingerprint256.replace(/:/g, '').toLowerCase();
}
