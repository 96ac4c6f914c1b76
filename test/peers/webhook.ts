import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';

/** What a Rounds webhook channel posts, as the receiver saw it. */
export interface Delivery {
  key: string;
  kind: string;
  check: string | null;
  reason: string;
  title: string;
  text: string;
  labels: Record<string, string>;
  /** What the receiver answered. */
  answered: number;
}

/** A webhook receiver on a loopback port whose answer the test switches (200 or 503). */
export async function startWebhookReceiver(): Promise<{ url: string; deliveries: Delivery[]; status: number; close(): Promise<void> }> {
  const state = { url: '', deliveries: [] as Delivery[], status: 200, close: async () => undefined };
  const server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<Delivery, 'answered'>;
      const answered = state.status;
      state.deliveries.push({
        key: String(req.headers['x-rounds-key']),
        kind: body.kind,
        check: body.check,
        reason: body.reason,
        title: body.title,
        text: body.text,
        labels: body.labels,
        answered,
      });
      res.writeHead(answered, { 'content-type': 'application/json' });
      res.end(answered === 200 ? '{"ok":true}' : '{"error":"maintenance"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  state.close = () =>
    new Promise<undefined>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve(undefined));
    });
  return state;
}
