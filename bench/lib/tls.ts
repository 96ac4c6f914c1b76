import { randomBytes, X509Certificate } from 'node:crypto';
import { selfSignedCert } from '#rounds/plugins/testing';

export interface AgentTls {
  cert: string;
  key: string;
  /** What `rounds-agent init` prints after fp=: SHA-256 of the DER, lower-case hex. */
  fingerprint: string;
}

/** One EC P-256 certificate for localhost/127.0.0.1, shared by every fake agent (the pool pins it per agent anyway). */
export async function agentTls(): Promise<AgentTls> {
  const { cert, key } = await selfSignedCert(30, 'localhost');
  return { cert, key, fingerprint: new X509Certificate(cert).fingerprint256.replace(/:/g, '').toLowerCase() };
}

export function agentToken(): string {
  return randomBytes(32).toString('base64url');
}
