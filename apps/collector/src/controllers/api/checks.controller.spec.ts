import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PluginRegistry } from '#rounds/plugins';
import { AgentClientPool } from '../../repositories/agent-client.pool.js';
import { AgentsRepository } from '../../repositories/agents.repository.js';
import { ChecksRepository } from '../../repositories/checks.repository.js';
import { ResultsRepository } from '../../repositories/results.repository.js';
import { openTestDatabase } from '../../repositories/testing.js';
import { AgentsService } from '../../services/agents.service.js';
import { ChecksService } from '../../services/checks.service.js';
import { PLUGIN_REGISTRY } from '../../services/tokens.js';
import { ChecksController } from './checks.controller.js';
import { startApiTestApp, type ApiTestApp } from './testing.js';

describe('ChecksController (/api/v1/checks) limits', () => {
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
        { provide: PLUGIN_REGISTRY, useFactory: () => PluginRegistry.withBuiltins() },
        AgentClientPool,
        AgentsRepository,
        ChecksRepository,
        ResultsRepository,
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
      { field: 'intervalMs', message: 'interval 200ms is below the minimum of 1s — set ROUNDS_MIN_CHECK_INTERVAL_MS on the collector to allow shorter intervals' },
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
