/**
 * The enrolment string an agent prints at `init` and an admin pastes into the
 * collector: where the agent listens, its bearer token and the SHA-256 fingerprint
 * of its TLS certificate, which the collector pins.
 *
 *   rounds://<token>@<host>:<port>?fp=<64 hex digits>
 */
export interface Enrolment {
  host: string;
  port: number;
  token: string;
  /** Lower-case hex SHA-256 of the certificate's DER bytes, no separators. */
  fingerprint: string;
}

const TOKEN = /^[A-Za-z0-9_-]{32,128}$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;

export function formatEnrolment(e: Enrolment): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return `rounds://${e.token}@${host}:${e.port}?fp=${e.fingerprint}`;
}

/** Parses an enrolment string; throws an Error that says which part is wrong. */
export function parseEnrolment(text: string): Enrolment {
  const hint = 'copy the whole last line printed by `rounds-agent init` (it starts with rounds://)';
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`enrolment string is not a rounds:// URL — ${hint}`);
  }
  if (url.protocol !== 'rounds:') throw new Error(`enrolment string must start with rounds:// — ${hint}`);
  const token = decodeURIComponent(url.username);
  if (!TOKEN.test(token)) throw new Error(`enrolment string has no valid token before the @ — ${hint}`);
  const port = Number(url.port);
  if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`enrolment string needs host:port after the @ — ${hint}`);
  }
  const fingerprint = (url.searchParams.get('fp') ?? '').toLowerCase().replace(/:/g, '');
  if (!FINGERPRINT.test(fingerprint)) {
    throw new Error(`enrolment string needs fp=<sha-256 certificate fingerprint, 64 hex digits> — ${hint}`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, token, fingerprint };
}
