import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertingService } from '../alerting/alerting.service.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { CurrentState } from '../state/current-state.js';
import { startWebTestApp, type FakeBrowser, type WebTestApp } from './testing.js';

describe('silences on the alerts page', () => {
  let web: WebTestApp;
  let viewer: FakeBrowser;
  let operator: FakeBrowser;

  before(async () => {
    web = await startWebTestApp();
    viewer = await web.browserAs('viewer');
    operator = await web.browserAs('operator', 'night-shift');
    await operator.get('/alerts');
  });
  after(() => web.close());

  it('refuses a silence without a comment or with a bad matcher beside the field, and adds nothing', async () => {
    const bad = await operator.post('/alerts/silences', { matchers: 'agent~~"x"', duration: '2h', endsAt: '', comment: '' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /name="matchers"[^>]*aria-invalid="true"/);
    assert.match(bad.text, /id="silence-matchers-error">`agent~~&quot;x&quot;` is not a matcher: write label=&quot;value&quot;/);
    assert.match(bad.text, /name="comment"[^>]*aria-invalid="true"/);
    assert.match(bad.text, /agent~~&quot;x&quot;<\/textarea>/, 'the form keeps what was typed');
    const noEnd = await operator.post('/alerts/silences', { matchers: 'agent="pacs-01"', duration: '', endsAt: '', comment: 'x' });
    assert.equal(noEnd.status, 400);
    assert.match(noEnd.text, /id="silence-endsAt-error">give either endsAt or duration/);
    assert.equal(web.app.get(AlertingService).silences().length, 0);
  });

  it('lets an operator add a silence for a duration, lists it for everyone, and expire it', async () => {
    const added = await operator.post('/alerts/silences', {
      matchers: 'agent="pacs-01"\ncheck=~"dicom.*"',
      duration: '2h',
      endsAt: '',
      comment: 'vendor replacing the disk',
    });
    assert.equal(added.status, 303, added.text.slice(0, 500));
    assert.equal(added.location, '/alerts?done=silenced');
    const [silence] = web.app.get(AlertingService).silences();
    assert.equal(silence?.createdBy, 'night-shift');
    assert.equal(silence.endsAt - silence.startsAt, 2 * 3_600_000);

    const seen = await viewer.get('/alerts');
    assert.match(seen.text, /agent=&quot;pacs-01&quot;, check=~&quot;dicom\.\*&quot;/);
    assert.match(seen.text, /vendor replacing the disk/);
    assert.doesNotMatch(seen.text, /Add silence|Expire/);
    assert.equal((await viewer.post(`/alerts/silences/${silence.id}/expire`)).status, 403);
    assert.equal((await viewer.post('/alerts/silences', { matchers: 'agent="x"', duration: '1h', comment: 'me' })).status, 403);

    const expired = await operator.post(`/alerts/silences/${encodeURIComponent(silence.id)}/expire`);
    assert.equal(expired.location, '/alerts?done=expired');
    assert.equal(
      web.app
        .get(AlertingService)
        .silences()
        .filter((s) => s.active).length,
      0,
    );
    assert.match((await operator.get('/alerts')).text, /No active silences/);
  });

  it('takes an end time in UTC instead of a duration', async () => {
    const added = await operator.post('/alerts/silences', { matchers: 'agent="lab-02"', duration: '', endsAt: '2099-01-02T03:04', comment: 'decommissioned' });
    assert.equal(added.status, 303, added.text.slice(0, 500));
    const silence = web.app
      .get(AlertingService)
      .silences()
      .find((s) => s.comment === 'decommissioned');
    assert.equal(new Date(silence!.endsAt).toISOString(), '2099-01-02T03:04:00.000Z');
  });

  it('pre-fills the form with a firing alert’s labels from its "Silence…" link, and the silence mutes it', async () => {
    const alerting = web.app.get(AlertingService);
    // An agent the collector knows (its state forgets alerts of unknown agents), gone unreachable.
    const agent = await new AgentsRepository(web.dataSource).create({ name: 'lab-09', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    await web.app.get(CurrentState).refreshAgent(agent.id);
    alerting.agentDown({ id: agent.id, name: agent.name }, 'connection refused');
    await alerting.tick();
    const [alert] = alerting.alerts();
    assert.equal(alert?.state, 'firing');
    const page = await operator.get('/alerts');
    const link = `/alerts?silence=${alert.fingerprint}#add-silence`;
    assert.ok(page.text.includes(`href="${link}"`), 'a Silence link beside the alert');
    assert.doesNotMatch((await viewer.get('/alerts')).text, /Silence…/);
    const form = await operator.get(link.split('#')[0]!);
    const matchers = /<textarea name="matchers"[^>]*>([^<]*)<\/textarea>/.exec(form.text)?.[1]?.replaceAll('&quot;', '"') ?? '';
    assert.match(matchers, /^alertname="AgentUnreachable"$/m);
    assert.match(matchers, /^agent="lab-09"$/m);
    const added = await operator.post('/alerts/silences', { matchers, duration: '1h', endsAt: '', comment: 'lab rewiring' });
    assert.equal(added.status, 303, added.text.slice(0, 500));
    await alerting.tick();
    assert.match((await operator.get('/alerts')).text, /muted: silenced by night-shift: lab rewiring/);
  });
});
