import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HistoryService } from '../history/history.service.js';
import { MetricSeriesRepository } from '../history/metric-series.repository.js';
import { ResultsRepository } from '../history/results.repository.js';
import { RollupsRepository } from '../history/rollups.repository.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultWriter, type StoredResult } from '../polling/result-writer.js';
import { CurrentState } from '../state/current-state.js';
import { openTestDatabase } from '../storage/testing.js';
import { AlertingController } from '../web/api/alerting.controller.js';
import { startApiTestApp, type ApiTestApp } from '../web/api/testing.js';
import type { AlertView } from './alert-views.js';
import { AlertingService } from './alerting.service.js';
import type { ForecastStatus } from './engine.js';
import { ForecastService } from './forecast.service.js';
import { alertingProviders } from './testing.js';

const GiB = 1024 ** 3;
const H = 3_600_000;

describe('ForecastService: forecast rules judged from the stored history', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  const now = Date.now();

  before(async () => {
    db = await openTestDatabase();
    const agent = await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    const host = await new ChecksRepository(db.dataSource).create({
      agentId: agent.id,
      name: 'disk',
      plugin: 'host-metrics',
      config: {},
      intervalMs: 600_000,
      timeoutMs: 5_000,
    });
    // Six hours of /data filling at 2.1 GiB/h towards 465 GiB (400 GiB now), and /boot, flat, with results only in the last 20 minutes.
    const results: StoredResult[] = Array.from({ length: 36 }, (_, i) => {
      const startedAt = now - 6 * H + (i + 1) * 600_000;
      return {
        checkId: host.id,
        seq: i + 1,
        startedAt,
        durationMs: 5,
        status: 0,
        reason: 'ok',
        summary: '',
        metrics: [
          { name: 'filesystem_used_bytes', value: 400 * GiB + (2.1 * GiB * (startedAt - now)) / H, unit: 'bytes', labels: { mount: '/data' } },
          ...(i >= 34 ? [{ name: 'filesystem_used_bytes', value: GiB, unit: 'bytes', labels: { mount: '/boot' } }] : []),
        ],
      };
    });
    const writer = new ResultWriter(db.dataSource);
    await writer.write({ agentId: agent.id, results, ackSeq: 36, spoolEpoch: 'spec' });
    await writer.close();
    // Series are listed once rolled up (HistoryUpkeep does it every minute).
    await new RollupsRepository(db.dataSource).rollUp(1000);
    api = await startApiTestApp({
      controllers: [AlertingController],
      dataSource: db.dataSource,
      providers: [...alertingProviders(), ResultsRepository, RollupsRepository, MetricSeriesRepository, HistoryService, ForecastService],
    });
    await api.app.get(CurrentState).refreshAgent(agent.id);
    const alerting = api.app.get(AlertingService);
    await alerting.ingest(
      { id: agent.id, name: 'pacs-01' },
      results.slice(-1).map((r) => ({ ...r, checkName: 'disk', plugin: 'host-metrics' })),
    );
    const put = await api.call('PUT', '/api/v1/alert-rules', [
      { kind: 'forecast', name: 'DiskFull', metric: 'filesystem_used_bytes', window: '6h', horizon: '48h', threshold: 465 * GiB, severity: 'critical' },
    ]);
    assert.equal(put.status, 200, put.text);
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('fires for the series heading for the threshold within the horizon, in words, and says why the other has no forecast', async () => {
    await api.app.get(ForecastService).round();
    const alerts = (await api.call<AlertView[]>('GET', '/api/v1/alerts')).json;
    assert.deepEqual(
      alerts.map((a) => [a.name, a.state, a.severity, a.labels.mount]),
      [['DiskFull', 'firing', 'critical', '/data']],
    );
    assert.match(alerts[0]!.summary, /^filesystem_used_bytes\{mount="\/data"\} of disk on pacs-01 is full \(465 GiB\) in about 3[01] h at \+2\.1 GiB\/h$/);

    const statuses = (await api.call<ForecastStatus[]>('GET', '/api/v1/alert-rules/forecasts')).json;
    assert.deepEqual(statuses.map((s) => [s.series, s.state]).sort(), [
      ['filesystem_used_bytes{mount="/boot"} of disk on pacs-01', 'insufficient'],
      ['filesystem_used_bytes{mount="/data"} of disk on pacs-01', 'crossing'],
    ]);
    assert.match(statuses.find((s) => s.state === 'insufficient')!.why, /no forecast, only 2 points in the last 6 h: a trend needs at least 5$/);

    // A list like the others: filtered by state or rule, the soonest crossing first, X-Total-Count.
    const crossing = await api.call<ForecastStatus[]>('GET', '/api/v1/alert-rules/forecasts?state=crossing');
    assert.deepEqual(
      [crossing.json.map((s) => s.series), crossing.headers.get('x-total-count')],
      [['filesystem_used_bytes{mount="/data"} of disk on pacs-01'], '1'],
    );
    assert.equal((await api.call<ForecastStatus[]>('GET', '/api/v1/alert-rules/forecasts?rule=DiskFull&sort=crossesAt')).json[0]?.state, 'crossing');
    assert.deepEqual((await api.call<ForecastStatus[]>('GET', '/api/v1/alert-rules/forecasts?rule=Other')).json, []);
  });

  it('shows the rule as PUT takes it back', async () => {
    const rules = (await api.call<unknown[]>('GET', '/api/v1/alert-rules')).json;
    assert.deepEqual(rules, [
      {
        kind: 'forecast',
        name: 'DiskFull',
        metric: 'filesystem_used_bytes',
        matchers: [],
        window: '6h',
        horizon: '2d',
        threshold: 465 * GiB,
        severity: 'critical',
      },
    ]);
    assert.equal((await api.call('PUT', '/api/v1/alert-rules', rules)).status, 200);
  });
});
