import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HistoryService, type MetricHistory } from '../../history/history.service.js';
import { MetricSeriesRepository, type Series } from '../../history/metric-series.repository.js';
import { ResultsRepository } from '../../history/results.repository.js';
import { RollupsRepository } from '../../history/rollups.repository.js';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { ResultWriter } from '../../polling/result-writer.js';
import { openTestDatabase } from '../../storage/testing.js';
import { SeriesController } from './series.controller.js';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';

describe('SeriesController: metric series of a check and an agent’s host metrics over time', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let hostId = '';
  const now = Date.now();

  before(async () => {
    db = await openTestDatabase();
    const agent = await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    const host = await new ChecksRepository(db.dataSource).create({
      agentId: agent.id,
      name: 'host',
      plugin: 'host-metrics',
      config: {},
      intervalMs: 30_000,
      timeoutMs: 5_000,
    });
    hostId = host.id;
    const writer = new ResultWriter(db.dataSource);
    const results = Array.from({ length: 120 }, (_, i) => ({
      checkId: host.id,
      seq: i + 1,
      startedAt: now - 3_600_000 + i * 30_000,
      durationMs: 5,
      status: 0 as const,
      reason: '',
      summary: '',
      metrics: [
        { name: 'cpu_usage_ratio', value: i / 200, unit: 'ratio' },
        { name: 'filesystem_free_bytes', value: 1e9 - i, unit: 'bytes', labels: { mount: '/' } },
        { name: 'filesystem_free_bytes', value: 5e9, unit: 'bytes', labels: { mount: '/data' } },
      ],
    }));
    await writer.write({ agentId: agent.id, results, ackSeq: 120, spoolEpoch: 'spec' });
    await writer.close();
    await new RollupsRepository(db.dataSource).rollUp(1000);
    api = await startApiTestApp({
      controllers: [SeriesController],
      dataSource: db.dataSource,
      providers: [ResultsRepository, RollupsRepository, MetricSeriesRepository, HistoryService],
    });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('lists the series and answers a series’ history by name or id, at most the points asked', async () => {
    const listed = await api.call<Series[]>('GET', `/api/v1/checks/${hostId}/series`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(
      listed.json.map((s) => `${s.name}${JSON.stringify(s.labels)}`),
      ['cpu_usage_ratio{}', 'filesystem_free_bytes{"mount":"/"}', 'filesystem_free_bytes{"mount":"/data"}'],
    );
    const cpu = await api.call<MetricHistory>('GET', `/api/v1/checks/${hostId}/series/cpu_usage_ratio/history?from=${now - 3_600_000}&to=${now}&points=6`);
    assert.equal(cpu.status, 200, cpu.text);
    assert.ok(cpu.json.points.length <= 6);
    assert.equal(
      cpu.json.points.reduce((n, p) => n + p.samples, 0),
      120,
    );
    const data = listed.json[2]!;
    const agent = await api.call<MetricHistory>('GET', `/api/v1/agents/pacs-01/series/${data.id}/history?from=${now - 3_600_000}&to=${now}&points=2`);
    assert.equal(agent.status, 200, agent.text);
    assert.deepEqual(agent.json.series.labels, { mount: '/data' });
    assert.ok(agent.json.points.every((p) => p.samples === 0 || p.max === 5e9));
    assert.equal((await api.call<Series[]>('GET', '/api/v1/agents/pacs-01/series')).json.length, 3);
  });

  it('answers an ambiguous name with 400 naming series, an unknown series, check or agent with 404, a bad range with 400', async () => {
    const ambiguous = await api.call<ApiErrorBody>('GET', `/api/v1/checks/${hostId}/series/filesystem_free_bytes/history`);
    assert.equal(ambiguous.status, 400);
    assert.equal(ambiguous.json.errors?.[0]?.field, 'series');
    assert.match(ambiguous.json.errors?.[0]?.message ?? '', /has 2 series/);
    assert.equal((await api.call('GET', `/api/v1/checks/${hostId}/series/nope/history`)).status, 404);
    assert.equal((await api.call('GET', '/api/v1/checks/nope/series')).status, 404);
    assert.equal((await api.call('GET', '/api/v1/agents/nobody/series')).status, 404);
    const range = await api.call<ApiErrorBody>('GET', `/api/v1/checks/${hostId}/series/cpu_usage_ratio/history?from=${now}&to=${now - 1000}`);
    assert.equal(range.status, 400);
    assert.equal(range.json.errors?.[0]?.field, 'from');
    const points = await api.call<ApiErrorBody>('GET', `/api/v1/checks/${hostId}/series/cpu_usage_ratio/history?points=1000000`);
    assert.equal(points.json.errors?.[0]?.field, 'points');
  });
});
