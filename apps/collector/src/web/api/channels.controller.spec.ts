import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REDACTED } from '#rounds/common';
import { CONTROL_CHARACTERS_MESSAGE } from '#rounds/plugins';
import { ChannelsRepository } from '../../notifications/channels.repository.js';
import { startReceiver, type HttpReceiver } from '../../notifications/notifiers/notifier-testing.js';
import { openTestDatabase } from '../../storage/testing.js';
import { NotificationOutboxEntity } from '../../storage/entities/index.js';
import { OutboxRepository } from '../../notifications/outbox.repository.js';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';
import { ChannelsController } from './channels.controller.js';
import { problem } from './problem.js';
import { CHANNEL_PROVIDERS } from '../../notifications/notifications.module.js';

/** The parts of a channel's view these specs read. */
interface ChannelBody {
  id: string;
  name: string;
  state: string;
  lastError: string | null;
  outbox: unknown;
  config: Record<string, unknown> & { headers?: Record<string, unknown> };
}

const SECRETS = ['smtp-pass-w0rd-xyz', '123456:bot-token-secret-abc', 'hmac-secret-value-789', 'Bearer hook-auth-token-456', 'am-basic-pass-321'];

describe('ChannelsController (/api/v1/channels)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let receiver: HttpReceiver;

  const call = <T = unknown>(method: string, path: string, body?: unknown, token?: string | null) => api.call<T>(method, path, body, token);
  /** A channel's config as stored, its secrets opened by the repository (the database holds them sealed). */
  const storedConfig = async (id: string): Promise<Record<string, unknown>> => {
    const row = await new ChannelsRepository(db.dataSource).findById(id);
    assert.ok(row, `channel ${id} is stored`);
    return JSON.parse(row.configJson) as Record<string, unknown>;
  };

  before(async () => {
    db = await openTestDatabase();
    receiver = await startReceiver();
    api = await startApiTestApp({
      controllers: [ChannelsController],
      dataSource: db.dataSource,
      config: { publicUrl: 'https://rounds.example' },
      providers: CHANNEL_PROVIDERS,
    });
  });
  after(async () => {
    await api.close();
    await receiver.close();
    await db.close();
  });

  it('refuses a request without the API token (401)', async () => {
    assert.equal((await call('GET', '/api/v1/channels', undefined, null)).status, 401);
    assert.equal((await call('GET', '/api/v1/channels', undefined, 'wrong-token')).status, 401);
  });

  it('POST answers 400 listing every field error, config fields included', async () => {
    const res = await call<ApiErrorBody>('POST', '/api/v1/channels', {
      name: '',
      type: 'smtp',
      config: { host: 'mail', to: [], from: 'nope', password: 'x', extra: 1 },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json.errors, [
      { field: 'name', message: 'Too small: expected string to have >=1 characters' },
      { field: 'config.from', message: 'must be an e-mail address like it@hospital.example' },
      { field: 'config.to', message: 'Too small: expected array to have >=1 items' },
      { field: 'config.extra', message: 'unknown field' },
      { field: 'config.username', message: 'is required when a password is set' },
    ]);
    const badType = await call<ApiErrorBody>('POST', '/api/v1/channels', { name: 'x', type: 'pager', config: {} });
    assert.equal(badType.status, 400);
    assert.deepEqual(badType.json.errors, [{ field: 'type', message: 'Invalid option: expected one of "smtp"|"telegram"|"webhook"|"alertmanager"' }]);
  });

  it('GET never contains a secret of any channel type, in the list or one channel', async () => {
    const created = [
      await call('POST', '/api/v1/channels', {
        name: 'mail',
        type: 'smtp',
        config: { host: 'mail.hospital.example', username: 'rounds', password: SECRETS[0], from: 'rounds@hospital.example', to: ['it@hospital.example'] },
      }),
      await call('POST', '/api/v1/channels', { name: 'tg', type: 'telegram', config: { botToken: SECRETS[1], chatId: 42 } }),
      await call('POST', '/api/v1/channels', {
        name: 'hook',
        type: 'webhook',
        config: { url: `${receiver.url}/hook`, hmacSecret: SECRETS[2], headers: { Authorization: SECRETS[3] } },
      }),
      await call('POST', '/api/v1/channels', { name: 'am', type: 'alertmanager', config: { url: 'http://127.0.0.1:9', username: 'am', password: SECRETS[4] } }),
    ];
    for (const c of created) {
      assert.equal(c.status, 201, c.text);
      for (const secret of SECRETS) assert.ok(!c.text.includes(secret), `POST response leaks ${secret}`);
    }
    const list = await call<ChannelBody[]>('GET', '/api/v1/channels');
    assert.equal(list.status, 200);
    for (const secret of SECRETS) assert.ok(!list.text.includes(secret), `GET leaks ${secret}`);
    const byName = Object.fromEntries(list.json.map((c) => [c.name, c]));
    assert.equal(byName['mail']?.config['password'], REDACTED);
    assert.equal(byName['tg']?.config['botToken'], REDACTED);
    assert.equal(byName['hook']?.config['url'], REDACTED, 'the webhook URL is the credential for Slack or Teams');
    assert.ok(!list.text.includes(`${receiver.url}/hook`), 'GET leaks the webhook URL');
    assert.equal(byName['hook']?.config['hmacSecret'], REDACTED);
    assert.equal(byName['hook']?.config.headers?.['Authorization'], REDACTED);
    assert.equal(byName['am']?.config['password'], REDACTED);
    assert.equal(byName['mail']?.config['username'], 'rounds');
    assert.deepEqual(byName['tg']?.outbox, { pending: 0, sent: 0, dead: 0 });
    assert.equal(byName['tg']?.state, 'unknown');
    const one = await call('GET', '/api/v1/channels/hook');
    assert.equal(one.status, 200);
    for (const secret of SECRETS) assert.ok(!one.text.includes(secret));
  });

  it('POST with a taken name is a 409, an unknown channel a 404', async () => {
    assert.equal((await call('POST', '/api/v1/channels', { name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } })).status, 409);
    assert.equal((await call('GET', '/api/v1/channels/nope')).status, 404);
    assert.equal((await call('DELETE', '/api/v1/channels/nope')).status, 404);
  });

  it('POST /:id/test sends a signed test message and reports ok; a refusal is reported with the error, secrets scrubbed', async () => {
    receiver.reply = () => ({ status: 204 });
    const ok = await call<{ ok: boolean; error?: string }>('POST', '/api/v1/channels/hook/test');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.ok, true);
    const req = receiver.received.at(-1)!;
    assert.equal(req.headers['authorization'], SECRETS[3]);
    assert.match(String(req.headers['x-rounds-signature']), /^sha256=[0-9a-f]{64}$/);
    const body = JSON.parse(req.body) as { kind: unknown; url: unknown };
    assert.equal(body.kind, 'test');
    assert.equal(body.url, 'https://rounds.example');
    assert.equal((await call<ChannelBody>('GET', '/api/v1/channels/hook')).json.state, 'ok');

    receiver.reply = () => ({ status: 403, body: `forbidden for ${SECRETS[3]}` });
    const refused = await call<{ ok: boolean; error?: string }>('POST', '/api/v1/channels/hook/test');
    assert.equal(refused.status, 200);
    assert.equal(refused.json.ok, false);
    assert.equal(refused.json.error, `webhook ${receiver.url} answered 403 Forbidden: forbidden for ${REDACTED}`);
    const view = (await call<ChannelBody>('GET', '/api/v1/channels/hook')).json;
    assert.equal(view.state, 'failing');
    assert.equal(view.lastError, refused.json.error);
  });

  it('PATCH keeps a secret sent back as the placeholder, replaces one sent anew, and validates the config', async () => {
    const view = (await call<ChannelBody>('GET', '/api/v1/channels/tg')).json;
    const renamed = await call<ChannelBody>('PATCH', `/api/v1/channels/${view.id}`, { name: 'telegram', config: { ...view.config, chatId: '@pacs_alerts' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.json.name, 'telegram');
    assert.equal(renamed.json.config['botToken'], REDACTED);
    assert.deepEqual(await storedConfig(view.id), { botToken: SECRETS[1], chatId: '@pacs_alerts' });

    const bad = await call<ApiErrorBody>('PATCH', `/api/v1/channels/${view.id}`, { config: { botToken: 'not-a-token', chatId: 1 } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [{ field: 'config.botToken', message: 'must look like 123456:ABC-DEF… (the token @BotFather gave)' }]);
    const typeChange = await call<ApiErrorBody>('PATCH', `/api/v1/channels/${view.id}`, { type: 'smtp' });
    assert.equal(typeChange.status, 400);
    assert.deepEqual(typeChange.json.errors, [{ field: 'type', message: 'unknown field' }]);
    assert.equal((await call('PATCH', `/api/v1/channels/${view.id}`, { name: 'mail' })).status, 409);
  });

  it('PATCH of a webhook that sends its redacted view back keeps the stored URL, and a new URL replaces it', async () => {
    const view = (await call<ChannelBody>('GET', '/api/v1/channels/hook')).json;
    assert.equal(view.config['url'], REDACTED);
    const storedUrl = async () => (await storedConfig(view.id))['url'];
    const echoed = await call<ChannelBody>('PATCH', `/api/v1/channels/${view.id}`, { config: { ...view.config, signatureHeader: 'X-Hook-Signature' } });
    assert.equal(echoed.status, 200, echoed.text);
    assert.equal(echoed.json.config['url'], REDACTED);
    assert.equal(echoed.json.config['signatureHeader'], 'X-Hook-Signature');
    assert.equal(await storedUrl(), `${receiver.url}/hook`);
    const moved = await call('PATCH', `/api/v1/channels/${view.id}`, { config: { ...view.config, url: `${receiver.url}/moved` } });
    assert.equal(moved.status, 200, moved.text);
    assert.ok(!moved.text.includes('/moved'), 'PATCH response leaks the new URL');
    assert.equal(await storedUrl(), `${receiver.url}/moved`);
    const bad = await call<ApiErrorBody>('PATCH', `/api/v1/channels/${view.id}`, { config: { ...view.config, url: 'ftp://x' } });
    assert.deepEqual(bad.json.errors, [{ field: 'config.url', message: 'must be an http:// or https:// URL' }]);
  });

  it('GET /:id/deliveries lists the outbox rows of a channel and checks its limit', async () => {
    assert.deepEqual((await call('GET', '/api/v1/channels/hook/deliveries')).json, []);
    const bad = await call<ApiErrorBody>('GET', '/api/v1/channels/hook/deliveries?limit=0');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [{ field: 'limit', message: 'must be a whole number from 1 to 1000' }]);
    const notANumber = await call('GET', '/api/v1/channels/hook/deliveries?limit=lots');
    assert.deepEqual(
      [notANumber.status, notANumber.json],
      [400, problem(400, 'invalid query', '/api/v1/channels/hook/deliveries', [{ field: 'limit', message: 'must be a whole number from 1 to 1000' }])],
    );
  });

  it('GET /:id/deliveries filters by status and alert, sorts either way and pages, with X-Total-Count', async () => {
    const hook = (await call<ChannelBody>('GET', '/api/v1/channels/hook')).json;
    const [a, b] = ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'];
    const outbox = api.app.get(OutboxRepository);
    const message = (key: string, kind: string) => ({ key: `${key}@${hook.id}`, channelId: hook.id, payload: { kind, title: key } });
    await outbox.enqueue([message(`${a}/1000/1/firing`, 'firing')], 1000);
    await outbox.enqueue([message(`${b}/2000/1/firing`, 'firing')], 2000);
    await outbox.enqueue([message(`${a}/1000/2/resolved`, 'resolved')], 3000);
    await db.dataSource.getRepository(NotificationOutboxEntity).update({ key: `${b}/2000/1/firing@${hook.id}` }, { status: 'sent', sentAt: 2100 });
    const list = async (query: string) => {
      const res = await call<{ title: string; status: string }[]>('GET', `/api/v1/channels/hook/deliveries?${query}`);
      assert.equal(res.status, 200, res.text);
      return [res.json.map((d) => d.title), res.headers.get('x-total-count')];
    };
    const [fa1, fb1, ra2] = [`${a}/1000/1/firing`, `${b}/2000/1/firing`, `${a}/1000/2/resolved`];
    assert.deepEqual(await list(''), [[ra2, fb1, fa1], '3'], 'newest first');
    assert.deepEqual(await list('sort=createdAt&limit=1&offset=1'), [[fb1], '3']);
    assert.deepEqual(await list(`alert=${a}`), [[ra2, fa1], '2']);
    assert.deepEqual(await list('status=sent'), [[fb1], '1']);
    assert.deepEqual(await list(`status=pending&alert=${b}`), [[], '0']);
    const errors = async (query: string) => (await call<ApiErrorBody>('GET', `/api/v1/channels/hook/deliveries?${query}`)).json.errors;
    assert.deepEqual(await errors('sort=status'), [{ field: 'sort', message: 'must be one of createdAt, -createdAt' }]);
    assert.deepEqual(await errors('status=lost'), [{ field: 'status', message: 'must be one of pending, sent, dead' }]);
    assert.deepEqual(await errors('alert=pacs'), [
      { field: 'alert', message: 'must be the fingerprint of an alert (16 hex digits, as GET /api/v1/alerts gives it)' },
    ]);
  });

  it('POST and PATCH with a field of the wrong type answer 400 naming the field', async () => {
    const res = await call('POST', '/api/v1/channels', { name: 'typed', type: 'webhook', config: { url: 'http://127.0.0.1:9/' }, enabled: 'yes' });
    assert.deepEqual(
      [res.status, res.json],
      [
        400,
        problem(400, 'invalid notification channel', '/api/v1/channels', [{ field: 'enabled', message: 'Invalid input: expected boolean, received string' }]),
      ],
    );
    const patched = await call<ApiErrorBody>('PATCH', '/api/v1/channels/hook', { config: 'http://127.0.0.1:9/' });
    assert.equal(patched.status, 400);
    assert.deepEqual(patched.json.errors, [{ field: 'config', message: 'Invalid input: expected record, received string' }]);
    assert.equal((await call('GET', '/api/v1/channels/typed')).status, 404);
  });

  it('POST and PATCH refuse a control character in the name with a 400 naming the field, and a taken name with a 409 naming it', async () => {
    for (const name of ['on-call\nforged line', 'on-call\u0000', 'on-call\u009b']) {
      const res = await call<ApiErrorBody>('POST', '/api/v1/channels', { name, type: 'webhook', config: { url: 'http://127.0.0.1:9/' } });
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.deepEqual(res.json.errors, [{ field: 'name', message: CONTROL_CHARACTERS_MESSAGE }]);
    }
    const patched = await call<ApiErrorBody>('PATCH', '/api/v1/channels/hook', { name: 'hook\r\n' + 'x' });
    assert.equal(patched.status, 400);
    assert.deepEqual(patched.json.errors, [{ field: 'name', message: CONTROL_CHARACTERS_MESSAGE }]);
    const taken = await call<ApiErrorBody>('PATCH', '/api/v1/channels/hook', { name: 'mail' });
    assert.equal(taken.status, 409);
    assert.deepEqual(taken.json.errors, [{ field: 'name', message: 'a notification channel named "mail" exists already — choose another name' }]);
  });

  it('POST /:id/preview renders what the channel would send, with its own template or one given; an unknown placeholder is a 400 naming the field', async () => {
    const telegram = (template: unknown) => ({ name: 'tpl', type: 'telegram', config: { botToken: '123:abc', chatId: 7, template } });
    const refused = await call<ApiErrorBody>('POST', '/api/v1/channels', telegram({ body: '{{alert.nmae}}' }));
    assert.equal(refused.status, 400);
    assert.deepEqual(
      refused.json.errors!.map((e) => e.field),
      ['config.template.body'],
    );
    assert.match(refused.json.errors![0]!.message, /^unknown placeholder \{\{alert\.nmae\}\}: use one of alert\.name, /);
    assert.equal((await call('POST', '/api/v1/channels', telegram({ body: '{{labels.site}} / {{summary}}' }))).status, 201);

    type TelegramPreview = { type: string; body: { text: string; chat_id: number } };
    const hostile = await call<TelegramPreview>('POST', '/api/v1/channels/tpl/preview', { alert: { labels: { site: '<b>x</b>' } } });
    assert.equal(hostile.status, 200, hostile.text);
    assert.equal(hostile.json.type, 'telegram');
    assert.equal(hostile.json.body.chat_id, 7);
    assert.equal(
      hostile.json.body.text,
      '<b>[FIRING] PACS web on pacs-01 is CRITICAL</b>\n\n&lt;b&gt;x&lt;/b&gt; / no answer from https://pacs-01/ within 10 s',
    );
    assert.match((await call<TelegramPreview>('POST', '/api/v1/channels/tpl/preview')).json.body.text, /\n\nmain \/ /, 'no body: the sample alert');
    assert.match((await call<TelegramPreview>('POST', '/api/v1/channels/tpl/preview', { template: null })).json.body.text, /<b>What:<\/b> PACS web on pacs-01/);
    const badOverride = await call<ApiErrorBody>('POST', '/api/v1/channels/tpl/preview', { template: { subject: '{{nope}}' } });
    assert.equal(badOverride.status, 400);
    assert.deepEqual(
      badOverride.json.errors!.map((e) => e.field),
      ['template.subject'],
    );
    assert.equal((await call('POST', '/api/v1/channels/no-such/preview', {})).status, 404);
    const secret = await call('POST', '/api/v1/channels/hook/preview', {});
    assert.equal(secret.status, 200);
    for (const s of SECRETS) assert.ok(!secret.text.includes(s), 'a preview shows no secret');
  });

  it('POST /preview renders a channel not saved yet, its config judged as when it is created', async () => {
    const config = { url: 'https://hooks.example/x', template: { body: '{{severity}} {{#resolved}}ended {{endsAt}}{{/resolved}}' } };
    const res = await call<{ body: { text: string } }>('POST', '/api/v1/channels/preview', { type: 'webhook', config, alert: { severity: 'warning' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.body.text, '[FIRING] PACS web on pacs-01 is CRITICAL\n\nwarning ');
    const bad = await call<ApiErrorBody>('POST', '/api/v1/channels/preview', { type: 'webhook', config: { ...config, template: { body: '{{{summary}}}' } } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [
      { field: 'config.template.body', message: '{{{summary}}} and {{&summary}} print a value unescaped: write {{summary}}' },
    ]);
    assert.equal((await call('GET', '/api/v1/channels/preview')).status, 404, 'nothing was stored');
  });

  it('DELETE removes the channel (204)', async () => {
    assert.equal((await call('DELETE', '/api/v1/channels/am')).status, 204);
    assert.equal((await call('GET', '/api/v1/channels/am')).status, 404);
  });
});
