import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksService } from '../inventory/checks.service.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { CurrentState } from '../state/current-state.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { AlertingService } from '../alerting/alerting.service.js';
import { startWebTestApp, type FakeBrowser, type WebTestApp } from './testing.js';

const SECRET = 'orthanc-Pa55-do-not-show';

/**
 * The check form's secrets, without a browser: a stored password is never put in a page, an
 * empty password field keeps it, one typed before "test now" is carried sealed (never in clear)
 * to the save, and a viewer's forged post changes nothing.
 */
describe('the check form: secrets are write-only', () => {
  let web: WebTestApp;
  let operator: FakeBrowser;
  let checkId = '';
  /** The stored config with its secrets opened (they are sealed at rest): what the agent would get. */
  const storedOf = async (id: string) => {
    const check = await web.app.get(ChecksService).get(id);
    return new ChecksRepository(web.dataSource).openConfig(JSON.parse(check.configJson), check.name) as { password?: string; username?: string };
  };
  const stored = () => storedOf(checkId);

  before(async () => {
    web = await startWebTestApp();
    const agent = await new AgentsRepository(web.dataSource).create({ name: 'pacs', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    await web.app.get(CurrentState).refreshAgent(agent.id);
    const check = await web.app.get(ChecksService).create(
      {
        agent: 'pacs',
        plugin: 'orthanc',
        name: 'Orthanc',
        config: { url: 'http://127.0.0.1:8042', username: 'rounds', password: SECRET },
        intervalMs: 60_000,
        timeoutMs: 10_000,
        enabled: true,
        dependsOn: [],
        tags: {},
      },
      SPEC_AUDIT,
    );
    checkId = check.id;
    operator = await web.browserAs('operator');
  });
  after(() => web.close());

  it('never puts a stored secret in the edit form, and says one is set', async () => {
    const page = await operator.get(`/checks/${checkId}/edit`);
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes(SECRET), 'the stored password is in the page');
    assert.match(
      page.text,
      /<input type="password" id="f-config-password" name="config\.password" value autocomplete="new-password" placeholder="set — leave empty to keep"/,
    );
    assert.match(page.text, /id="f-config-username" name="config.username" value="rounds"/);
  });

  it('keeps the stored secret when its field is left empty, and replaces it when one is typed', async () => {
    const base = {
      name: 'Orthanc',
      interval: '1m',
      timeout: '10s',
      enabled: 'true',
      tags: '',
      'config.url': 'http://127.0.0.1:8042',
      'config.username': 'svc',
    };
    const kept = await operator.post(`/checks/${checkId}/edit`, { ...base, 'config.password': '', action: 'save' });
    assert.equal(kept.status, 303, kept.text.slice(0, 400));
    assert.deepEqual([(await stored()).username, (await stored()).password], ['svc', SECRET]);
    await operator.get(`/checks/${checkId}/edit`);
    const replaced = await operator.post(`/checks/${checkId}/edit`, { ...base, 'config.password': 'new-Secret-2', action: 'save' });
    assert.equal(replaced.status, 303);
    assert.equal((await stored()).password, 'new-Secret-2');
  });

  it('carries a password typed before "test now" sealed, never in clear, to the save', async () => {
    await operator.get('/checks/new?agent=pacs&plugin=orthanc');
    const fields = {
      agent: 'pacs',
      plugin: 'orthanc',
      name: 'Orthanc 2',
      interval: '1m',
      timeout: '10s',
      enabled: 'true',
      tags: '',
      'config.url': 'http://127.0.0.1:9',
      'config.password': 'typed-Secret-3',
      'config.username': 'svc',
    };
    // The agent is not running: the test fails, and says so — the form comes back with what was typed.
    const tested = await operator.post('/checks/new', { ...fields, action: 'test' });
    assert.equal(tested.status, 502, tested.text.slice(0, 400));
    assert.ok(!tested.text.includes('typed-Secret-3'), 'the typed password came back in clear');
    const sealed = /name="sealed:config\.password" value="([^"]+)"/.exec(tested.text)?.[1];
    assert.ok(sealed, 'no sealed password in the form');
    const saved = await operator.post('/checks/new', {
      ...fields,
      'config.password': '',
      'sealed:config.password': sealed.replace(/&amp;/g, '&'),
      action: 'save',
    });
    assert.equal(saved.status, 303, saved.text.slice(0, 600));
    const id = /\/checks\/([0-9a-f-]{36})/.exec(saved.location ?? '')![1]!;
    assert.equal((await storedOf(id)).password, 'typed-Secret-3');
  });

  it('refuses a forged sealed value instead of saving it', async () => {
    await operator.get('/checks/new?agent=pacs&plugin=orthanc');
    const answer = await operator.post('/checks/new', {
      agent: 'pacs',
      plugin: 'orthanc',
      name: 'Orthanc 3',
      interval: '1m',
      timeout: '10s',
      'config.url': 'http://127.0.0.1:9',
      'config.username': 'svc',
      'sealed:config.password': 'not-a-sealed-value',
      action: 'save',
    });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /id="f-config-password-error">the value typed before the test could not be kept: type it again/);
  });

  it('shows a viewer no buttons on a check and refuses their forged changes', async () => {
    const viewer = await web.browserAs('viewer');
    const page = await viewer.get(`/checks/${checkId}`);
    assert.doesNotMatch(page.text, /\/edit"|Check now|Delete/);
    for (const path of [`/checks/${checkId}/edit`, `/checks/${checkId}/pause`, `/checks/${checkId}/delete`, '/checks/new'])
      assert.equal((await viewer.post(path, { name: 'x', action: 'save' })).status, 403, path);
    assert.equal((await stored()).password, 'new-Secret-2');
  });
});

/** The form's "Depends on" field and the check page's "suppressed by", as an operator sees them. */
describe('the check form: dependencies', () => {
  let web: WebTestApp;
  let operator: FakeBrowser;
  const ids: Record<string, string> = {};
  const agent = { id: '', name: 'pacs' };

  before(async () => {
    web = await startWebTestApp();
    agent.id = (await new AgentsRepository(web.dataSource).create({ name: 'pacs', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' })).id;
    await web.app.get(CurrentState).refreshAgent(agent.id);
    for (const name of ['port', 'web']) {
      const check = await web.app.get(ChecksService).create(
        {
          agent: 'pacs',
          plugin: 'tcp',
          name,
          config: { host: '127.0.0.1', port: 104 },
          intervalMs: 60_000,
          timeoutMs: 10_000,
          enabled: true,
          dependsOn: [],
          tags: {},
        },
        SPEC_AUDIT,
      );
      ids[name] = check.id;
    }
    operator = await web.browserAs('operator');
  });
  after(() => web.close());

  const form = (dependsOn: string) => ({
    name: 'web',
    interval: '1m',
    timeout: '10s',
    enabled: 'true',
    tags: '',
    dependsOn,
    'config.host': '127.0.0.1',
    'config.port': '104',
    action: 'save',
  });

  it('saves parents typed one a line, shows them in the form and on the page, and refuses a cycle beside the field', async () => {
    await operator.get(`/checks/${ids['web']}/edit`);
    const saved = await operator.post(`/checks/${ids['web']}/edit`, form('check:pacs/port\n\n'));
    assert.equal(saved.status, 303, saved.text.slice(0, 600));
    const edit = await operator.get(`/checks/${ids['web']}/edit`);
    assert.match(edit.text, /<textarea id="f-depends" name="dependsOn"[^>]*>check:pacs\/port<\/textarea>/);
    assert.match((await operator.get(`/checks/${ids['web']}`)).text, /<dt>Depends on<\/dt><dd>check:pacs\/port<\/dd>/);

    await operator.get(`/checks/${ids['port']}/edit`);
    const loop = await operator.post(`/checks/${ids['port']}/edit`, { ...form('check:pacs/web'), name: 'port' });
    assert.equal(loop.status, 400);
    assert.match(
      loop.text,
      /id="f-depends-error">these parents would close a dependency cycle: check:pacs\/port → check:pacs\/web → check:pacs\/port — remove one of its links/,
    );
  });

  it('says on the check page what suppresses its alerts while its parent is down', async () => {
    const alerting = web.app.get(AlertingService);
    const result = (checkId: string, checkName: string, at: number) => ({
      checkId,
      checkName,
      plugin: 'tcp',
      seq: 0,
      startedAt: at,
      durationMs: 3,
      status: 2 as const,
      reason: 'refused',
      summary: 'connection refused',
      metrics: [],
    });
    const start = Date.now() - 10 * 60_000;
    for (let i = 0; i < 3; i++)
      await alerting.ingest(agent, [result(ids['port']!, 'port', start + i * 60_000), result(ids['web']!, 'web', start + i * 60_000)]);
    const page = await operator.get(`/checks/${ids['web']}`);
    assert.match(page.text, /No new alerts: suppressed by check port \(is down\)\./);
    assert.doesNotMatch((await operator.get(`/checks/${ids['port']}`)).text, /No new alerts/);
  });
});
