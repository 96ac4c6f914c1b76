import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CHART, UPLOT_SCRIPT, UPLOT_STYLESHEET } from './assets.js';
import { startWebTestApp, type FakeBrowser, type WebTestApp } from './testing.js';

describe('the check and alerts pages, and the chart assets', () => {
  let web: WebTestApp;
  let viewer: FakeBrowser;

  before(async () => {
    web = await startWebTestApp();
    viewer = await web.browserAs('viewer');
  });
  after(() => web.close());

  it('answers an unknown check with a 404 page that says where the checks are', async () => {
    const res = await viewer.get('/checks/no-such-check');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.text, /no check with id &quot;no-such-check&quot;/);
  });

  it('refuses a viewer’s forged acknowledgement (403) and shows them no form', async () => {
    const page = await viewer.get('/alerts');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /class="ack"/);
    const forged = await viewer.post('/alerts/0123456789abcdef/ack', { comment: 'me', for: '1h' });
    assert.equal(forged.status, 403);
  });

  it('shows admins the audit log filtered like the API, refuses a bad filter beside its field, and keeps it from others', async () => {
    const admin = await web.browserAs('admin', 'it-admin');
    const all = await admin.get('/audit');
    assert.equal(all.status, 200, all.text.slice(0, 300));
    assert.match(all.text, /<td>user\.add<\/td>/);
    const users = await admin.get('/audit?action=user.*&actor=');
    assert.equal(users.status, 200);
    const actions = [...users.text.matchAll(/<td>([a-z-]+\.[a-z0-9-]+)<\/td>/g)].map((m) => m[1]);
    assert.ok(actions.length >= 3 && actions.every((a) => a!.startsWith('user.')), actions.join(', '));
    assert.match(users.text, /href="\/api\/v1\/audit\.csv\?action=user\.\*"/);
    const bad = await admin.get('/audit?from=yesterday');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="from-error"/);
    assert.equal((await viewer.get('/audit')).status, 403);
  });

  it('serves uPlot and the chart script at content-named paths, cached for good, to anyone; an unknown asset is a 404', async () => {
    for (const asset of [UPLOT_SCRIPT, UPLOT_STYLESHEET, CHART]) {
      const res = await fetch(`${web.base}${asset.path}`);
      assert.equal(res.status, 200, asset.path);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(await res.text(), asset.body);
    }
    assert.match(UPLOT_SCRIPT.path, /^\/assets\/uplot\.[0-9a-f]{12}\.js$/);
    assert.equal((await fetch(`${web.base}/assets/uplot.000000000000.js`)).status, 404);
  });
});
