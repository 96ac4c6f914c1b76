import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpReceiver {
  url: string;
  received: ReceivedRequest[];
  /** Answer of the next requests (default 200 `{"ok":true}`). */
  reply: (req: ReceivedRequest) => Reply;
  close(): Promise<void>;
}

/** A real HTTP server on an ephemeral loopback port standing in for a notification peer, for specs. */
export async function startReceiver(): Promise<HttpReceiver> {
  const receiver: HttpReceiver = {
    url: '',
    received: [],
    reply: () => ({ status: 200, body: '{"ok":true}' }),
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      receiver.received.push(request);
      const answer = receiver.reply(request);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
