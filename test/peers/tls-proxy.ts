import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TlsProxyOptions {
  /** Where requests go on: an http:// origin (e.g. Orthanc's REST port). */
  upstream: string;
  key: string;
  cert: string;
  /** Credentials added on the way to the upstream (Orthanc's RegisteredUsers). */
  upstreamAuth?: { username: string; password: string };
  /**
   * Require `Authorization: Bearer <token>` with one of these tokens — what an OAuth gateway in
   * front of a PACS does: an unknown token is answered 401 with a Bearer challenge, a `forbidden`
   * one (valid, but without the scope to read studies) 403 insufficient_scope.
   */
  bearerTokens?: Record<string, 'read' | 'forbidden'>;
}

export interface TlsProxy {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * A TLS terminator in front of a plain-HTTP peer, as hospitals put a reverse proxy in front of
 * Orthanc (whose own HTTPS crashes on Debian 12's build), optionally demanding a bearer token.
 * Listens on 127.0.0.1 on a port the OS hands out.
 */
export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const upstream = new URL(options.upstream);
  const server: Server = createServer({ key: options.key, cert: options.cert }, (req: IncomingMessage, res: ServerResponse) => {
    if (options.bearerTokens !== undefined) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const grant = token !== undefined && Object.hasOwn(options.bearerTokens, token) ? options.bearerTokens[token] : undefined;
      if (grant !== 'read') {
        const error = grant === 'forbidden' ? 'insufficient_scope' : 'invalid_token';
        res.writeHead(grant === 'forbidden' ? 403 : 401, {
          'www-authenticate': `Bearer realm="rounds-test", error="${error}"`,
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ error, message: grant === 'forbidden' ? 'the token may not read studies' : 'unknown token' }));
        return;
      }
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
        ...(options.upstreamAuth ? { auth: `${options.upstreamAuth.username}:${options.upstreamAuth.password}` } : {}),
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream failed: ${e.message}`);
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
