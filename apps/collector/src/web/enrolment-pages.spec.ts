import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, waitUntil } from '../../../../test/peers/process.js';
import { startWebTestApp, type WebTestApp } from './testing.js';

/** The "Enrol many agents" page: the site key, a list with its faults beside it, each line's progress (real agents: test/e2e). */
describe('the enrol-many page', () => {
  let web: WebTestApp;

  before(async () => {
    web = await startWebTestApp({ ROUNDS_POLL_TIMEOUT_MS: '2000' });
  });
  after(() => web.close());

  it('is for admins: linked from the agents page for them only, 403 for an operator', async () => {
    const admin = await web.browserAs('admin');
    assert.match((await admin.get('/agents')).text, /<a href="\/agents\/enrol-many">Enrol many agents with the site key<\/a>/);
    const operator = await web.browserAs('operator');
    assert.doesNotMatch((await operator.get('/agents')).text, /enrol-many/);
    assert.equal((await operator.get('/agents/enrol-many')).status, 403);
  });

  it('makes a site key and shows it this once; the page says since when, never the key again', async () => {
    const admin = await web.browserAs('admin');
    const before = await admin.get('/agents/enrol-many');
    assert.match(before.text, /No site key yet: make one, then install the agents with it\./);
    assert.match(before.text, /<button type="submit" data-busy="Saving the list…" disabled>Contact these agents<\/button>/, 'no list without a key');
    const made = await admin.post('/agents/site-key');
    assert.equal(made.status, 200);
    const key = /<p class="secret" data-site-key[^>]*>([^<]+)<\/p>/.exec(made.text)?.[1];
    assert.match(key ?? '', /^[A-Za-z0-9][A-Za-z0-9_-]{42}$/);
    assert.equal(made.headers.get('cache-control'), 'no-store');
    const after = await admin.get('/agents/enrol-many');
    assert.ok(!after.text.includes(key!), 'the key shown a second time');
    assert.match(after.text, /Set <time datetime="[^"]+">[^<]+<\/time> by admin-\d+\./);
  });

  it('refuses a list with faults whole: each line at fault said beside the text box, the text kept to correct', async () => {
    const admin = await web.browserAs('admin');
    await admin.get('/agents/enrol-many');
    const answer = await admin.post('/agents/enrol-many', { csv: 'pacs-01,10.0.4.7:7443\npacs 02,10.0.4.8' });
    assert.equal(answer.status, 400);
    assert.match(
      answer.text,
      /<textarea id="enrol-csv" name="csv" rows="8" aria-invalid="true" aria-describedby="enrol-csv-error">pacs-01,10\.0\.4\.7:7443\npacs 02,10\.0\.4\.8<\/textarea>/,
    );
    assert.match(answer.text, /<span class="field-error" id="enrol-csv-error">line 2: name &quot;pacs 02&quot; must be 1–63 letters/);
  });

  it('saves a list and shows each line where it is: a dead address ends under "Not enrolled" with why', async () => {
    const admin = await web.browserAs('admin');
    await admin.get('/agents/enrol-many');
    const dead = await freePort();
    const saved = await admin.post('/agents/enrol-many', { csv: `ward-pc,127.0.0.1:${dead}` });
    assert.deepEqual([saved.status, saved.location], [303, '/agents/enrol-many?done=submitted']);
    let page = '';
    await waitUntil(
      async () => {
        page = (await admin.get('/agents/enrol-many')).text;
        return page.includes('Not enrolled (1)');
      },
      20_000,
      () => `the line never failed: ${page.slice(page.indexOf('id="enrolments"'), page.indexOf('id="enrolments"') + 600)}`,
    );
    assert.match(
      page,
      new RegExp(`<td>ward-pc</td><td>127\\.0\\.0\\.1:${dead}</td><td class="summary">agent ward-pc at 127\\.0\\.0\\.1:${dead}: refused the connection`),
    );
    assert.doesNotMatch(page, /hx-trigger="every 2s"/, 'nothing under way: the block stops fetching itself');
    const approve = await admin.post('/agents/enrol-many/approve', { ids: '' });
    assert.equal(approve.status, 409);
    assert.match(approve.text, /nothing to approve: no agent was waiting when the page was drawn/);
  });
});
