import assert from 'node:assert/strict';
import type { Provider } from '@nestjs/common';
import { after, before, describe, it } from 'node:test';
import { CONTROL_CHARACTERS_MESSAGE } from '#rounds/plugins';
import { REDACTED } from '#rounds/common';
import { isSealed } from '../../storage/secret-box.js';
import { AgentClientPool } from '../../inventory/agent-client.pool.js';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { DependenciesService } from '../../inventory/dependencies.service.js';
import { alertingProviders } from '../../alerting/testing.js';
import { ResultsRepository } from '../../history/results.repository.js';
import { RollupsRepository } from '../../history/rollups.repository.js';
import { MetricSeriesRepository } from '../../history/metric-series.repository.js';
import { HistoryService } from '../../history/history.service.js';
import { openTestDatabase } from '../../storage/testing.js';
import { AgentsService } from '../../inventory/agents.service.js';
import { ChecksService } from '../../inventory/checks.service.js';
import { CurrentState } from '../../state/current-state.js';
import { CheckStateEntity } from '../../storage/entities/index.js';
import type { CollectorConfig } from '../../config/env.js';
import { AgentsController } from './agents.controller.js';
import { ChecksController } from './checks.controller.js';
import { startApiTestApp, type ApiErrorBody, type ApiResponse, type ApiTestApp } from './testing.js';
import { problem } from './problem.js';

/** The parts of a check's view these specs read. */
interface CheckBody {
  id: string;
  name: string;
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
}

/** The checks API over `db` with the read model, the built-in plugins and `config` (limits, intervals). */
function checksApi(db: Awaited<ReturnType<typeof openTestDatabase>>, config: Partial<CollectorConfig>): Promise<ApiTestApp> {
  return startApiTestApp({
    controllers: [ChecksController],
    dataSource: db.dataSource,
    config,
    providers: checksProviders(),
  });
}

/** The checks and agents APIs' services over the read model, with the alerting they ask for "suppressed by". */
function checksProviders(): Provider[] {
  return [
    ResultsRepository,
    RollupsRepository,
    MetricSeriesRepository,
    HistoryService,
    AgentClientPool,
    AgentsRepository,
    ChecksRepository,
    DependenciesService,
    AgentsService,
    ChecksService,
    ...alertingProviders(),
  ];
}

/** Every C0 and C1 control character a name could smuggle, newline and NUL included. */
const CONTROL_NAMES = ['web\ncheck', 'web\u0000', 'web\tcheck', 'web\u001b[31m', 'web\u007f', 'web\u0085', 'web\u009b'];

describe('ChecksController (/api/v1/checks): names', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let agentId: string;

  const newCheck = (name: string) => ({ agent: 'pacs-01', plugin: 'tcp', name, config: { host: '127.0.0.1', port: 104 } });

  before(async () => {
    db = await openTestDatabase();
    agentId = (await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' })).id;
    api = await checksApi(db, { pollTimeoutMs: 1000, maxChecksPerAgent: 1000, minCheckIntervalMs: 1000 });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('POST refuses a name with any control character with a 400 naming the field', async () => {
    for (const name of CONTROL_NAMES) {
      const res = await api.call<ApiErrorBody>('POST', '/api/v1/checks', newCheck(name));
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.deepEqual(res.json.errors, [{ field: 'name', message: CONTROL_CHARACTERS_MESSAGE }], JSON.stringify(name));
    }
    assert.equal((await api.call<CheckBody[]>('GET', '/api/v1/checks')).json.length, 0, 'a check was saved');
  });

  it('PATCH refuses a control character in the new name with a 400 naming the field', async () => {
    const created = await api.call<CheckBody>('POST', '/api/v1/checks', newCheck('PACS DICOM port'));
    assert.equal(created.status, 201, created.text);
    const res = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${created.json.id}`, { name: 'PACS\nDICOM' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json.errors, [{ field: 'name', message: CONTROL_CHARACTERS_MESSAGE }]);
  });

  it('POST with a name the agent already has is a 409 naming the field', async () => {
    const res = await api.call('POST', '/api/v1/checks', newCheck('PACS DICOM port'));
    assert.equal(res.status, 409);
    const message = 'agent pacs-01 already has a check named "PACS DICOM port" — choose another name';
    assert.deepEqual(res.json, problem(409, message, '/api/v1/checks', [{ field: 'name', message }]));
  });

  it('PATCH renaming a check to a name its agent already has is a 409 naming the field, and nothing changes', async () => {
    const other = await api.call<CheckBody>('POST', '/api/v1/checks', newCheck('PACS web'));
    assert.equal(other.status, 201, other.text);
    const res = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${other.json.id}`, { name: 'PACS DICOM port' });
    assert.equal(res.status, 409, res.text);
    assert.deepEqual(res.json.errors, [{ field: 'name', message: 'agent pacs-01 already has a check named "PACS DICOM port" — choose another name' }]);
    assert.equal((await api.call<CheckBody>('GET', `/api/v1/checks/${other.json.id}`)).json.name, 'PACS web');
    // Keeping its own name is not a clash.
    assert.equal((await api.call('PATCH', `/api/v1/checks/${other.json.id}`, { name: 'PACS web', enabled: false })).status, 200);
  });

  it('names a check in a path by id, by agent/name, or by a name only one check has; an ambiguous name says how to pick', async () => {
    const agents = new AgentsRepository(db.dataSource);
    const second = await agents.create({ name: 'pacs-02', host: '127.0.0.1', port: 7444, token: 't', fingerprint: 'f' });
    await api.app.get(CurrentState).refreshAgent(second.id);
    const one = await api.call<CheckBody>('POST', '/api/v1/checks', newCheck('Orthanc REST'));
    const twin = await api.call<CheckBody>('POST', '/api/v1/checks', { ...newCheck('Orthanc REST'), agent: 'pacs-02' });
    const unique = await api.call<CheckBody>('POST', '/api/v1/checks', newCheck('Worklist C-FIND'));
    assert.deepEqual([one.status, twin.status, unique.status], [201, 201, 201]);

    const byName = await api.call<CheckBody>('GET', `/api/v1/checks/${encodeURIComponent('Worklist C-FIND')}`);
    assert.equal(byName.json.id, unique.json.id);
    const byPath = await api.call<CheckBody>('GET', `/api/v1/checks/${encodeURIComponent('pacs-02/Orthanc REST')}/state-history`);
    assert.equal(byPath.status, 200, byPath.text);
    const paused = await api.call<CheckBody>('PATCH', `/api/v1/checks/${encodeURIComponent('pacs-02/Orthanc REST')}`, { enabled: false });
    assert.deepEqual([paused.json.id, paused.json.enabled], [twin.json.id, false]);
    assert.equal((await api.call<CheckBody>('GET', `/api/v1/checks/${one.json.id}`)).json.enabled, true, 'the other one untouched');

    const ambiguous = await api.call<ApiErrorBody>('GET', `/api/v1/checks/${encodeURIComponent('Orthanc REST')}`);
    assert.equal(ambiguous.status, 409);
    assert.equal(ambiguous.json.message, '2 checks are named "Orthanc REST" (on pacs-01, pacs-02): name one as <agent>/Orthanc REST, or by its id');
    const missing = await api.call<ApiErrorBody>('GET', `/api/v1/checks/${encodeURIComponent('pacs-02/Worklist C-FIND')}`);
    assert.deepEqual(
      [missing.status, missing.json.message],
      [404, 'agent "pacs-02" has no check named "Worklist C-FIND" — GET /api/v1/checks?agent=pacs-02 lists its checks'],
    );
    assert.equal((await api.call('DELETE', `/api/v1/checks/${encodeURIComponent('nobody/x')}`)).status, 404);
    for (const res of [one, twin, unique]) assert.equal((await api.call('DELETE', `/api/v1/checks/${res.json.id}`)).status, 204);
  });

  it('redacts a custom plugin’s secrets by the schema its agent described, and keeps them when the placeholder comes back', async () => {
    const agents = new AgentsRepository(db.dataSource);
    const vault = await agents.create({ name: 'lab-vault', host: '127.0.0.1', port: 7445, token: 't', fingerprint: 'f' });
    const schema = { type: 'object', properties: { host: { type: 'string' }, password: { type: 'string', 'x-secret': true } }, additionalProperties: false };
    const described = {
      agentId: 'x',
      version: '1',
      plugins: [{ name: 'lab-vault', version: '1.0.0', description: 'a custom plugin', configSchemaJson: JSON.stringify(schema), metrics: [] }],
    };
    await agents.update(vault.id, { descriptionJson: JSON.stringify(described) });
    await api.app.get(CurrentState).refreshAgent(vault.id);

    const created = await api.call<CheckBody & { config: Record<string, unknown> }>('POST', '/api/v1/checks', {
      agent: 'lab-vault',
      plugin: 'lab-vault',
      name: 'vault',
      config: { host: 'lis.example', password: 'hunter2' },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.config, { host: 'lis.example', password: REDACTED });
    const shown = await api.call<{ config: Record<string, unknown> }>('GET', `/api/v1/checks/${created.json.id}`);
    assert.ok(!shown.text.includes('hunter2'), shown.text);

    const patched = await api.call('PATCH', `/api/v1/checks/${created.json.id}`, { config: { host: 'lis2.example', password: REDACTED } });
    assert.equal(patched.status, 200, patched.text);
    const repo = new ChecksRepository(db.dataSource);
    const row = (await repo.findById(created.json.id))!;
    assert.ok(!row.configJson.includes('hunter2'), `sealed at rest: ${row.configJson}`);
    assert.deepEqual(
      repo.openConfig(JSON.parse(row.configJson), row.name),
      { host: 'lis2.example', password: 'hunter2' },
      'the placeholder did not replace the secret',
    );
    assert.equal((await api.call('DELETE', `/api/v1/checks/${created.json.id}`)).status, 204);
  });

  it('validates a custom plugin’s config against the JSON Schema its agent described, naming each field, and refuses a plugin the agent lacks', async () => {
    const agents = new AgentsRepository(db.dataSource);
    const lab = await agents.create({ name: 'lab-printer', host: '127.0.0.1', port: 7446, token: 't', fingerprint: 'f' });
    const schema = {
      type: 'object',
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        tray: { type: 'string', enum: ['A4', 'A3'] },
      },
      required: ['host'],
      additionalProperties: false,
    };
    const plugin = (name: string, s: unknown) => ({ name, version: '1.0.0', description: 'custom', configSchemaJson: JSON.stringify(s), metrics: [] });
    const tcp = { name: 'tcp', version: '1.0.0', description: 'tcp', configSchemaJson: '{}', metrics: [] };
    await agents.update(lab.id, { descriptionJson: JSON.stringify({ agentId: 'lab', version: '0.0.9', plugins: [plugin('printer-status', schema), tcp] }) });
    await api.app.get(CurrentState).refreshAgent(lab.id);

    const bad = await api.call<ApiErrorBody>('POST', '/api/v1/checks', {
      agent: 'lab-printer',
      plugin: 'printer-status',
      name: 'printer',
      config: { port: 70000, tray: 'Letter', colour: true },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(
      bad.json.errors?.map((e) => e.field).sort(),
      ['config.colour', 'config.host', 'config.port', 'config.tray'],
      'every field at fault, by the described schema',
    );
    const good = await api.call<CheckBody>('POST', '/api/v1/checks', {
      agent: 'lab-printer',
      plugin: 'printer-status',
      name: 'printer',
      config: { host: 'printer-2', tray: 'A4' },
    });
    assert.equal(good.status, 201, good.text);
    const patched = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${good.json.id}`, { config: { host: '' } });
    assert.equal(patched.status, 400, patched.text);
    assert.deepEqual(
      patched.json.errors?.map((e) => e.field),
      ['config.host'],
    );

    // A built-in plugin this (older) agent does not have: refused when saved, saying to update it.
    const missing = await api.call<ApiErrorBody>('POST', '/api/v1/checks', {
      agent: 'lab-printer',
      plugin: 'http',
      name: 'web',
      config: { url: 'http://printer-2/' },
    });
    assert.equal(missing.status, 400, missing.text);
    assert.deepEqual(missing.json.errors, [
      {
        field: 'plugin',
        message: 'agent lab-printer has no plugin "http" (it has: printer-status, tcp) — it runs rounds-agent 0.0.9, older than this plugin: update it',
      },
    ]);
    const unknown = await api.call<ApiErrorBody>('POST', '/api/v1/checks', { agent: 'lab-printer', plugin: 'fax-status', name: 'fax', config: {} });
    assert.deepEqual(unknown.json.errors, [{ field: 'plugin', message: 'agent lab-printer has no plugin "fax-status" (it has: printer-status, tcp)' }]);
    assert.equal((await api.call('DELETE', `/api/v1/checks/${good.json.id}`)).status, 204);
  });

  it('seals a built-in plugin’s secrets at rest and hands them to the agent in plaintext', async () => {
    const created = await api.call<CheckBody>('POST', '/api/v1/checks', {
      agent: 'pacs-01',
      plugin: 'orthanc',
      name: 'Orthanc REST (sealed)',
      config: { url: 'http://orthanc.example:8042', username: 'rounds', password: 'orthanc-secret-1' },
    });
    assert.equal(created.status, 201, created.text);
    const repo = new ChecksRepository(db.dataSource);
    const row = (await repo.findById(created.json.id))!;
    const stored = JSON.parse(row.configJson) as { username: string; password: string };
    assert.equal(stored.username, 'rounds', 'what is not secret stays readable');
    assert.ok(isSealed(stored.password) && !row.configJson.includes('orthanc-secret-1'), row.configJson);
    // A rename keeps the sealed secret as it is; what the poller sends is plaintext.
    assert.equal((await api.call('PATCH', `/api/v1/checks/${created.json.id}`, { name: 'Orthanc REST' })).status, 200);
    assert.equal((JSON.parse((await repo.findById(created.json.id))!.configJson) as { password: string }).password, stored.password);
    const sent = (await repo.findEnabledByAgent(agentId)).find((c) => c.id === created.json.id)!;
    assert.equal((JSON.parse(sent.configJson) as { password: string }).password, 'orthanc-secret-1');
    assert.equal((await api.call('DELETE', `/api/v1/checks/${created.json.id}`)).status, 204);
  });

  it('sorts and pages the list on request, saying in X-Total-Count how many matched, and refuses a bad sort or page naming what is allowed', async () => {
    const names = ['Zeta port', 'Alpha port', 'Mid port'];
    const ids: string[] = [];
    for (const name of names) ids.push((await api.call<CheckBody>('POST', '/api/v1/checks', newCheck(name))).json.id);
    const page = await api.call<CheckBody[]>('GET', '/api/v1/checks?agent=pacs-01&sort=name&limit=2&offset=1');
    assert.equal(page.status, 200, page.text);
    const all = (await api.call<CheckBody[]>('GET', '/api/v1/checks?agent=pacs-01&sort=name')).json.map((c) => c.name);
    assert.deepEqual(all.slice(0, 3), [...all].sort().slice(0, 3), 'by name');
    assert.deepEqual(
      page.json.map((c) => c.name),
      all.slice(1, 3),
    );
    assert.equal(page.headers.get('x-total-count'), String(all.length));
    const reversed = (await api.call<CheckBody[]>('GET', '/api/v1/checks?agent=pacs-01&sort=-name')).json.map((c) => c.name);
    assert.deepEqual(reversed, [...all].reverse());
    assert.equal((await api.call<CheckBody[]>('GET', '/api/v1/checks?agent=pacs-01')).json.length, all.length, 'without limit: every check');

    const bad = await api.call<ApiErrorBody>('GET', '/api/v1/checks?sort=colour&limit=0&offset=-1');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [
      { field: 'sort', message: 'must be one of agent, -agent, name, -name, plugin, -plugin, state, -state, lastResult, -lastResult' },
      { field: 'limit', message: 'must be a whole number from 1 to 10000' },
      { field: 'offset', message: 'must be a whole number, 0 or more' },
    ]);
    for (const id of ids) assert.equal((await api.call('DELETE', `/api/v1/checks/${id}`)).status, 204);
  });

  it('takes intervals and timeouts as durations ("30s", "5m") or milliseconds, and says which bound a bad one breaks', async () => {
    const created = await api.call<CheckBody>('POST', '/api/v1/checks', { ...newCheck('written'), intervalMs: '5m', timeoutMs: '7.5s' });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.json.intervalMs, created.json.timeoutMs], [300_000, 7_500]);
    const patched = await api.call<CheckBody>('PATCH', `/api/v1/checks/${created.json.id}`, { intervalMs: 45_000 });
    assert.deepEqual([patched.status, patched.json.intervalMs], [200, 45_000]);
    const tooShort = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${created.json.id}`, { timeoutMs: '50ms', intervalMs: '2d' });
    assert.equal(tooShort.status, 400);
    assert.deepEqual(tooShort.json.errors, [
      { field: 'intervalMs', message: 'must be at most 24h, got 48h' },
      { field: 'timeoutMs', message: 'must be at least 100ms, got 50ms' },
    ]);
    assert.equal((await api.call<CheckBody>('GET', `/api/v1/checks/${created.json.id}`)).json.intervalMs, 45_000, 'nothing changed');
  });

  it('POST and PATCH with a field of the wrong type answer 400 naming the field, and save nothing', async () => {
    const res = await api.call('POST', '/api/v1/checks', { ...newCheck('typed'), intervalMs: 'every minute' });
    assert.deepEqual(
      [res.status, res.json],
      [
        400,
        problem(400, 'invalid check', '/api/v1/checks', [{ field: 'intervalMs', message: 'must be a duration like 30s, 5m, 1h or 1d, got "every minute"' }]),
      ],
    );
    const [stored] = (await api.call<CheckBody[]>('GET', '/api/v1/checks')).json;
    assert.ok(stored, 'a check is stored');
    const patched = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${stored.id}`, { enabled: 'no' });
    assert.equal(patched.status, 400, patched.text);
    assert.deepEqual(patched.json.errors, [{ field: 'enabled', message: 'Invalid input: expected boolean, received string' }]);
    assert.equal((await api.call<CheckBody>('GET', `/api/v1/checks/${stored.id}`)).json.enabled, true);
  });

  it('POST naming an agent or a plugin that does not exist, or a field no check has, answers 400 naming each, and saves nothing', async () => {
    const before = (await api.call<CheckBody[]>('GET', '/api/v1/checks')).json.length;
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/checks', { ...newCheck('ghost'), agent: 'pacs-09', plugin: 'fax-status' });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors?.[0], { field: 'agent', message: 'no agent with id or name "pacs-09"' });
    assert.equal(res.json.errors?.[1]?.field, 'plugin');
    assert.match(res.json.errors?.[1]?.message ?? '', /^unknown plugin "fax-status" \(known: .*\btcp\b/);
    const unknownField = await api.call<ApiErrorBody>('POST', '/api/v1/checks', { ...newCheck('ghost'), colour: 'red' });
    assert.equal(unknownField.status, 400, unknownField.text);
    assert.deepEqual(
      unknownField.json.errors?.map((e) => e.field),
      ['colour'],
    );
    assert.equal((await api.call<CheckBody[]>('GET', '/api/v1/checks')).json.length, before);
  });

  it('POST without a JSON body answers 400 saying an object is expected', async () => {
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/checks');
    assert.deepEqual(
      [res.status, res.json.message, res.json.errors],
      [400, 'invalid check', [{ field: '', message: 'Invalid input: expected object, received undefined' }]],
    );
  });

  it('GET /:id/results answers 400 naming limit when it is not a whole number in range, and 404 for an unknown check', async () => {
    const [stored] = (await api.call<CheckBody[]>('GET', '/api/v1/checks')).json;
    assert.ok(stored, 'a check is stored');
    for (const limit of ['ten', '0', '2.5', '10001']) {
      const res: ApiResponse<ApiErrorBody> = await api.call('GET', `/api/v1/checks/${stored.id}/results?limit=${limit}`);
      assert.deepEqual(
        [res.status, res.json.message, res.json.errors],
        [400, 'invalid query', [{ field: 'limit', message: 'must be a whole number from 1 to 10000' }]],
        limit,
      );
    }
    assert.deepEqual((await api.call('GET', `/api/v1/checks/${stored.id}/results?limit=5`)).json, []);
    assert.equal((await api.call('GET', '/api/v1/checks/nope/results')).status, 404);
  });

  it('GET /:id/history answers a bad range or point count with 400 naming the field, an unknown check with 404', async () => {
    const [stored] = (await api.call<CheckBody[]>('GET', '/api/v1/checks')).json;
    assert.ok(stored, 'a check is stored');
    const bad: [string, string, RegExp][] = [
      ['history?from=2026-12-03T10:00:00Z&to=2026-12-03T09:00:00Z', 'from', /^must be before to \(2026-12-03T09:00:00\.000Z\)$/],
      ['history?points=0', 'points', /^must be a whole number from 1 to 2000$/],
      ['history?points=1000000', 'points', /^must be a whole number from 1 to 2000$/],
      ['history?from=yesterday', 'from', /^must be a time like 2025-03-30T01:00:00Z/],
    ];
    for (const [query, field, message] of bad) {
      const res: ApiResponse<ApiErrorBody> = await api.call('GET', `/api/v1/checks/${stored.id}/${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.json.errors?.[0]?.field, field, query);
      assert.match(res.json.errors?.[0]?.message ?? '', message, query);
    }
    const points = await api.call<{ points: { t: number }[]; source: string }>('GET', `/api/v1/checks/${stored.id}/history?points=24`);
    assert.deepEqual([points.status, points.json.source], [200, '1h']);
    assert.ok(points.json.points.length > 0 && points.json.points.length <= 24, `${points.json.points.length} points`);
    assert.ok(
      points.json.points.every((p) => p.t % 3_600_000 === 0),
      'hour buckets start on the hour',
    );
    assert.equal((await api.call('GET', '/api/v1/checks/nope/history')).status, 404);
  });

  it('simultaneous POSTs of one name give one 201 and 409s, never a 500', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => api.call<ApiErrorBody>('POST', '/api/v1/checks', newCheck('raced'))));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], answers.map((a) => a.text).join('\n'));
    for (const a of answers.filter((x) => x.status === 409)) assert.equal(a.json.errors?.[0]?.field, 'name');
    const rows = await db.query<{ n: number | string }>('SELECT count(*) AS n FROM checks WHERE agent_id = ? AND name = ?', [agentId, 'raced']);
    assert.equal(Number(rows[0]?.n), 1);
  });
});

describe('ChecksController (/api/v1/checks): limits', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  const tcp = { agent: 'pacs-01', plugin: 'tcp', config: { host: 'pacs', port: 104 } };

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    api = await checksApi(db, { pollTimeoutMs: 1000, maxChecksPerAgent: 2, minCheckIntervalMs: 1000 });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('POST answers 400 naming intervalMs when the interval is below the minimum, and saves nothing', async () => {
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/checks', { ...tcp, name: 'fast', intervalMs: 200, timeoutMs: 100 });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors, [
      {
        field: 'intervalMs',
        message: 'interval 200ms is below the minimum of 1s — set ROUNDS_MIN_CHECK_INTERVAL_MS on the collector to allow shorter intervals',
      },
    ]);
    assert.deepEqual((await api.call('GET', '/api/v1/checks')).json, []);
  });

  it('POST answers 400 naming timeoutMs when the timeout is longer than the interval', async () => {
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/checks', { ...tcp, name: 'slow', intervalMs: 5000, timeoutMs: 6000 });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors, [
      {
        field: 'timeoutMs',
        message: 'timeout 6s is longer than the interval 5s — a check must end before its next run is due: shorten the timeout or lengthen the interval',
      },
    ]);
  });

  it('PATCH answers 400 naming intervalMs when the new interval is shorter than the stored timeout', async () => {
    const created = await api.call<CheckBody>('POST', '/api/v1/checks', { ...tcp, name: 'patched', intervalMs: 10_000, timeoutMs: 5000 });
    assert.equal(created.status, 201, created.text);
    const res = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${created.json.id}`, { intervalMs: 3000 });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors, [
      {
        field: 'intervalMs',
        message: 'timeout 5s is longer than the interval 3s — a check must end before its next run is due: shorten the timeout or lengthen the interval',
      },
    ]);
    assert.equal((await api.call<CheckBody>('GET', `/api/v1/checks/${created.json.id}`)).json.intervalMs, 10_000);
  });

  it('POST answers 400 naming agent once the agent has ROUNDS_MAX_CHECKS_PER_AGENT checks', async () => {
    assert.equal((await api.call('POST', '/api/v1/checks', { ...tcp, name: 'second' })).status, 201);
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/checks', { ...tcp, name: 'third' });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors, [
      {
        field: 'agent',
        message:
          'agent pacs-01 has 2 checks, the most one agent may have is 2 — set ROUNDS_MAX_CHECKS_PER_AGENT on the collector to allow more, or add the check to another agent',
      },
    ]);
  });
});

describe('ChecksController (/api/v1/checks): the read model behind the lists', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let agentId: string;

  interface StatefulCheck extends CheckBody {
    state: { status: string; summary: string; stale: boolean; ageMs: number | null; agentState: string } | null;
  }

  before(async () => {
    db = await openTestDatabase();
    agentId = (await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' })).id;
    api = await checksApi(db, { pollTimeoutMs: 1000, maxChecksPerAgent: 1000, minCheckIntervalMs: 1000, pollIntervalMs: 10_000 });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('every route answers 401 without the API token', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/checks'],
      ['GET', '/api/v1/checks/x'],
      ['POST', '/api/v1/checks'],
      ['PATCH', '/api/v1/checks/x'],
      ['DELETE', '/api/v1/checks/x'],
      ['GET', '/api/v1/checks/x/results'],
      ['POST', '/api/v1/checks/x/run'],
    ] as const) {
      assert.equal((await api.call(method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, null)).status, 401, `${method} ${path}`);
    }
  });

  it('shows a new check at once, its state as the writer commits it, stale while its agent is not UP, and forgets it when deleted', async () => {
    const created = await api.call<CheckBody>('POST', '/api/v1/checks', {
      agent: 'pacs-01',
      plugin: 'tcp',
      name: 'PACS port',
      config: { host: 'pacs', port: 104 },
      intervalMs: 30_000,
    });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;
    const listed = await api.call<StatefulCheck[]>('GET', '/api/v1/checks');
    assert.deepEqual(
      listed.json.map((c) => [c.name, c.state]),
      [['PACS port', null]],
    );

    const state = api.app.get(CurrentState);
    const now = Date.now();
    state.statesCommitted([
      Object.assign(new CheckStateEntity(), {
        checkId: id,
        status: 0,
        reason: 'ok',
        summary: 'connected in 1 ms',
        lastResultAt: now - 1000,
        lastOkAt: now - 1000,
        lastChangeAt: now - 1000,
        consecutiveFailures: 0,
        lastDurationMs: 1,
        lastSeq: 1,
        metricsJson: '[]',
      }),
    ]);
    const unknown = (await api.call<StatefulCheck>('GET', `/api/v1/checks/${id}`)).json.state;
    assert.equal(unknown?.summary, 'connected in 1 ms');
    assert.equal(unknown?.stale, true, 'a result from an agent never seen UP was shown as fresh');
    assert.equal(unknown?.agentState, 'UNKNOWN');

    state.agentPolled(agentId, { state: 'UP', lastSeenAt: now });
    const fresh = (await api.call<StatefulCheck[]>('GET', '/api/v1/checks?agent=pacs-01')).json[0]?.state;
    assert.equal(fresh?.stale, false);
    assert.ok(fresh?.ageMs !== null && fresh.ageMs >= 1000, `ageMs ${fresh?.ageMs}`);

    state.agentPolled(agentId, { state: 'DOWN' });
    assert.equal((await api.call<StatefulCheck>('GET', `/api/v1/checks/${id}`)).json.state?.stale, true, "a DOWN agent's check was shown as fresh");

    assert.equal((await api.call('DELETE', `/api/v1/checks/${id}`)).status, 204);
    assert.equal((await api.call('GET', `/api/v1/checks/${id}`)).status, 404);
    assert.deepEqual((await api.call<StatefulCheck[]>('GET', '/api/v1/checks')).json, []);
  });
});

describe('ChecksController and AgentsController: tags', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;

  interface TaggedCheck extends CheckBody {
    tags: Record<string, string>;
    effectiveTags: Record<string, string>;
  }

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' });
    await new AgentsRepository(db.dataSource).create({ name: 'ris-01', host: '127.0.0.1', port: 7444, token: 't', fingerprint: 'f' });
    api = await startApiTestApp({
      controllers: [ChecksController, AgentsController],
      dataSource: db.dataSource,
      config: { pollTimeoutMs: 1000, maxChecksPerAgent: 1000, minCheckIntervalMs: 1000 },
      providers: checksProviders(),
    });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('a check carries its agent’s tags with its own over them; the list filters by a tag; each change is audited', async () => {
    const ct = await api.call<TaggedCheck>('POST', '/api/v1/checks', {
      agent: 'pacs-01',
      plugin: 'tcp',
      name: 'CT store',
      config: { host: 'ct', port: 104 },
      tags: { modality: 'CT', site: 'annex' },
    });
    assert.equal(ct.status, 201, ct.text);
    assert.deepEqual(ct.json.tags, { modality: 'CT', site: 'annex' });
    const ris = await api.call<TaggedCheck>('POST', '/api/v1/checks', {
      agent: 'ris-01',
      plugin: 'tcp',
      name: 'RIS port',
      config: { host: 'ris', port: 2575 },
    });
    assert.equal(ris.status, 201, ris.text);

    const tagged = await api.call<{ tags: Record<string, string> }>('PATCH', '/api/v1/agents/pacs-01', { tags: { site: 'north', department: 'radiology' } });
    assert.equal(tagged.status, 200, tagged.text);
    assert.deepEqual(tagged.json.tags, { department: 'radiology', site: 'north' });
    const shown = await api.call<TaggedCheck>('GET', `/api/v1/checks/${ct.json.id}`);
    assert.deepEqual(shown.json.effectiveTags, { department: 'radiology', modality: 'CT', site: 'annex' });

    const byDepartment = await api.call<TaggedCheck[]>('GET', '/api/v1/checks?tag=department=radiology');
    assert.deepEqual(
      byDepartment.json.map((c) => c.name),
      ['CT store'],
    );
    assert.deepEqual(
      (await api.call<TaggedCheck[]>('GET', '/api/v1/checks?tag=site=north')).json.map((c) => c.name),
      [],
      'the check’s own site=annex wins over its agent’s site=north',
    );

    const patched = await api.call<TaggedCheck>('PATCH', `/api/v1/checks/${ris.json.id}`, { tags: { site: 'south' } });
    assert.deepEqual(patched.json.tags, { site: 'south' });
    assert.deepEqual(
      (await api.call<TaggedCheck[]>('GET', '/api/v1/checks?tag=site')).json.map((c) => c.name),
      ['CT store', 'RIS port'],
    );
    const audit = await db.dataSource.query<{ action: string }[]>("SELECT action FROM audit_log WHERE action IN ('agent.update', 'check.update') ORDER BY id");
    assert.deepEqual(
      audit.map((a) => a.action),
      ['agent.update', 'check.update'],
    );
  });

  it('refuses a bad tag key or value, a reserved key, or too many tags with 400 naming the field, and saves nothing', async () => {
    const cases: [unknown, string][] = [
      [{ Site: 'north' }, 'tags.Site'],
      [{ site: '' }, 'tags.site'],
      [{ site: 'north\nwest' }, 'tags.site'],
      [{ agent: 'x' }, 'tags.agent'],
      [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])), 'tags'],
      [['site=north'], 'tags'],
    ];
    for (const [tags, field] of cases) {
      const res = await api.call<ApiErrorBody>('PATCH', '/api/v1/agents/pacs-01', { tags });
      assert.equal(res.status, 400, JSON.stringify(tags));
      assert.equal(res.json.errors?.[0]?.field, field, JSON.stringify(res.json.errors));
      const check = await api.call<ApiErrorBody>('POST', '/api/v1/checks', { agent: 'ris-01', plugin: 'tcp', name: 'x', config: { host: 'x', port: 1 }, tags });
      assert.equal(check.status, 400, JSON.stringify(tags));
    }
    const unchanged = await api.call<{ tags: Record<string, string> }>('GET', '/api/v1/agents/pacs-01');
    assert.deepEqual(unchanged.json.tags, { department: 'radiology', site: 'north' });
    assert.equal((await api.call<ApiErrorBody>('GET', '/api/v1/checks?tag=Bad!')).status, 400);
    assert.equal((await api.call('PATCH', '/api/v1/agents/nobody', { tags: {} })).status, 404);
  });
});

describe('ChecksController and AgentsController: dependencies', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;

  interface DependentCheck extends CheckBody {
    dependsOn: string[];
    suppressedBy: unknown[];
  }
  const tcp = (agent: string, name: string, dependsOn?: string[]) => ({
    agent,
    plugin: 'tcp',
    name,
    config: { host: '127.0.0.1', port: 104 },
    ...(dependsOn ? { dependsOn } : {}),
  });

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' });
    await new AgentsRepository(db.dataSource).create({ name: 'router', host: '127.0.0.1', port: 7444, token: 't', fingerprint: 'f' });
    api = await checksApiWith(db, [ChecksController, AgentsController]);
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('takes parents as check:<agent>/<check> and agent:<name>, stores them by id and shows them by name, renamed parents included', async () => {
    const port = await api.call<DependentCheck>('POST', '/api/v1/checks', tcp('pacs-01', 'DICOM port'));
    const web = await api.call<DependentCheck>('POST', '/api/v1/checks', tcp('pacs-01', 'PACS web', ['check:pacs-01/DICOM port', 'agent:router']));
    assert.equal(web.status, 201, web.text);
    assert.deepEqual(web.json.dependsOn, ['check:pacs-01/DICOM port', 'agent:router']);
    const stored = await new ChecksRepository(db.dataSource).findById(web.json.id);
    assert.deepEqual(JSON.parse(stored!.dependsOnJson), [
      { kind: 'check', id: port.json.id },
      { kind: 'agent', id: (await new AgentsRepository(db.dataSource).findByName('router'))!.id },
    ]);
    await api.call('PATCH', `/api/v1/checks/${port.json.id}`, { name: 'DICOM 104' });
    const got = await api.call<DependentCheck>('GET', `/api/v1/checks/${web.json.id}`);
    assert.deepEqual(got.json.dependsOn, ['check:pacs-01/DICOM 104', 'agent:router']);
    assert.deepEqual(got.json.suppressedBy, [], 'nothing is down');
  });

  it('refuses an unknown or ambiguous parent with 400 naming dependsOn.<i>, and saves nothing', async () => {
    const res = await api.call<ApiErrorBody>('POST', '/api/v1/checks', tcp('pacs-01', 'HL7', ['agent:nowhere', 'check:pacs-01/none', 'router']));
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(
      res.json.errors?.map((e) => e.field),
      ['dependsOn.2'],
      'the shape is judged first: a parent without check: or agent: is refused before any look-up',
    );
    const lookups = await api.call<ApiErrorBody>('POST', '/api/v1/checks', tcp('pacs-01', 'HL7', ['agent:nowhere', 'check:pacs-01/none']));
    assert.deepEqual(lookups.json.errors, [
      { field: 'dependsOn.0', message: 'no agent with id or name "nowhere" — GET /api/v1/agents lists them' },
      { field: 'dependsOn.1', message: 'agent "pacs-01" has no check named "none" — GET /api/v1/checks?agent=pacs-01 lists its checks' },
    ]);
    assert.equal((await api.call<DependentCheck[]>('GET', '/api/v1/checks')).json.filter((c) => c.name === 'HL7').length, 0);
  });

  it('refuses a cycle with 400 naming it, a check → agent → its own check included, and keeps the stored parents', async () => {
    const a = await api.call<DependentCheck>('POST', '/api/v1/checks', tcp('router', 'a'));
    const b = await api.call<DependentCheck>('POST', '/api/v1/checks', tcp('router', 'b', ['check:router/a']));
    const loop = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${a.json.id}`, { dependsOn: ['check:router/b'] });
    assert.equal(loop.status, 400, loop.text);
    assert.deepEqual(loop.json.errors, [
      {
        field: 'dependsOn',
        message: 'these parents would close a dependency cycle: check:router/a → check:router/b → check:router/a — remove one of its links',
      },
    ]);
    const self = await api.call<ApiErrorBody>('PATCH', `/api/v1/checks/${b.json.id}`, { dependsOn: ['check:router/b'] });
    assert.match(self.json.errors?.[0]?.message ?? '', /check:router\/b → check:router\/b/);
    const agentLoop = await api.call<ApiErrorBody>('PATCH', '/api/v1/agents/router', { dependsOn: ['check:router/a'] });
    assert.equal(agentLoop.status, 400, agentLoop.text);
    assert.deepEqual(agentLoop.json.errors, [
      { field: 'dependsOn', message: 'these parents would close a dependency cycle: agent:router → check:router/a → agent:router — remove one of its links' },
    ]);
    assert.deepEqual((await api.call<DependentCheck>('GET', `/api/v1/checks/${a.json.id}`)).json.dependsOn, []);
    const agentOk = await api.call<{ dependsOn: string[] }>('PATCH', '/api/v1/agents/router', { dependsOn: ['check:pacs-01/DICOM 104'] });
    assert.deepEqual([agentOk.status, agentOk.json.dependsOn], [200, ['check:pacs-01/DICOM 104']]);
  });
});

function checksApiWith(
  db: Awaited<ReturnType<typeof openTestDatabase>>,
  controllers: Parameters<typeof startApiTestApp>[0]['controllers'],
): Promise<ApiTestApp> {
  return startApiTestApp({
    controllers,
    dataSource: db.dataSource,
    config: { pollTimeoutMs: 1000, maxChecksPerAgent: 1000, minCheckIntervalMs: 1000 },
    providers: checksProviders(),
  });
}
