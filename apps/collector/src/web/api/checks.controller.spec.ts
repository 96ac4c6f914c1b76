import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONTROL_CHARACTERS_MESSAGE, PluginRegistry } from '#rounds/plugins';
import { AgentClientPool } from '../../inventory/agent-client.pool.js';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { ResultsRepository } from '../../history/results.repository.js';
import { HistoryService } from '../../history/history.service.js';
import { openTestDatabase } from '../../storage/testing.js';
import { AgentsService } from '../../inventory/agents.service.js';
import { ChecksService } from '../../inventory/checks.service.js';
import { PLUGIN_REGISTRY } from '../../shared/tokens.js';
import { ChecksController } from './checks.controller.js';
import { startApiTestApp, type ApiTestApp } from './testing.js';

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
    api = await startApiTestApp({
      controllers: [ChecksController],
      dataSource: db.dataSource,
      config: { pollTimeoutMs: 1000, maxChecksPerAgent: 1000, minCheckIntervalMs: 1000 },
      providers: [
        { provide: PLUGIN_REGISTRY, useValue: PluginRegistry.withBuiltins() },
        AgentsRepository,
        ChecksRepository,
        ResultsRepository,
        HistoryService,
        AgentClientPool,
        AgentsService,
        ChecksService,
      ],
    });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('POST refuses a name with any control character with a 400 naming the field', async () => {
    for (const name of CONTROL_NAMES) {
      const res = await api.call('POST', '/api/v1/checks', newCheck(name));
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.deepEqual(res.json.errors, [{ field: 'name', message: CONTROL_CHARACTERS_MESSAGE }], JSON.stringify(name));
    }
    assert.equal((await api.call('GET', '/api/v1/checks')).json.length, 0, 'a check was saved');
  });

  it('PATCH refuses a control character in the new name with a 400 naming the field', async () => {
    const created = await api.call('POST', '/api/v1/checks', newCheck('PACS DICOM port'));
    assert.equal(created.status, 201, created.text);
    const res = await api.call('PATCH', `/api/v1/checks/${created.json.id}`, { name: 'PACS\nDICOM' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json.errors, [{ field: 'name', message: CONTROL_CHARACTERS_MESSAGE }]);
  });

  it('POST with a name the agent already has is a 409 naming the field', async () => {
    const res = await api.call('POST', '/api/v1/checks', newCheck('PACS DICOM port'));
    assert.equal(res.status, 409);
    const message = 'agent pacs-01 already has a check named "PACS DICOM port" — choose another name';
    assert.deepEqual(res.json, { statusCode: 409, error: 'Conflict', message, errors: [{ field: 'name', message }] });
  });

  it('PATCH renaming a check to a name its agent already has is a 409 naming the field, and nothing changes', async () => {
    const other = await api.call('POST', '/api/v1/checks', newCheck('PACS web'));
    assert.equal(other.status, 201, other.text);
    const res = await api.call('PATCH', `/api/v1/checks/${other.json.id}`, { name: 'PACS DICOM port' });
    assert.equal(res.status, 409, res.text);
    assert.deepEqual(res.json.errors, [{ field: 'name', message: 'agent pacs-01 already has a check named "PACS DICOM port" — choose another name' }]);
    assert.equal((await api.call('GET', `/api/v1/checks/${other.json.id}`)).json.name, 'PACS web');
    // Keeping its own name is not a clash.
    assert.equal((await api.call('PATCH', `/api/v1/checks/${other.json.id}`, { name: 'PACS web', enabled: false })).status, 200);
  });

  it('POST and PATCH with a field of the wrong type answer 400 naming the field, and save nothing', async () => {
    const res = await api.call('POST', '/api/v1/checks', { ...newCheck('typed'), intervalMs: '60s' });
    assert.deepEqual(
      [res.status, res.json],
      [
        400,
        {
          statusCode: 400,
          error: 'Bad Request',
          message: 'invalid check',
          errors: [{ field: 'intervalMs', message: 'Invalid input: expected number, received string' }],
        },
      ],
    );
    const [stored] = (await api.call('GET', '/api/v1/checks')).json;
    const patched = await api.call('PATCH', `/api/v1/checks/${stored.id}`, { enabled: 'no' });
    assert.equal(patched.status, 400, patched.text);
    assert.deepEqual(patched.json.errors, [{ field: 'enabled', message: 'Invalid input: expected boolean, received string' }]);
    assert.equal((await api.call('GET', `/api/v1/checks/${stored.id}`)).json.enabled, true);
  });

  it('POST without a JSON body answers 400 saying an object is expected', async () => {
    const res = await api.call('POST', '/api/v1/checks');
    assert.deepEqual(
      [res.status, res.json.message, res.json.errors],
      [400, 'invalid check', [{ field: '', message: 'Invalid input: expected object, received undefined' }]],
    );
  });

  it('GET /:id/results answers 400 naming limit when it is not a whole number in range, and 404 for an unknown check', async () => {
    const [stored] = (await api.call('GET', '/api/v1/checks')).json;
    for (const limit of ['ten', '0', '2.5', '10001']) {
      const res = await api.call('GET', `/api/v1/checks/${stored.id}/results?limit=${limit}`);
      assert.deepEqual(
        [res.status, res.json.message, res.json.errors],
        [400, 'invalid query', [{ field: 'limit', message: 'must be a whole number from 1 to 10000' }]],
        limit,
      );
    }
    assert.deepEqual((await api.call('GET', `/api/v1/checks/${stored.id}/results?limit=5`)).json, []);
    assert.equal((await api.call('GET', '/api/v1/checks/nope/results')).status, 404);
  });

  it('simultaneous POSTs of one name give one 201 and 409s, never a 500', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => api.call('POST', '/api/v1/checks', newCheck('raced'))));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], answers.map((a) => a.text).join('\n'));
    for (const a of answers.filter((x) => x.status === 409)) assert.equal(a.json.errors[0].field, 'name');
    const rows = await db.dataSource.query('SELECT count(*) AS n FROM checks WHERE agent_id = ? AND name = ?', [agentId, 'raced']);
    assert.equal(Number(rows[0].n), 1);
  });
});

describe('ChecksController (/api/v1/checks): limits', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  const tcp = { agent: 'pacs-01', plugin: 'tcp', config: { host: 'pacs', port: 104 } };

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    api = await startApiTestApp({
      controllers: [ChecksController],
      dataSource: db.dataSource,
      config: { pollTimeoutMs: 1000, maxChecksPerAgent: 2, minCheckIntervalMs: 1000 },
      providers: [
        { provide: PLUGIN_REGISTRY, useValue: PluginRegistry.withBuiltins() },
        AgentClientPool,
        AgentsRepository,
        ChecksRepository,
        ResultsRepository,
        HistoryService,
        AgentsService,
        ChecksService,
      ],
    });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('POST answers 400 naming intervalMs when the interval is below the minimum, and saves nothing', async () => {
    const res = await api.call('POST', '/api/v1/checks', { ...tcp, name: 'fast', intervalMs: 200, timeoutMs: 100 });
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
    const res = await api.call('POST', '/api/v1/checks', { ...tcp, name: 'slow', intervalMs: 5000, timeoutMs: 6000 });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors, [
      {
        field: 'timeoutMs',
        message: 'timeout 6s is longer than the interval 5s — a check must end before its next run is due: shorten the timeout or lengthen the interval',
      },
    ]);
  });

  it('PATCH answers 400 naming intervalMs when the new interval is shorter than the stored timeout', async () => {
    const created = await api.call('POST', '/api/v1/checks', { ...tcp, name: 'patched', intervalMs: 10_000, timeoutMs: 5000 });
    assert.equal(created.status, 201, created.text);
    const res = await api.call('PATCH', `/api/v1/checks/${created.json.id}`, { intervalMs: 3000 });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors, [
      {
        field: 'intervalMs',
        message: 'timeout 5s is longer than the interval 3s — a check must end before its next run is due: shorten the timeout or lengthen the interval',
      },
    ]);
    assert.equal((await api.call('GET', `/api/v1/checks/${created.json.id}`)).json.intervalMs, 10_000);
  });

  it('POST answers 400 naming agent once the agent has ROUNDS_MAX_CHECKS_PER_AGENT checks', async () => {
    assert.equal((await api.call('POST', '/api/v1/checks', { ...tcp, name: 'second' })).status, 201);
    const res = await api.call('POST', '/api/v1/checks', { ...tcp, name: 'third' });
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
