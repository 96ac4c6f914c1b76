import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebTestApp, type WebTestApp } from './testing.js';

const METRICS_TOKEN = 'metrics-token-that-must-not-show-0123';

/** The settings page: what is in effect and which variable sets it, for admins, never a secret's value. */
describe('the settings page', () => {
  let web: WebTestApp;

  before(async () => {
    web = await startWebTestApp({ ROUNDS_RETENTION_RAW: '14d', ROUNDS_METRICS_TOKEN: METRICS_TOKEN });
  });
  after(() => web.close());

  it('shows an admin the settings in effect with the variable that sets each, and no secret', async () => {
    const admin = await web.browserAs('admin');
    const page = await admin.get('/settings');
    assert.equal(page.status, 200);
    assert.match(page.text, /<td>Keep raw results<\/td><td>14d<\/td><td><code>ROUNDS_RETENTION_RAW<\/code><\/td>/);
    assert.match(page.text, /<td>Two-factor sign-in required for<\/td><td>nobody \(each user may turn it on\)<\/td>/);
    assert.match(page.text, /<td>\/metrics<\/td><td>token set \(not shown\)<\/td>/);
    assert.ok(!page.text.includes(METRICS_TOKEN), 'the metrics token is in the page');
    assert.match(page.text, /<a href="\/settings" aria-current="page">Settings<\/a>/);
  });

  it('is for admins only, and not in an operator’s navigation', async () => {
    const operator = await web.browserAs('operator');
    assert.equal((await operator.get('/settings')).status, 403);
    assert.doesNotMatch((await operator.get('/')).text, /href="\/settings"/);
  });
});
