// Connection-level pieces shared by the tcp and http plugins: how a failed socket becomes a
// reason and a sentence, TLS certificate expiry, latency thresholds and regex fields. They live
// in the tcp folder because HTTP is TCP underneath and plugins own only their own folders.
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { z } from 'zod';
import { evaluateThresholds, type CheckStatus, type Reason, type ThresholdRange } from '#rounds/common';
import type { Metric } from '../plugin.js';

/** Where a connection was when it failed or ran out of time. */
export type ConnectPhase = 'dns' | 'connect' | 'tls';

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number, end = performance.now()): number {
  return Math.max(0, (end - start) / 1000);
}

/** "23 ms" below a second, "1.24 s" above: what people read in summaries. */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  return `${seconds.toFixed(2)} s`;
}

/** "512 bytes", "1.5 KiB", "93.2 GiB", "2 TiB": binary units, one decimal where it says something. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${+value.toFixed(1)} ${units[unit]}`;
}

/** `host:port`, with brackets around an IPv6 literal so the port stays readable. */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A short, quoted, single-line preview of what a peer sent, for mismatch summaries. */
export function preview(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/** The error code of a socket error; happy-eyeballs failures arrive as an AggregateError. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const c = errorCode(inner);
      if (c) return c;
    }
  }
  return undefined;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);

// OpenSSL verification results as Node reports them, with what a person should do about each.
const TLS_VERIFY_TEXT: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain ends in a self-signed CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate was issued by a CA that is not trusted (or the server omits the intermediate)',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of the certificate is unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of the certificate is not trusted (or the server omits the intermediate)',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet (check the clocks)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not name this host',
  CERT_REVOKED: 'the certificate has been revoked',
  CERT_UNTRUSTED: 'the certificate is not trusted',
  CERT_SIGNATURE_FAILURE: 'the certificate signature is invalid',
};

// OpenSSL errors arrive as "write EPROTO 805C…:error:0A00010B:SSL routines:ssl3_get_record:wrong
// version number:../deps/openssl/…:350:"; only the reason text means anything to a person.
function opensslReason(message: string): string {
  const m = /SSL routines:[^:]*:([^:]+):/.exec(message);
  return m ? (m[1] as string) : message.trim();
}

function isTlsCode(code: string | undefined): boolean {
  if (!code) return false;
  return code in TLS_VERIFY_TEXT || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO';
}

/**
 * Turns a socket error into a reason and a sentence that says what failed and what to
 * look at. `phase` is where the connection was, so a reset during the handshake reads as TLS.
 */
export function describeNetworkError(err: unknown, phase: string, host: string, port: number): { reason: Reason; text: string } {
  const code = errorCode(err);
  const message = opensslReason(err instanceof Error ? err.message : String(err));
  const where = hostPort(host, port);
  if (code && DNS_CODES.has(code)) {
    return code === 'EAI_AGAIN'
      ? { reason: 'dns', text: `DNS lookup of ${host} failed temporarily (EAI_AGAIN): is a DNS server reachable from this agent?` }
      : { reason: 'dns', text: `cannot resolve ${host} (${code}): check the host name and the agent's DNS settings` };
  }
  if (code === 'ECONNREFUSED') {
    return { reason: 'refused', text: `connection to ${where} refused: nothing listens there or a firewall rejects it` };
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    return { reason: 'unreachable', text: `${where} is unreachable from this agent (${code}): check routes and firewalls` };
  }
  if (code === 'ETIMEDOUT') {
    return { reason: 'timeout', text: `the operating system gave up connecting to ${where} (ETIMEDOUT)` };
  }
  if (code && code in TLS_VERIFY_TEXT) {
    return { reason: 'tls', text: `TLS verification of ${where} failed: ${TLS_VERIFY_TEXT[code]} (${code}); fix the certificate or set tlsVerify: false` };
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || /wrong version number|packet length too long/.test(message)) {
    return { reason: 'tls', text: `${where} does not answer in TLS (${message}): is it a plain-text port?` };
  }
  if (isTlsCode(code) || phase === 'tls') {
    return { reason: 'tls', text: `TLS handshake with ${where} failed: ${message}${code ? ` (${code})` : ''}` };
  }
  if (code?.startsWith('HPE_')) {
    return { reason: 'protocol_error', text: `${where} did not answer in HTTP: ${message} (${code})` };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return { reason: 'protocol_error', text: `${where} closed the connection unexpectedly (${code})` };
  }
  return { reason: 'protocol_error', text: `${where}: ${message}${code ? ` (${code})` : ''}` };
}

/** The sentence for a run that hit its deadline: "timed out after 300 ms waiting for the first byte". */
export function timeoutText(elapsedSeconds: number, doing: string): string {
  return `timed out after ${Math.round(elapsedSeconds * 1000)} ms ${doing}`;
}

export function connectPhaseText(phase: ConnectPhase, host: string, port: number): string {
  switch (phase) {
    case 'dns':
      return `resolving ${host}`;
    case 'connect':
      return `connecting to ${hostPort(host, port)}`;
    case 'tls':
      return `during the TLS handshake with ${hostPort(host, port)}`;
  }
}

const DAY_MS = 24 * 3600 * 1000;

/** Days until the peer certificate's notAfter (negative once expired); undefined without a certificate. */
export function certDaysLeft(cert: PeerCertificate | undefined, nowMs: number): number | undefined {
  if (!cert || typeof cert.valid_to !== 'string') return undefined;
  const notAfter = Date.parse(cert.valid_to);
  return Number.isNaN(notAfter) ? undefined : (notAfter - nowMs) / DAY_MS;
}

export interface Verdict {
  status: CheckStatus;
  reason: Reason;
  text: string;
}

/**
 * An expired certificate is CRITICAL/tls even when verification is off: every real client
 * (viewers, modalities, browsers) refuses it, so it is a failure rather than a threshold.
 */
export function certVerdict(days: number, warningDays: number, criticalDays: number): Verdict | undefined {
  if (days <= 0) {
    return { status: 'CRITICAL', reason: 'tls', text: `the certificate expired ${(-days).toFixed(1)} days ago` };
  }
  if (days < criticalDays) {
    return { status: 'CRITICAL', reason: 'threshold', text: `the certificate expires in ${days.toFixed(1)} days (critical below ${criticalDays})` };
  }
  if (days < warningDays) {
    return { status: 'WARNING', reason: 'threshold', text: `the certificate expires in ${days.toFixed(1)} days (warning below ${warningDays})` };
  }
  return undefined;
}

function breach(range: ThresholdRange, value: number, level: string): string {
  if (range.inside) return `inside the ${level} range ${range.start}–${range.end} s`;
  return value < range.start ? `below the ${level} limit ${range.start} s` : `above the ${level} limit ${range.end} s`;
}

/** Latency against Nagios ranges in seconds; undefined when neither range alerts. */
export function latencyVerdict(seconds: number, warning?: ThresholdRange, critical?: ThresholdRange): Verdict | undefined {
  const level = evaluateThresholds(seconds, warning, critical);
  if (level === 'OK') return undefined;
  const range = (level === 'CRITICAL' ? critical : warning) as ThresholdRange;
  return { status: level, reason: 'threshold', text: `${formatSeconds(seconds)} is ${breach(range, seconds, level.toLowerCase())}` };
}

/** The worse of several verdicts, so a CRITICAL certificate is not hidden by a WARNING latency. */
export function worstVerdict(...verdicts: (Verdict | undefined)[]): Verdict | undefined {
  const present = verdicts.filter((v): v is Verdict => v !== undefined);
  return present.find((v) => v.status === 'CRITICAL') ?? present[0];
}

/**
 * A regular expression written as `pattern` or `/pattern/flags`, compiled once when the
 * config is validated. `g` and `y` are refused: they make `test()` stateful between runs.
 */
export function regexField(description: string) {
  return z
    .string()
    .min(1)
    .meta({ description: `${description} (a JavaScript regular expression: "pattern" or "/pattern/flags")` })
    .transform((text, ctx): RegExp => {
      const literal = /^\/(.*)\/([a-z]*)$/s.exec(text);
      const [source, flags] = literal ? [literal[1] as string, literal[2] as string] : [text, ''];
      if (/[gy]/.test(flags)) {
        ctx.addIssue({ code: 'custom', message: `flags g and y are not allowed: they make matching depend on the previous run` });
        return z.NEVER;
      }
      try {
        return new RegExp(source, flags);
      } catch (e) {
        const why = (e as Error).message.split(': ').pop();
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not a valid regular expression: ${why}` });
        return z.NEVER;
      }
    });
}

/** The certificate-expiry day thresholds both plugins take, with the same defaults. */
export function certDayFields() {
  return {
    certWarningDays: z.number().min(0).default(21).meta({ description: 'WARNING/threshold when the certificate expires in fewer than this many days' }),
    certCriticalDays: z.number().min(0).default(7).meta({ description: 'CRITICAL/threshold when the certificate expires in fewer than this many days' }),
  };
}

/** Phase timings as `<phase>_seconds` metrics, in order, leaving out phases that did not happen. */
export function secondsMetrics(phases: ReadonlyArray<readonly [name: string, seconds: number | undefined]>): Metric[] {
  return phases.flatMap(([name, value]) => (value === undefined ? [] : [{ name: `${name}_seconds`, value, unit: 'seconds' as const }]));
}
