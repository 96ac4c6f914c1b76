import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { definePlugin, outcome, type CheckContext, type CheckOutcome, type Metric } from '../plugin.js';
import {
  certDaysLeft,
  certVerdict,
  connectPhaseText,
  describeNetworkError,
  formatBytes,
  formatSeconds,
  latencyVerdict,
  preview,
  secondsSince,
  timeoutText,
  worstVerdict,
  type ConnectPhase,
  secondsMetrics,
} from '../shared/net-common.js';
import { evaluateJsonPath, httpConfigSchema, statusInSet, type HttpConfig } from './http.schema.js';
import { readTlsFiles, TlsFileError, type TlsMaterial } from '../shared/tls-files.js';

const VERSION = '1.0.0';

type Phase = ConnectPhase | 'first_byte' | 'body';

/** Phase timings of one request, in seconds; absent when the phase did not happen. */
interface HopTimings {
  dns?: number;
  connect?: number;
  tls?: number;
  firstByte?: number;
}

interface Hop {
  status: number;
  location?: string;
  body: Buffer;
  bodyBytes: number;
  truncated: boolean;
  timings: HopTimings;
  cert?: PeerCertificate;
}

type HopResult = { ok: true; hop: Hop } | { ok: false; phase: Phase; error: unknown; aborted: boolean; bodyBytes: number; timings: HopTimings };

interface HopRequest {
  url: URL;
  method: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  /** Stop at a 3xx with a Location instead of reading its body. */
  stopAtRedirect: boolean;
  tlsVerify: boolean;
  /** A private CA, and a client certificate (the latter for the configured origin only, like credentials). */
  tls: TlsMaterial;
  maxBodyBytes: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Every request opens and closes its own connection, as `agent: false` did, but through one
 * agent per protocol instead of a new Agent object (with its maps and listeners) per request:
 * no keep-alive, so nothing is pooled, and no TLS session cache, so every https check makes a
 * full handshake and sees the server's certificate.
 */
const HTTP_AGENT = new http.Agent({ keepAlive: false });
const HTTPS_AGENT = new https.Agent({ keepAlive: false, maxCachedSessions: 0 });

/** One request on a fresh connection, with the phase it is in kept for timeout messages. */
function requestOnce(req: HopRequest, ctx: CheckContext): Promise<HopResult> {
  return new Promise((resolve) => {
    const isHttps = req.url.protocol === 'https:';
    const host = req.url.hostname.replace(/^\[|\]$/g, '');
    const start = performance.now();
    const timings: HopTimings = {};
    let phase: Phase = isIP(host) ? 'connect' : 'dns';
    let lastMark = start;
    let bodyBytes = 0;
    let settled = false;
    let request: http.ClientRequest | undefined;

    const mark = (): number => {
      const now = performance.now();
      const seconds = secondsSince(lastMark, now);
      lastMark = now;
      return seconds;
    };
    const finish = (result: HopResult): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      request?.destroy();
      resolve(result);
    };
    const fail = (error: unknown): void => finish({ ok: false, phase, error, aborted: ctx.signal.aborted, bodyBytes, timings });
    // Registered before http.request adds its own listener, so the phase is read before
    // Node tears the request down.
    const onAbort = (): void => fail(ctx.signal.reason);

    if (ctx.signal.aborted) {
      onAbort();
      return;
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    try {
      request = (isHttps ? https : http).request({
        protocol: req.url.protocol,
        hostname: host,
        port: req.url.port || (isHttps ? 443 : 80),
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers: req.headers,
        agent: isHttps ? HTTPS_AGENT : HTTP_AGENT,
        signal: ctx.signal,
        ...(isHttps ? { rejectUnauthorized: req.tlsVerify, ...req.tls } : {}),
      });
    } catch (e) {
      fail(e);
      return;
    }

    request.on('socket', (socket: Socket) => {
      socket.once('lookup', (err: Error | null) => {
        timings.dns = mark();
        if (!err) phase = 'connect';
      });
      socket.once('connect', () => {
        timings.dns ??= 0;
        timings.connect = mark();
        phase = isHttps ? 'tls' : 'first_byte';
      });
      if (isHttps) {
        socket.once('secureConnect', () => {
          timings.tls = mark();
          phase = 'first_byte';
        });
      }
    });
    request.on('error', fail);
    request.on('response', (res: IncomingMessage) => {
      timings.firstByte = secondsSince(start);
      phase = 'body';
      const cert = isHttps ? (res.socket as TLSSocket).getPeerCertificate() : undefined;
      const status = res.statusCode ?? 0;
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = (truncated: boolean): void =>
        finish({ ok: true, hop: { status, location, body: Buffer.concat(chunks), bodyBytes, truncated, timings, cert } });

      if (req.stopAtRedirect && REDIRECTS.has(status) && location !== undefined) {
        done(false);
        return;
      }
      res.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
        if (kept < req.maxBodyBytes) {
          const part = chunk.subarray(0, req.maxBodyBytes - kept);
          chunks.push(part);
          kept += part.length;
        }
        // The cap protects the agent's memory from a huge or endless body.
        if (bodyBytes > req.maxBodyBytes) done(true);
      });
      res.on('end', () => done(false));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(Object.assign(new Error('the connection closed before the body was complete'), { code: 'ECONNRESET' }));
      });
    });
    request.end(req.body);
  });
}

function phaseText(phase: Phase, host: string, port: number, bodyBytes: number): string {
  if (phase === 'first_byte') return 'waiting for the first byte';
  if (phase === 'body') return `reading the body (${formatBytes(bodyBytes)} so far)`;
  return connectPhaseText(phase, host, port);
}

function timingMetrics(t: HopTimings, totalSeconds: number): Metric[] {
  return secondsMetrics([
    ['dns', t.dns],
    ['connect', t.connect],
    ['tls', t.tls],
    ['first_byte', t.firstByte],
    ['total', totalSeconds],
  ]);
}

function requestHeaders(config: HttpConfig, sameOrigin: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { 'user-agent': `Rounds-http/${VERSION}`, accept: '*/*' };
  for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
  // Credentials go only to the origin they were configured for, as browsers do on redirects.
  if (sameOrigin) {
    if (config.basicAuth) {
      const { username, password } = config.basicAuth;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    } else if (config.bearerToken) {
      headers.authorization = `Bearer ${config.bearerToken}`;
    }
  } else {
    delete headers.authorization;
  }
  return headers;
}

/** Every failing body assertion as a phrase, in config order (the summary names the first). */
function failedAssertions(config: HttpConfig, body: string): string[] {
  const failures: string[] = [];
  if (config.bodyContains !== undefined && !body.includes(config.bodyContains)) {
    failures.push(`the body does not contain ${JSON.stringify(config.bodyContains)}`);
  }
  if (config.bodyMatches !== undefined && !config.bodyMatches.test(body)) {
    failures.push(`the body does not match ${config.bodyMatches}`);
  }
  if (config.json.length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      failures.push(`the body is not JSON (starts ${preview(body, 40)})`);
      return failures;
    }
    for (const a of config.json) {
      const found = evaluateJsonPath(parsed, a.path);
      if (!a.exists) {
        if (found.found) failures.push(`${a.path.text} exists but must not`);
      } else if (!found.found) {
        failures.push(`${a.path.text} is missing`);
      } else if (a.equals !== undefined && found.value !== a.equals) {
        const shown = JSON.stringify(found.value);
        failures.push(`${a.path.text} is ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}, expected ${JSON.stringify(a.equals)}`);
      }
    }
  }
  return failures;
}

export async function runHttp(config: HttpConfig, ctx: CheckContext): Promise<CheckOutcome> {
  let tls: TlsMaterial;
  try {
    tls = await readTlsFiles(config);
  } catch (e) {
    if (e instanceof TlsFileError) return outcome('UNKNOWN', 'config_error', e.message);
    throw e;
  }
  const start = performance.now();
  let url = new URL(config.url);
  const origin = url.origin;
  let method: string = config.method;
  let body = config.body;
  let redirects = 0;

  for (;;) {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const result = await requestOnce(
      {
        url,
        method,
        headers: requestHeaders(config, url.origin === origin),
        body,
        stopAtRedirect: config.followRedirects,
        tlsVerify: config.tlsVerify,
        tls: url.origin === origin ? tls : tls.ca === undefined ? {} : { ca: tls.ca },
        maxBodyBytes: config.maxBodyBytes,
      },
      ctx,
    );
    const total = secondsSince(start);
    const via = redirects > 0 ? ` (after ${redirects} redirect${redirects > 1 ? 's' : ''}, at ${url.href})` : '';

    if (!result.ok) {
      const metrics = timingMetrics(result.timings, total);
      if (result.aborted) {
        return outcome('CRITICAL', 'timeout', `${timeoutText(total, phaseText(result.phase, host, port, result.bodyBytes))}${via}`, metrics);
      }
      const { reason, text } = describeNetworkError(result.error, result.phase, host, port);
      return outcome('CRITICAL', reason, `${text}${via}`, metrics);
    }

    const hop = result.hop;
    if (config.followRedirects && REDIRECTS.has(hop.status) && hop.location !== undefined) {
      const metrics: Metric[] = [...timingMetrics(hop.timings, total), { name: 'status_code', value: hop.status, unit: '' }];
      const next = URL.canParse(hop.location, url.href) ? new URL(hop.location, url) : undefined;
      if (next === undefined || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
        return outcome(
          'CRITICAL',
          'unexpected_response',
          `HTTP ${hop.status} redirects to ${preview(hop.location)}, which is not an http(s) URL${via}`,
          metrics,
        );
      }
      if (redirects >= config.maxRedirects) {
        return outcome(
          'CRITICAL',
          'unexpected_response',
          `HTTP ${hop.status} after ${redirects} redirects: gave up at maxRedirects ${config.maxRedirects} (next: ${next.href})`,
          metrics,
        );
      }
      // 303 always, and 301/302 after a POST, turn into a GET without body (as every client does).
      if (hop.status === 303 ? method !== 'HEAD' : (hop.status === 301 || hop.status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
      }
      url = next;
      redirects += 1;
      continue;
    }

    return judge(config, ctx, hop, total, via);
  }
}

function judge(config: HttpConfig, ctx: CheckContext, hop: Hop, total: number, via: string): CheckOutcome {
  const metrics: Metric[] = [
    ...timingMetrics(hop.timings, total),
    { name: 'status_code', value: hop.status, unit: '' },
    { name: 'body_bytes', value: hop.bodyBytes, unit: 'bytes' },
  ];
  const days = certDaysLeft(hop.cert, ctx.now());
  if (days !== undefined) metrics.push({ name: 'tls_cert_expiry_days', value: days, unit: 'days' });

  const head = `HTTP ${hop.status} in ${formatSeconds(total)}${via}`;
  const truncated = hop.truncated ? `; body truncated at ${formatBytes(config.maxBodyBytes)} (maxBodyBytes), assertions saw only that part` : '';

  if (!statusInSet(config.expectedStatus, hop.status)) {
    return outcome('CRITICAL', 'unexpected_response', `${head}, expected ${config.expectedStatus.text}`, metrics);
  }
  const cert = days === undefined ? undefined : certVerdict(days, config.certWarningDays, config.certCriticalDays);
  if (cert?.reason === 'tls') return outcome('CRITICAL', 'tls', `${head} but ${cert.text}`, metrics);

  const failures = failedAssertions(config, hop.body.toString('utf8'));
  if (failures.length > 0) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more assertion${failures.length > 2 ? 's' : ''} failed)` : '';
    return outcome('CRITICAL', 'assertion', `${head} but ${failures[0]}${more}${truncated}`, metrics);
  }

  const latency = latencyVerdict(total, config.latencyWarning, config.latencyCritical);
  const worst = worstVerdict(cert, latency);
  if (worst) {
    const parts = [latency && `latency ${latency.text}`, cert?.text].filter(Boolean).join('; ');
    return outcome(worst.status, 'threshold', `${head}: ${parts}${truncated}`, metrics);
  }

  const expected = hop.status >= 200 && hop.status < 300 ? '' : ` (expected ${config.expectedStatus.text})`;
  const certText = days === undefined ? '' : `; certificate expires in ${days.toFixed(1)} days`;
  return outcome('OK', 'ok', `${head}${expected}, ${formatBytes(hop.bodyBytes)}${certText}${truncated}`, metrics);
}

/** Requests a URL and judges status, body, latency and certificate expiry. */
export const httpPlugin = definePlugin({
  name: 'http',
  version: VERSION,
  description: 'Requests a URL and checks the status code, body, latency and TLS certificate expiry.',
  configSchema: httpConfigSchema,
  metrics: [
    { name: 'dns_seconds', unit: 'seconds', help: 'Name resolution of the last request (0 for an IP address).' },
    { name: 'connect_seconds', unit: 'seconds', help: 'TCP connect of the last request, after DNS.' },
    { name: 'tls_seconds', unit: 'seconds', help: 'TLS handshake of the last request (https only).' },
    { name: 'first_byte_seconds', unit: 'seconds', help: 'From the start of the last request to its response headers.' },
    { name: 'total_seconds', unit: 'seconds', help: 'The whole check, redirects and body included; latency thresholds use it.' },
    { name: 'status_code', unit: '', help: 'The final HTTP status code.' },
    { name: 'body_bytes', unit: 'bytes', help: 'Body bytes received (a little above maxBodyBytes when cut).' },
    { name: 'tls_cert_expiry_days', unit: 'days', help: "Time until the server certificate's notAfter, negative once expired (https only)." },
  ],
  run: runHttp,
});
