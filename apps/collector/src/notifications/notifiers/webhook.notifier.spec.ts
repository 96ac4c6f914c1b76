import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { webhookConfigSchema } from '../channel-config.js';
import type { NotificationMessage } from '../message.js';
import { previewOf } from '../notifiers.js';
import { NotifierError } from '../notifier.js';
import { startReceiver, type HttpReceiver, type ReceivedRequest } from './notifier-testing.js';
import { WebhookNotifier } from './webhook.notifier.js';

const SECRET = 'webhook-hmac-secret-1234';

const message: NotificationMessage = {
  key: 'alert-9:resolved',
  kind: 'resolved',
  severity: 'critical',
  title: 'Orthanc is CRITICAL',
  checkName: 'Orthanc',
  agentName: 'pacs-02',
  since: Date.parse('2026-11-20T10:00:00Z'),
  resolvedAt: Date.parse('2026-11-20T10:42:00Z'),
  reason: 'refused',
  summary: 'connection refused on 8042',
  url: 'https://rounds.example/checks/c-9',
  labels: { check_id: 'c-9' },
};

/** What a receiver does: recompute the HMAC over the raw body and compare in constant time. */
function signatureValid(req: ReceivedRequest, header: string, secret: string): boolean {
  const sent = String(req.headers[header.toLowerCase()] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(req.body).digest('hex')}`;
  return sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
}

describe('WebhookNotifier against a local receiver', () => {
  let receiver: HttpReceiver;
  const notifier = new WebhookNotifier();

  before(async () => {
    receiver = await startReceiver();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.reply = () => ({ status: 204 });
  });
  after(() => receiver.close());

  it('a templated channel posts exactly the body its preview shows, a hostile label value kept whole inside valid JSON', async () => {
    const config = webhookConfigSchema.parse({ url: receiver.url, template: { subject: '{{severity}} {{labels.site}}', body: '{{summary}} ({{duration}})' } });
    const hostile = { ...message, labels: { ...message.labels, site: '"}], "x": 1, <script>\u2028\\' } };
    const preview = previewOf({ type: 'webhook', config }, hostile, Date.now());
    await notifier.send(config, hostile, AbortSignal.timeout(5000));
    const body = JSON.parse(receiver.received[0]!.body) as Record<string, unknown>;
    assert.deepEqual(body, preview.type === 'webhook' && preview.body);
    assert.equal(body['text'], `critical ${hostile.labels.site}\n\nconnection refused on 8042 (42 min)`);
  });

  it('send() posts JSON with a Slack/Teams text field and the facts, signed with HMAC-SHA256 over the body', async () => {
    const config = webhookConfigSchema.parse({ url: `${receiver.url}/hooks/rounds`, hmacSecret: SECRET });
    await notifier.send(config, message, AbortSignal.timeout(5000));
    const req = receiver.received[0]!;
    assert.equal(req.path, '/hooks/rounds');
    assert.ok(signatureValid(req, 'X-Rounds-Signature', SECRET), 'the receiver verifies the signature');
    assert.ok(!signatureValid(req, 'X-Rounds-Signature', 'another-secret'));
    assert.equal(req.headers['x-rounds-key'], 'alert-9:resolved');
    const body = JSON.parse(req.body) as Record<string, unknown>;
    assert.match(String(body['text']), /^\[RESOLVED\] Orthanc is CRITICAL\n/);
    assert.match(String(body['text']), /Open: https:\/\/rounds\.example\/checks\/c-9/);
    assert.deepEqual(
      { ...body, text: undefined },
      {
        text: undefined,
        key: 'alert-9:resolved',
        kind: 'resolved',
        severity: 'critical',
        title: 'Orthanc is CRITICAL',
        check: 'Orthanc',
        agent: 'pacs-02',
        since: '2026-11-20T10:00:00.000Z',
        resolvedAt: '2026-11-20T10:42:00.000Z',
        reason: 'refused',
        summary: 'connection refused on 8042',
        url: 'https://rounds.example/checks/c-9',
        labels: { check_id: 'c-9' },
      },
    );
  });

  it('send() uses the configured signature header and extra headers, and signs nothing without a secret', async () => {
    await notifier.send(
      webhookConfigSchema.parse({
        url: receiver.url,
        hmacSecret: SECRET,
        signatureHeader: 'X-Hub-Signature-256',
        headers: { Authorization: 'Bearer hook-token' },
      }),
      message,
      AbortSignal.timeout(5000),
    );
    assert.ok(signatureValid(receiver.received[0]!, 'X-Hub-Signature-256', SECRET));
    assert.equal(receiver.received[0]!.headers['authorization'], 'Bearer hook-token');
    await notifier.send(webhookConfigSchema.parse({ url: receiver.url }), message, AbortSignal.timeout(5000));
    assert.equal(receiver.received[1]!.headers['x-rounds-signature'], undefined);
  });

  it('send() fails on a non-2xx answer, quoting it, and passes on Retry-After', async () => {
    receiver.reply = () => ({ status: 500, body: '{"error":"database down"}' });
    await assert.rejects(notifier.send(webhookConfigSchema.parse({ url: `${receiver.url}/x` }), message, AbortSignal.timeout(5000)), {
      message: `webhook ${receiver.url} answered 500 Internal Server Error: {"error":"database down"}`,
    });
    receiver.reply = () => ({ status: 429, headers: { 'retry-after': '120' } });
    await assert.rejects(
      notifier.send(webhookConfigSchema.parse({ url: receiver.url }), message, AbortSignal.timeout(5000)),
      (e: unknown) => e instanceof NotifierError && e.retryAfterMs === 120_000,
    );
  });

  it('send() stops at the deadline of a receiver that never answers', async () => {
    // Accepts the request and never answers.
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    await assert.rejects(notifier.send(webhookConfigSchema.parse({ url: `http://127.0.0.1:${port}/` }), message, AbortSignal.timeout(300)), {
      message: `http://127.0.0.1:${port} did not answer before the deadline`,
    });
    server.closeAllConnections();
    server.close();
  });
});
