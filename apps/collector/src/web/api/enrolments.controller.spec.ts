import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSiteKey, SITE_KEY_RULE } from '#rounds/common';
import { freePort, waitUntil } from '../../../../../test/peers/process.js';
import { EnrolmentWorker } from '../../enrolment/enrolment.worker.js';
import { EnrolmentsRepository } from '../../enrolment/enrolments.repository.js';
import { EnrolmentsService, type EnrolmentView } from '../../enrolment/enrolments.service.js';
import { AgentClientPool } from '../../inventory/agent-client.pool.js';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { AgentsService } from '../../inventory/agents.service.js';
import { DependenciesService } from '../../inventory/dependencies.service.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { openTestDatabase } from '../../storage/testing.js';
import { EnrolmentsController } from './enrolments.controller.js';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';

interface SiteKeyBody {
  set: boolean;
  createdAt: number | null;
  createdBy: string | null;
  key?: string;
}

/**
 * The HTTP contract of site-key enrolment: /api/v1/site-key, POST /api/v1/agents/enrol and
 * /api/v1/enrolments — admins only, field-named 400s, 202 for work done in the background. The
 * worker runs as in the collector; nothing listens at the listed addresses, so every line ends
 * "not enrolled" (real agents: enrolments.service.spec.ts and test/e2e).
 */
describe('EnrolmentsController (/api/v1/site-key, /api/v1/agents/enrol, /api/v1/enrolments)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let dead: number;

  before(async () => {
    db = await openTestDatabase();
    dead = await freePort();
    api = await startApiTestApp({
      controllers: [EnrolmentsController],
      dataSource: db.dataSource,
      config: { pollTimeoutMs: 2000 },
      providers: [
        AgentsRepository,
        ChecksRepository,
        DependenciesService,
        AgentClientPool,
        AgentsService,
        EnrolmentsRepository,
        EnrolmentsService,
        EnrolmentWorker,
      ],
    });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('every route answers 401 without the API token', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/site-key'],
      ['POST', '/api/v1/site-key'],
      ['PUT', '/api/v1/site-key'],
      ['DELETE', '/api/v1/site-key'],
      ['POST', '/api/v1/agents/enrol'],
      ['GET', '/api/v1/enrolments'],
      ['GET', '/api/v1/enrolments/x'],
      ['POST', '/api/v1/enrolments/approve'],
      ['DELETE', '/api/v1/enrolments/x'],
    ] as const) {
      const res = await api.call(method, path, method === 'POST' || method === 'PUT' ? {} : undefined, null);
      assert.equal(res.status, 401, `${method} ${path}`);
    }
  });

  it('POST /agents/enrol without a site key is a 409 saying how to make one', async () => {
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/agents/enrol', { csv: `pacs-01,127.0.0.1:${dead}` });
    assert.equal(res.status, 409);
    assert.match(res.json.message, /^there is no site key yet: make one \(Agents → Enrol many agents, or POST \/api\/v1\/site-key\)/);
  });

  it('POST /site-key makes a key and shows it once (201); GET never shows it; PUT takes one made elsewhere; DELETE removes it (204, then 404)', async () => {
    assert.deepEqual((await api.call<SiteKeyBody>('GET', '/api/v1/site-key')).json, { set: false, createdAt: null, createdBy: null });
    const made = await api.call<SiteKeyBody>('POST', '/api/v1/site-key');
    assert.equal(made.status, 201);
    assert.match(made.json.key ?? '', /^[A-Za-z0-9][A-Za-z0-9_-]{42}$/);
    const status = await api.call<SiteKeyBody>('GET', '/api/v1/site-key');
    assert.deepEqual(Object.keys(status.json).sort(), ['createdAt', 'createdBy', 'set']);
    assert.equal(status.json.createdBy, 'admin');
    assert.ok(!status.text.includes(made.json.key!), 'the key in a GET');

    const own = makeSiteKey();
    const put = await api.call<SiteKeyBody>('PUT', '/api/v1/site-key', { key: own });
    assert.equal(put.status, 200);
    assert.equal(put.json.key, undefined, 'a key set by PUT is not echoed');
    assert.equal(put.json.set, true);

    assert.equal((await api.call('DELETE', '/api/v1/site-key')).status, 204);
    const again = await api.call<ApiErrorBody>('DELETE', '/api/v1/site-key');
    assert.deepEqual([again.status, again.json.message], [404, 'there is no site key to remove']);
    assert.equal((await api.call('PUT', '/api/v1/site-key', { key: own })).status, 200);
  });

  it('PUT /site-key refuses a key that is too short, has other characters, or is missing, naming the field', async () => {
    for (const body of [{ key: 'short' }, { key: `${makeSiteKey()}!` }, { key: `-${makeSiteKey()}` }, {}, { key: makeSiteKey(), extra: 1 }]) {
      const res = await api.call<ApiErrorBody>('PUT', '/api/v1/site-key', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.message, 'invalid site key');
      assert.equal(res.json.errors?.[0]?.field, 'extra' in body ? 'extra' : 'key', JSON.stringify(res.json.errors));
    }
    const res = await api.call<ApiErrorBody>('PUT', '/api/v1/site-key', { key: 'short' });
    assert.deepEqual(res.json.errors, [{ field: 'key', message: SITE_KEY_RULE }]);
  });

  it('POST /agents/enrol refuses a list with faults as a whole, each line named with what to write instead — nothing is saved', async () => {
    const csv = [
      'name,address,tags',
      'pacs 01,10.0.4.7:7443',
      'pacs-02,10.0.4.8:99999',
      'pacs-03',
      'pacs-04,pacs-04.example,agent=x',
      'pacs-05,10.0.4.9,site=north,extra',
    ].join('\n');
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/agents/enrol', { csv });
    assert.equal(res.status, 400);
    assert.equal(res.json.message, 'invalid list of agents');
    assert.deepEqual(res.json.errors, [
      { field: 'csv', message: 'line 2: name "pacs 01" must be 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit' },
      {
        field: 'csv',
        message:
          'line 3: address "10.0.4.8:99999" must be host:port (pacs-01.hospital.example:7443, 10.0.4.7:7443 or [fd00::7]:7443; the port is 7443 when left out)',
      },
      {
        field: 'csv',
        message:
          'line 4: has 1 field; write name,address[,tags] — e.g. pacs-01,10.0.4.7:7443,site=north;department=radiology (quote a field that holds a comma)',
      },
      {
        field: 'csv',
        message:
          'line 5: tags.agent: is a name Rounds gives every check (agent, agent_id, check, check_id, plugin, metric, alertname, severity, status) — pick another key',
      },
      {
        field: 'csv',
        message:
          'line 6: has 4 fields; write name,address[,tags] — e.g. pacs-01,10.0.4.7:7443,site=north;department=radiology (quote a field that holds a comma)',
      },
    ]);
    assert.deepEqual((await api.call('GET', '/api/v1/enrolments')).json, []);
    for (const [body, message] of [
      [{}, 'must be the list as text, one agent a line: name,address[,tags] — e.g. pacs-01,10.0.4.7:7443,site=north;department=radiology'],
      [
        { csv: '# only a comment\n\n' },
        'has no agents: write one agent a line, name,address[,tags] — e.g. pacs-01,10.0.4.7:7443,site=north;department=radiology',
      ],
    ] as const) {
      const empty = await api.call<ApiErrorBody>('POST', '/api/v1/agents/enrol', body);
      assert.deepEqual([empty.status, empty.json.errors], [400, [{ field: 'csv', message }]]);
    }
  });

  it('POST /agents/enrol answers 202 with the list and its lines; each is contacted in the background and a dead address is reported on its line', async () => {
    const csv = `name,address,tags\r\n"pacs-01",127.0.0.1:${dead},"site=north;department=radiology"\r\npacs-01,127.0.0.1:${dead}\r\n`;
    const res = await api.call<{ batch: string; enrolments: EnrolmentView[] }>('POST', '/api/v1/agents/enrol', { csv });
    assert.equal(res.status, 202, res.text);
    assert.match(res.json.batch, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      res.json.enrolments.map((e) => [e.line, e.name, e.address, e.tags, e.state, e.error]),
      [
        [2, 'pacs-01', `127.0.0.1:${dead}`, { department: 'radiology', site: 'north' }, 'contacting', null],
        [3, 'pacs-01', `127.0.0.1:${dead}`, {}, 'failed', 'line 2 names pacs-01 already — pick another name'],
      ],
    );
    let rows: EnrolmentView[] = [];
    await waitUntil(
      async () => {
        rows = (await api.call<EnrolmentView[]>('GET', `/api/v1/enrolments?batch=${res.json.batch}`)).json;
        return rows.every((r) => r.state === 'failed');
      },
      20_000,
      () => `the dead address still ${rows[0]?.state}`,
    );
    assert.match(rows[0]!.error ?? '', new RegExp(`^agent pacs-01 at 127\\.0\\.0\\.1:${dead}: refused the connection`));
    const one = await api.call<EnrolmentView>('GET', `/api/v1/enrolments/${rows[0]!.id}`);
    assert.deepEqual(one.json, rows[0]);
    assert.equal((await api.call<EnrolmentView[]>('GET', '/api/v1/enrolments?state=failed')).json.length, 2);
  });

  it('GET /enrolments refuses an unknown state or a batch that is no id, naming the parameter; an unknown enrolment is a 404', async () => {
    const bad = await api.call<ApiErrorBody>('GET', '/api/v1/enrolments?state=done&batch=x');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [
      { field: 'batch', message: 'must be the id of a submitted list (the `batch` its answer gave)' },
      { field: 'state', message: 'must be one of contacting, pending, approved, enrolled, failed' },
    ]);
    assert.equal((await api.call('GET', '/api/v1/enrolments/no-such')).status, 404);
  });

  it('POST /enrolments/approve: 400 without ids, 404 for an unknown one, 409 naming a line that does not wait — nothing approved', async () => {
    const none = await api.call<ApiErrorBody>('POST', '/api/v1/enrolments/approve', { ids: [] });
    assert.deepEqual([none.status, none.json.errors], [400, [{ field: 'ids', message: 'must name at least one enrolment' }]]);
    const unknown = await api.call<ApiErrorBody>('POST', '/api/v1/enrolments/approve', { ids: ['no-such'] });
    assert.deepEqual([unknown.status, unknown.json.message], [404, 'no enrolment with id "no-such" — list them with GET /api/v1/enrolments']);
    const failed = (await api.call<EnrolmentView[]>('GET', '/api/v1/enrolments?state=failed')).json[0]!;
    const conflict = await api.call<ApiErrorBody>('POST', '/api/v1/enrolments/approve', { ids: [failed.id] });
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict.json.errors, [
      { field: 'ids', message: `nothing approved: ${failed.name} (line ${failed.line}) is failed — only lines waiting for approval (pending) can be approved` },
    ]);
  });

  it('DELETE /enrolments/:id dismisses a line (204), then it is gone (404); nothing answered holds a token or the site key', async () => {
    const [row] = (await api.call<EnrolmentView[]>('GET', '/api/v1/enrolments?state=failed')).json;
    assert.equal((await api.call('DELETE', `/api/v1/enrolments/${row!.id}`)).status, 204);
    assert.equal((await api.call('DELETE', `/api/v1/enrolments/${row!.id}`)).status, 404);
    const list = await api.call('GET', '/api/v1/enrolments');
    assert.doesNotMatch(list.text, /token|"key"/);
  });
});
