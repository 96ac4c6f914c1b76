import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertingService } from '../alerting/alerting.service.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { CurrentState } from '../state/current-state.js';
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

  it('lets an operator add a maintenance window in a time zone and delete it; bad fields are refused beside them; viewers only read', async () => {
    const op = await web.browserAs('operator', 'night-shift');
    await op.get('/maintenance');
    const added = await op.post('/maintenance', {
      name: 'PACS upgrade',
      kind: 'once',
      timeZone: 'Europe/Berlin',
      startsAt: '2030-06-01T22:00',
      endsAt: '2030-06-02T04:00',
      matchers: 'agent="pacs-01"\nplugin="dicom-echo"',
      comment: 'vendor on site',
    });
    assert.equal(added.status, 303, added.text.slice(0, 500));
    assert.equal(added.location, '/maintenance?done=added');
    const [window] = web.app.get(AlertingService).maintenanceWindows();
    assert.equal(window?.kind, 'once');
    // 22:00 in Berlin on June 1st is 20:00 UTC (summer time).
    assert.equal(window?.kind === 'once' ? new Date(window.startsAt).toISOString() : '', '2030-06-01T20:00:00.000Z');
    const listed = await op.get('/maintenance?done=added');
    assert.match(listed.text, /PACS upgrade/);
    assert.match(listed.text, /agent=&quot;pacs-01&quot;, plugin=&quot;dicom-echo&quot;/);

    const bad = await op.post('/maintenance', {
      name: 'weekly backup',
      kind: 'weekly',
      timeZone: 'Mars/Olympus',
      start: '25:00',
      end: '03:00',
      matchers: 'agent~~x',
    });
    assert.equal(bad.status, 400);
    for (const field of ['timeZone', 'start', 'days', 'matchers'])
      assert.match(bad.text, new RegExp(`name="${field}"[^>]*aria-invalid="true"|${field === 'days' ? 'needs at least one weekday' : '$^'}`), field);
    assert.equal(web.app.get(AlertingService).maintenanceWindows().length, 1, 'nothing added');

    assert.equal((await viewer.post('/maintenance', { name: 'x', kind: 'daily', start: '01:00', end: '02:00' })).status, 403);
    assert.doesNotMatch((await viewer.get('/maintenance')).text, /Add a window/);

    const removed = await op.post(`/maintenance/${encodeURIComponent(window.id)}/delete`);
    assert.equal(removed.location, '/maintenance?done=deleted');
    assert.equal(web.app.get(AlertingService).maintenanceWindows().length, 0);
  });

  it('pages the check list 50 at a time, keeping the filters', async () => {
    const agent = await new AgentsRepository(web.dataSource).create({ name: 'lab-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    const checks = new ChecksRepository(web.dataSource);
    for (let i = 0; i < 60; i++) {
      await checks.create({ agentId: agent.id, name: `port ${String(i).padStart(2, '0')}`, plugin: 'tcp', config: {}, intervalMs: 60_000, timeoutMs: 5_000 });
    }
    await web.app.get(CurrentState).refreshAgent(agent.id);
    const first = await viewer.get('/checks?agent=lab-01');
    assert.match(first.text, /60 checks, page 1 of 2\./);
    assert.equal([...first.text.matchAll(/<a href="\/checks\/[^"]+">port/g)].length, 50);
    assert.match(first.text, /href="\/checks\?agent=lab-01&amp;page=2">Next/);
    const second = await viewer.get('/checks?agent=lab-01&page=2');
    assert.equal([...second.text.matchAll(/<a href="\/checks\/[^"]+">port/g)].length, 10);
    assert.match(second.text, /port 59/);
    assert.match((await viewer.get('/checks?agent=lab-01&page=99')).text, /page 2 of 2/, 'past the end: the last page');
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
