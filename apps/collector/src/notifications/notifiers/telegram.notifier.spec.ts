import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { telegramConfigSchema } from '../channel-config.js';
import type { NotificationMessage } from '../message.js';
import { NotifierError } from '../notifier.js';
import { startReceiver, type HttpReceiver } from './notifier-testing.js';
import { TelegramNotifier } from './telegram.notifier.js';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

const message: NotificationMessage = {
  key: 'alert-7:firing:1',
  kind: 'firing',
  severity: 'warning',
  title: 'NAS share <images> is WARNING',
  checkName: 'NAS share',
  agentName: 'nas-01',
  since: Date.now() - 5 * 60_000,
  reason: 'disk_full',
  summary: 'free 4% < 5% & falling',
  url: 'https://rounds.example/checks/c-7',
  labels: {},
};

describe('TelegramNotifier against a local stand-in for the Bot API', () => {
  let api: HttpReceiver;
  const notifier = new TelegramNotifier();
  const config = (extra: Record<string, unknown> = {}) => telegramConfigSchema.parse({ baseUrl: api.url, botToken: TOKEN, chatId: -1001234567890, ...extra });

  before(async () => {
    api = await startReceiver();
  });
  beforeEach(() => {
    api.received.length = 0;
    api.reply = (req) =>
      req.path === `/bot${TOKEN}/sendMessage`
        ? { status: 200, body: '{"ok":true,"result":{"message_id":1}}' }
        : { status: 404, body: '{"ok":false,"error_code":404,"description":"Not Found"}' };
  });
  after(() => api.close());

  it('send() posts to /bot<token>/sendMessage with the chat, HTML text (escaped) and the link', async () => {
    await notifier.send(config({ silent: true, messageThreadId: 9 }), message, AbortSignal.timeout(5000));
    assert.equal(api.received.length, 1);
    const req = api.received[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, `/bot${TOKEN}/sendMessage`);
    assert.match(String(req.headers['content-type']), /^application\/json/);
    const payload = JSON.parse(req.body) as Record<string, unknown>;
    assert.equal(payload['chat_id'], -1001234567890);
    assert.equal(payload['parse_mode'], 'HTML');
    assert.equal(payload['disable_notification'], true);
    assert.equal(payload['message_thread_id'], 9);
    const text = String(payload['text']);
    assert.match(text, /^<b>\[FIRING\] NAS share &lt;images&gt; is WARNING<\/b>/);
    assert.match(text, /<b>Where:<\/b> agent nas-01/);
    assert.match(text, /<b>Since:<\/b> .*\(5 min ago\)/);
    assert.match(text, /<b>Reason:<\/b> disk_full/);
    assert.match(text, /<b>Summary:<\/b> free 4% &lt; 5% &amp; falling/);
    assert.match(text, /<a href="https:\/\/rounds\.example\/checks\/c-7">/);
  });

  it('send() accepts a base URL with a path prefix (a proxy) and a @channel chat id', async () => {
    api.reply = (req) => (req.path === `/tg/bot${TOKEN}/sendMessage` ? { status: 200, body: '{"ok":true}' } : { status: 404, body: '{}' });
    await notifier.send(telegramConfigSchema.parse({ baseUrl: `${api.url}/tg/`, botToken: TOKEN, chatId: '@pacs_alerts' }), message, AbortSignal.timeout(5000));
    assert.equal(JSON.parse(api.received[0]!.body).chat_id, '@pacs_alerts');
  });

  it('send() reports a wrong token without showing it', async () => {
    api.reply = () => ({ status: 401, body: '{"ok":false,"error_code":401,"description":"Unauthorized"}' });
    await assert.rejects(notifier.send(config(), message, AbortSignal.timeout(5000)), (e: Error) => {
      assert.equal(e.message, 'Telegram refused the message: Unauthorized — check botToken (and baseUrl)');
      assert.ok(!e.message.includes(TOKEN));
      return true;
    });
  });

  it('send() explains "chat not found" and passes on retry_after from a 429', async () => {
    api.reply = () => ({ status: 400, body: '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}' });
    await assert.rejects(notifier.send(config(), message, AbortSignal.timeout(5000)), /chat not found — check chatId and that the bot was added to the chat/);
    api.reply = () => ({ status: 429, body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}' });
    await assert.rejects(notifier.send(config(), message, AbortSignal.timeout(5000)), (e: unknown) => e instanceof NotifierError && e.retryAfterMs === 7000);
  });

  it('send() names the unreachable Bot API by its origin only (the path holds the token)', async () => {
    const gone = await startReceiver();
    await gone.close();
    await assert.rejects(
      notifier.send(telegramConfigSchema.parse({ baseUrl: gone.url, botToken: TOKEN, chatId: 1 }), message, AbortSignal.timeout(5000)),
      (e: Error) => {
        assert.equal(e.message, `cannot reach ${gone.url}: connection refused — is the service running and the URL right?`);
        return true;
      },
    );
  });
});
