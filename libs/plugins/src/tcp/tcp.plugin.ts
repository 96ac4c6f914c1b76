import net from 'node:net';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { definePlugin, outcome, type CheckContext, type CheckOutcome, type Metric } from '../plugin.js';
import {
  certDaysLeft,
  certVerdict,
  connectPhaseText,
  describeNetworkError,
  formatBytes,
  formatSeconds,
  hostPort,
  latencyVerdict,
  preview,
  secondsSince,
  timeoutText,
  worstVerdict,
  type ConnectPhase,
  secondsMetrics,
} from '../shared/net-common.js';
import { readTlsFiles, TlsFileError, type TlsMaterial } from '../shared/tls-files.js';
import { tcpConfigSchema, type TcpConfig } from './tcp.schema.js';

type Phase = ConnectPhase | 'send' | 'response';

interface Timings {
  dns?: number;
  connect?: number;
  tls?: number;
  response?: number;
}

function timingMetrics(t: Timings, totalSeconds: number): Metric[] {
  return secondsMetrics([
    ['dns', t.dns],
    ['connect', t.connect],
    ['tls', t.tls],
    ['response', t.response],
    ['total', totalSeconds],
  ]);
}

export async function runTcp(config: TcpConfig, ctx: CheckContext): Promise<CheckOutcome> {
  let files: TlsMaterial;
  try {
    files = await readTlsFiles(config);
  } catch (e) {
    if (e instanceof TlsFileError) return outcome('UNKNOWN', 'config_error', e.message);
    throw e;
  }
  return connectAndCheck(config, files, ctx);
}

function connectAndCheck(config: TcpConfig, files: TlsMaterial, ctx: CheckContext): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const { host, port } = config;
    const where = hostPort(host, port);
    const start = performance.now();
    const timings: Timings = {};
    const decoder = new StringDecoder('utf8');
    const expecting = config.expect !== undefined || config.expectMatches !== undefined;
    const wanted = config.expect !== undefined ? `a response containing ${JSON.stringify(config.expect)}` : `a response matching ${config.expectMatches}`;
    let phase: Phase = net.isIP(host) ? 'connect' : 'dns';
    let lastMark = start;
    let readyAt = start;
    let received = '';
    let receivedBytes = 0;
    let cert: PeerCertificate | undefined;
    let raw: net.Socket | undefined;
    let secure: TLSSocket | undefined;
    let settled = false;

    const mark = (): number => {
      const now = performance.now();
      const seconds = secondsSince(lastMark, now);
      lastMark = now;
      return seconds;
    };
    const finish = (result: CheckOutcome, graceful = false): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      const stream = secure ?? raw;
      // A polite FIN after a good exchange; a failed or timed-out one is torn down at once.
      if (graceful && stream) stream.destroySoon();
      else {
        secure?.destroy();
        raw?.destroy();
      }
      resolve(result);
    };
    const gotSoFar = (): string => (receivedBytes === 0 ? 'got nothing' : `got ${formatBytes(receivedBytes)}: ${preview(received)}`);
    const phaseText = (): string => {
      if (phase === 'send') return `sending to ${where}`;
      if (phase === 'response') return `waiting for ${wanted} from ${where} (${gotSoFar()})`;
      return connectPhaseText(phase, host, port);
    };
    const fail = (err: unknown): void => {
      const total = secondsSince(start);
      if (ctx.signal.aborted) {
        finish(outcome('CRITICAL', 'timeout', timeoutText(total, phaseText()), timingMetrics(timings, total)));
        return;
      }
      const { reason, text } = describeNetworkError(err, phase, host, port);
      finish(outcome('CRITICAL', reason, text, timingMetrics(timings, total)));
    };
    const onAbort = (): void => fail(ctx.signal.reason);

    const succeed = (matched?: string): void => {
      const total = secondsSince(start);
      const metrics = timingMetrics(timings, total);
      const days = certDaysLeft(cert, ctx.now());
      if (days !== undefined) metrics.push({ name: 'tls_cert_expiry_days', value: days, unit: 'days' });
      const overTls = config.tls ? ' over TLS' : '';
      const head =
        matched !== undefined
          ? `${where} answered ${preview(matched)}${overTls} in ${formatSeconds(total)}`
          : `connected to ${where}${overTls} in ${formatSeconds(total)}${config.send !== undefined ? `, sent ${formatBytes(Buffer.byteLength(config.send))}` : ''}`;
      const certCheck = days === undefined ? undefined : certVerdict(days, config.certWarningDays, config.certCriticalDays);
      if (certCheck?.reason === 'tls') {
        finish(outcome('CRITICAL', 'tls', `${head} but ${certCheck.text}`, metrics), true);
        return;
      }
      const latency = latencyVerdict(total, config.latencyWarning, config.latencyCritical);
      const worst = worstVerdict(certCheck, latency);
      if (worst) {
        const parts = [latency && `latency ${latency.text}`, certCheck?.text].filter(Boolean).join('; ');
        finish(outcome(worst.status, 'threshold', `${head}: ${parts}`, metrics), true);
        return;
      }
      const certText = days === undefined ? '' : `; certificate expires in ${days.toFixed(1)} days`;
      finish(outcome('OK', 'ok', `${head}${certText}`, metrics), true);
    };
    const mismatch = (why: string): void => {
      const total = secondsSince(start);
      finish(outcome('CRITICAL', 'unexpected_response', `${where} ${why} without ${wanted} (${gotSoFar()})`, timingMetrics(timings, total)));
    };

    const match = (): string | undefined => {
      if (config.expect !== undefined) return received.includes(config.expect) ? config.expect : undefined;
      return config.expectMatches?.exec(received)?.[0];
    };

    // Connected (and through TLS when asked): send, then wait for the expected text if any.
    const ready = (stream: net.Socket): void => {
      readyAt = performance.now();
      if (expecting) {
        stream.on('data', (chunk: Buffer) => {
          if (settled) return;
          receivedBytes += chunk.length;
          received += decoder.write(chunk);
          const found = match();
          if (found !== undefined) {
            timings.response = secondsSince(readyAt);
            succeed(found);
          } else if (receivedBytes >= config.maxResponseBytes) {
            mismatch(`sent ${formatBytes(receivedBytes)} (maxResponseBytes)`);
          }
        });
        stream.on('end', () => mismatch(`closed the connection after ${formatBytes(receivedBytes)}`));
      }
      if (config.send !== undefined) {
        phase = 'send';
        stream.write(config.send, (err) => {
          if (err) return fail(err);
          if (expecting) phase = 'response';
          else succeed();
        });
      } else if (expecting) {
        phase = 'response';
      } else {
        succeed();
      }
    };

    if (ctx.signal.aborted) {
      onAbort();
      return;
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    raw = net.connect({ host, port, signal: ctx.signal });
    raw.on('error', fail);
    raw.once('lookup', (err: Error | null) => {
      timings.dns = mark();
      if (!err) phase = 'connect';
    });
    raw.once('connect', () => {
      timings.dns ??= 0;
      timings.connect = mark();
      if (!config.tls) {
        ready(raw as net.Socket);
        return;
      }
      phase = 'tls';
      const servername = config.servername ?? (net.isIP(host) ? undefined : host);
      secure = tls.connect({ socket: raw, host, servername, rejectUnauthorized: config.tlsVerify, ...files });
      secure.on('error', fail);
      secure.once('secureConnect', () => {
        timings.tls = mark();
        cert = (secure as TLSSocket).getPeerCertificate();
        ready(secure as TLSSocket);
      });
    });
  });
}

/** Connects to a port, optionally over TLS, optionally sending text and expecting an answer. */
export const tcpPlugin = definePlugin({
  name: 'tcp',
  version: '1.0.0',
  description: 'Connects to a TCP port (optionally with TLS), optionally sends text and checks the answer.',
  configSchema: tcpConfigSchema,
  metrics: [
    { name: 'dns_seconds', unit: 'seconds', help: 'Name resolution (0 for an IP address).' },
    { name: 'connect_seconds', unit: 'seconds', help: 'TCP connect, after DNS.' },
    { name: 'tls_seconds', unit: 'seconds', help: 'TLS handshake (with tls).' },
    { name: 'response_seconds', unit: 'seconds', help: 'From the connection being ready until the expected text arrived (with expect or expectMatches).' },
    { name: 'total_seconds', unit: 'seconds', help: 'The whole check; latency thresholds use it.' },
    { name: 'tls_cert_expiry_days', unit: 'days', help: "Time until the certificate's notAfter, negative once expired (with tls)." },
  ],
  run: runTcp,
});
