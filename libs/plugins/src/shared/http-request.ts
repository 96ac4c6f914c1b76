// One HTTP request on a fresh connection, bound to the check's signal, with the phase it is in
// and the time each phase took: what the http plugin and the HTTP-based protocol plugins
// (dicomweb) send requests with, so that timeouts, TLS and socket errors read the same in all.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { CheckContext } from '../plugin.js';
import { connectPhaseText, formatBytes, secondsSince, type ConnectPhase } from './net-common.js';
import type { TlsMaterial } from './tls-files.js';

export type Phase = ConnectPhase | 'first_byte' | 'body';

/** Phase timings of one request, in seconds; absent when the phase did not happen. */
export interface HopTimings {
  dns?: number;
  connect?: number;
  tls?: number;
  firstByte?: number;
}

export interface Hop {
  status: number;
  location?: string;
  /** The Content-Type header as sent (media type and parameters). */
  contentType?: string;
  body: Buffer;
  bodyBytes: number;
  truncated: boolean;
  timings: HopTimings;
  cert?: PeerCertificate;
}

export type HopResult = { ok: true; hop: Hop } | { ok: false; phase: Phase; error: unknown; aborted: boolean; bodyBytes: number; timings: HopTimings };

export interface HopRequest {
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

export const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Every request opens and closes its own connection, as `agent: false` did, but through one
 * agent per protocol instead of a new Agent object (with its maps and listeners) per request:
 * no keep-alive, so nothing is pooled, and no TLS session cache, so every https check makes a
 * full handshake and sees the server's certificate.
 */
const HTTP_AGENT = new http.Agent({ keepAlive: false });
const HTTPS_AGENT = new https.Agent({ keepAlive: false, maxCachedSessions: 0 });

/** One request on a fresh connection, with the phase it is in kept for timeout messages. */
export function requestOnce(req: HopRequest, ctx: CheckContext): Promise<HopResult> {
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
      const contentType = res.headers['content-type'];
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = (truncated: boolean): void =>
        finish({ ok: true, hop: { status, location, contentType, body: Buffer.concat(chunks), bodyBytes, truncated, timings, cert } });

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

export function phaseText(phase: Phase, host: string, port: number, bodyBytes: number): string {
  if (phase === 'first_byte') return 'waiting for the first byte';
  if (phase === 'body') return `reading the body (${formatBytes(bodyBytes)} so far)`;
  return connectPhaseText(phase, host, port);
}
