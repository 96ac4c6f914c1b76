import type { OutgoingHttpHeaders } from 'node:http';
import { definePlugin, outcome, type CheckContext, type CheckOutcome, type Metric } from '../plugin.js';
import {
  certDaysLeft,
  certVerdict,
  describeNetworkError,
  formatBytes,
  formatSeconds,
  latencyVerdict,
  preview,
  secondsSince,
  timeoutText,
  worstVerdict,
  secondsMetrics,
} from '../shared/net-common.js';
import { phaseText, REDIRECTS, requestOnce, type Hop, type HopTimings } from '../shared/http-request.js';
import { evaluateJsonPath, httpConfigSchema, statusInSet, type HttpConfig } from './http.schema.js';
import { readTlsFiles, TlsFileError, type TlsMaterial } from '../shared/tls-files.js';

const VERSION = '1.0.0';

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
