import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Reason } from '#rounds/common';
import { describeNetworkError } from '../shared/net-common.js';

/** What went wrong talking to Orthanc, already in the closed set of reasons. */
export class OrthancError extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface OrthancClientOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: string;
  verifyTls: boolean;
  signal: AbortSignal;
}

const MAX_BODY = 16 * 1024 * 1024;

/**
 * Orthanc's REST API over node:http(s), every request bound to the check's signal.
 * Not global fetch: it cannot take a private CA per request, and its errors hide the code.
 */
export class OrthancClient {
  private readonly base: URL;

  constructor(private readonly options: OrthancClientOptions) {
    this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    if (this.options.username !== undefined) {
      headers['authorization'] = `Basic ${Buffer.from(`${this.options.username}:${this.options.password ?? ''}`).toString('base64')}`;
    }
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          headers,
          signal: this.options.signal,
          ...(https ? { ca: this.options.ca, rejectUnauthorized: this.options.verifyTls } : {}),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY) {
              res.destroy(new OrthancError('unexpected_response', `${method} ${url.pathname} answered more than ${MAX_BODY} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (e) => reject(this.toError(e, method, url)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              reject(
                new OrthancError('unexpected_response', `${method} ${url.pathname} did not answer JSON (is ${this.base.origin} Orthanc?)`, res.statusCode),
              );
              return;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const details = describeOrthancBody(parsed);
            if (status === 401) {
              reject(new OrthancError('auth', `Orthanc refused the credentials (HTTP 401) — check username/password against RegisteredUsers`, status, parsed));
            } else if (status === 403) {
              reject(new OrthancError('access_denied', `Orthanc forbids ${method} ${url.pathname} (HTTP 403)${details}`, status, parsed));
            } else {
              reject(new OrthancError('unexpected_response', `${method} ${url.pathname} answered HTTP ${status}${details}`, status, parsed));
            }
          });
        },
      );
      req.on('error', (e) => reject(this.toError(e, method, url)));
      req.end(payload);
    });
  }

  private toError(e: Error & { code?: string }, method: string, url: URL): OrthancError {
    if (e instanceof OrthancError) return e;
    const where = `${method} ${url.origin}${url.pathname}`;
    const code = e.code ?? '';
    if (this.options.signal.aborted || code === 'ABORT_ERR') return new OrthancError('timeout', `${where}: no answer before the check's deadline`);
    // The same sentences as the http and tcp plugins (e.g. https:// against a plain-HTTP port).
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const described = describeNetworkError(e, 'connect', url.hostname.replace(/^\[|\]$/g, ''), port);
    return new OrthancError(described.reason, `${where}: ${described.text}`);
  }
}

/** Orthanc's error bodies carry `Details` and `Message`; either is what a person needs. */
export function describeOrthancBody(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const b = body as { Details?: unknown; Message?: unknown };
  const text = typeof b.Details === 'string' && b.Details ? b.Details : typeof b.Message === 'string' ? b.Message : '';
  return text ? `: ${text}` : '';
}
