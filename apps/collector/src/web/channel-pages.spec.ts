import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChannelsService } from '../notifications/channels.service.js';
import { startReceiver, type HttpReceiver } from '../notifications/notifiers/notifier-testing.js';
import { startWebTestApp, type FakeBrowser, type WebAnswer, type WebTestApp } from './testing.js';

const URL_TOKEN = 'T0k3n-in-the-url-7f3a9c';
const AUTH = 'Bearer auth-header-secret-5b21e8';
const HMAC = 'hmac-secret-value-91c4d0';

describe('the channels pages', () => {
  let web: WebTestApp;
  let admin: FakeBrowser;
  let receiver: HttpReceiver;
  let channelId = '';
  const pages: WebAnswer[] = [];
  const seen = async (answer: Promise<WebAnswer>) => {
    const a = await answer;
    pages.push(a);
    return a;
  };

  before(async () => {
    web = await startWebTestApp();
    admin = await web.browserAs('admin', 'it-admin');
    receiver = await startReceiver();
    // Authenticates like a real receiver would: without the stored header, a 401.
    receiver.reply = (req) => (req.headers['authorization'] === AUTH ? { status: 200, body: '{"ok":true}' } : { status: 401, body: '{"error":"who are you"}' });
  });
  after(async () => {
    await receiver.close();
    await web.close();
  });

  it('lets an admin add a webhook channel with the form of its type, chosen by ?type=', async () => {
    const form = await seen(admin.get('/channels?type=webhook'));
    assert.equal(form.status, 200);
    for (const field of ['url', 'hmacSecret', 'signatureHeader', 'headers']) assert.match(form.text, new RegExp(`name="config\\.${field}"`), field);
    assert.doesNotMatch(form.text, /name="config\.botToken"/);
    assert.match((await seen(admin.get('/channels?type=telegram'))).text, /name="config\.botToken"/);

    const added = await admin.post('/channels', {
      type: 'webhook',
      name: 'on-call hook',
      'config.url': `${receiver.url}/hook/${URL_TOKEN}`,
      'config.hmacSecret': HMAC,
      'config.signatureHeader': '',
      'config.headers': `Authorization: ${AUTH}`,
    });
    assert.equal(added.status, 303, added.text.slice(0, 500));
    assert.match(added.location ?? '', /^\/channels\/[^/?]+\?done=added$/);
    channelId = decodeURIComponent(/^\/channels\/([^/?]+)/.exec(added.location!)![1]!);
    const [stored] = await web.app.get(ChannelsService).listViews();
    assert.equal(stored?.name, 'on-call hook');
    const list = await seen(admin.get('/channels'));
    assert.match(list.text, /on-call hook/);
    assert.match(list.text, /nothing sent yet/);
    const audit = await admin.get('/audit?action=channel.*');
    assert.match(audit.text, /<td>channel\.create<\/td>/);
  });

  it('sends a test and shows "delivered"; an edit with empty secret fields keeps them, so the next test still authenticates', async () => {
    const page = await seen(admin.get(`/channels/${channelId}`));
    assert.equal((page.text.match(/set — leave empty to keep/g) ?? []).length, 3, 'url, hmacSecret and headers are set');
    const tested = await seen(admin.post(`/channels/${channelId}/test`));
    assert.equal(tested.status, 200);
    assert.match(tested.text, /Test delivered in \d+ ms/);
    assert.equal(receiver.received.length, 1);
    assert.equal(receiver.received[0]?.path, `/hook/${URL_TOKEN}`);

    const saved = await admin.post(`/channels/${channelId}`, {
      name: 'night hook',
      'config.url': '',
      'config.hmacSecret': '',
      'config.signatureHeader': 'X-Sig',
      'config.headers': '',
    });
    assert.equal(saved.status, 303, saved.text.slice(0, 500));
    assert.equal(saved.location, `/channels/${channelId}?done=saved`);
    const again = await seen(admin.post(`/channels/${channelId}/test`));
    assert.match(again.text, /Test delivered/);
    const last = receiver.received.at(-1)!;
    assert.equal(last.path, `/hook/${URL_TOKEN}`);
    assert.equal(last.headers['authorization'], AUTH);
    assert.match(String(last.headers['x-sig']), /^sha256=[0-9a-f]{64}$/);
    assert.match((await seen(admin.get('/channels'))).text, /night hook/);
    assert.match((await seen(admin.get('/channels'))).text, /<td>every alert<\/td>/);
    await admin.post(`/channels/${channelId}`, { name: 'night hook', enabled: 'false', 'config.signatureHeader': 'X-Sig' });
    assert.equal((await web.app.get(ChannelsService).getView(channelId)).enabled, false);
    assert.match((await seen(admin.get('/channels'))).text, /nothing \(disabled\)/);
    await admin.post(`/channels/${channelId}`, { name: 'night hook', enabled: 'true', 'config.signatureHeader': 'X-Sig' });
    assert.equal((await web.app.get(ChannelsService).getView(channelId)).enabled, true);
  });

  it('shows a refused test in words with what to do', async () => {
    receiver.reply = () => ({ status: 503, body: '{"error":"maintenance"}' });
    try {
      const failed = await seen(admin.post(`/channels/${channelId}/test`));
      assert.equal(failed.status, 200);
      assert.match(failed.text, /Test not delivered: [^<]*503/);
      assert.match(failed.text, /then send another test/);
      assert.match((await seen(admin.get('/channels'))).text, /failing since/);
    } finally {
      receiver.reply = (req) => (req.headers['authorization'] === AUTH ? { status: 200, body: '{"ok":true}' } : { status: 401 });
    }
  });

  it('refuses a bad field beside it and stores nothing, on add and on edit', async () => {
    const service = web.app.get(ChannelsService);
    const bad = await seen(
      admin.post('/channels', {
        type: 'webhook',
        name: 'broken',
        'config.url': `ftp://files.example/${URL_TOKEN}`,
        'config.hmacSecret': HMAC,
        'config.headers': `Bad Header: ${AUTH}`,
      }),
    );
    assert.equal(bad.status, 400);
    assert.match(bad.text, /name="config\.url"[^>]*aria-invalid="true" aria-describedby="f-config-url-error"/);
    assert.match(bad.text, /id="f-config-url-error">must be an http:\/\/ or https:\/\/ URL</);
    assert.match(bad.text, /id="f-config-headers-error">must be an HTTP header name</);
    assert.equal((await service.listViews()).length, 1, 'nothing added');
    const unknownType = await seen(admin.post('/channels', { type: 'pager', name: 'beeper', 'config.url': 'https://pager.example/' }));
    assert.equal(unknownType.status, 400);
    assert.match(unknownType.text, /&quot;pager&quot; is not a channel type: pick one of smtp, telegram, webhook, alertmanager/);
    assert.equal((await service.listViews()).length, 1, 'no channel of a guessed type');
    assert.match(bad.text, /value="broken"/, 'the form keeps what was typed, except its secrets');

    const badEdit = await seen(admin.post(`/channels/${channelId}`, { name: 'night hook', 'config.url': 'not a url', 'config.signatureHeader': '' }));
    assert.equal(badEdit.status, 400);
    assert.match(badEdit.text, /id="f-config-url-error">/);
    assert.match((await seen(admin.post(`/channels/${channelId}/test`))).text, /Test delivered/, 'the stored URL is untouched');
  });

  it('never renders a secret in any page', () => {
    assert.ok(pages.length >= 10, String(pages.length));
    for (const page of pages) for (const secret of [URL_TOKEN, AUTH, 'auth-header-secret', HMAC]) assert.ok(!page.text.includes(secret), secret);
  });

  it('refuses a viewer’s forged POSTs (403) and shows them no form; operators test but do not edit (as the API)', async () => {
    const viewer = await web.browserAs('viewer');
    const list = await viewer.get('/channels');
    assert.equal(list.status, 200);
    assert.match(list.text, /night hook/);
    assert.doesNotMatch(list.text, /Add a channel/);
    assert.doesNotMatch((await viewer.get(`/channels/${channelId}`)).text, /Send test/);
    assert.equal((await viewer.post('/channels', { type: 'webhook', name: 'x', 'config.url': 'http://127.0.0.1:9/' })).status, 403);
    assert.equal((await viewer.post(`/channels/${channelId}/test`)).status, 403);
    assert.equal((await viewer.post(`/channels/${channelId}/delete`)).status, 403);

    const operator = await web.browserAs('operator');
    assert.equal((await operator.post('/channels', { type: 'webhook', name: 'x', 'config.url': 'http://127.0.0.1:9/' })).status, 403);
    assert.match((await operator.post(`/channels/${channelId}/test`)).text, /Test delivered/);
    assert.equal((await web.app.get(ChannelsService).listViews()).length, 1);
  });

  it('deletes a channel after a confirmation step', async () => {
    const page = await admin.get(`/channels/${channelId}`);
    assert.doesNotMatch(page.text, /Yes, delete/);
    const confirm = await admin.get(`/channels/${channelId}?confirm=delete`);
    assert.match(confirm.text, /Yes, delete/);
    const removed = await admin.post(`/channels/${channelId}/delete`);
    assert.equal(removed.location, '/channels?done=deleted');
    assert.equal((await web.app.get(ChannelsService).listViews()).length, 0);
    assert.match((await admin.get('/audit?action=channel.*')).text, /<td>channel\.delete<\/td>/);
  });
});
