import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertingService } from '../../alerting/alerting.service.js';
import { alertingProviders } from '../../alerting/testing.js';
import { HistoryService } from '../../history/history.service.js';
import { SPEC_AUDIT } from '../../audit/testing.js';
import { ResultsRepository } from '../../history/results.repository.js';
import { RollupsRepository } from '../../history/rollups.repository.js';
import { MetricSeriesRepository } from '../../history/metric-series.repository.js';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { ResultWriter } from '../../polling/result-writer.js';
import type { StatusCode } from '../../storage/entities/index.js';
import { openTestDatabase } from '../../storage/testing.js';
import { ReportsController } from './reports.controller.js';
import { SlaReportService } from '../sla-report.service.js';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';

const NOV = Date.UTC(2026, 10, 1);
const DEC = Date.UTC(2026, 11, 1);

describe('ReportsController: agent uptime and the monthly SLA report', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let echoId = '';

  before(async () => {
    db = await openTestDatabase();
    const agent = await new AgentsRepository(db.dataSource).create({
      name: 'pacs-01',
      host: '127.0.0.1',
      port: 9,
      token: 't',
      fingerprint: 'f',
      tagsJson: '{"site":"north"}',
    });
    const checks = new ChecksRepository(db.dataSource);
    const echo = await checks.create({
      agentId: agent.id,
      name: '=echo,"quoted"',
      plugin: 'tcp',
      config: {},
      intervalMs: 60_000,
      timeoutMs: 5_000,
      tags: { department: 'radiology' },
    });
    const web = await checks.create({
      agentId: agent.id,
      name: 'viewer',
      plugin: 'tcp',
      config: {},
      intervalMs: 60_000,
      timeoutMs: 5_000,
      tags: { department: 'it', site: 'annex' },
    });
    // November: echo 9 of 10 OK, viewer 10 of 10; one December result that the November report must not count.
    const writer = new ResultWriter(db.dataSource);
    const result = (checkId: string, seq: number, startedAt: number, status: StatusCode) => ({
      checkId,
      seq,
      startedAt,
      durationMs: 5,
      status,
      reason: '',
      summary: '',
      metrics: [],
    });
    const results = [
      ...Array.from({ length: 10 }, (_, i) => result(echo.id, i + 1, NOV + i * 86_400_000, i === 3 ? 2 : 0)),
      ...Array.from({ length: 10 }, (_, i) => result(web.id, i + 11, NOV + i * 3_600_000, 0)),
      result(echo.id, 21, DEC + 1000, 2),
    ];
    await writer.write({ agentId: agent.id, results, ackSeq: 21, spoolEpoch: 'spec' });
    await writer.close();
    echoId = echo.id;
    await new RollupsRepository(db.dataSource).rollUp(1000);
    api = await startApiTestApp({
      controllers: [ReportsController],
      dataSource: db.dataSource,
      providers: [ResultsRepository, RollupsRepository, MetricSeriesRepository, HistoryService, SlaReportService, ...alertingProviders()],
    });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('counts all of an agent’s checks together, by id or name', async () => {
    const res = await api.call<{ results: number; ok: number; critical: number; uptimePercent: number }>(
      'GET',
      `/api/v1/agents/pacs-01/uptime?from=${NOV}&to=${DEC}`,
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.json.results, res.json.ok, res.json.critical, res.json.uptimePercent], [20, 19, 1, 95]);
    assert.equal((await api.call('GET', '/api/v1/agents/nobody/uptime')).status, 404);
  });

  it('exports a month per check or per agent as CSV, names formula-safe and quoted, other months left out', async () => {
    const res = await api.call('GET', '/api/v1/reports/sla.csv?month=2026-11');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /filename="rounds-sla-2026-11-checks\.csv"/);
    assert.equal(
      res.text,
      'month,name,agent,results,ok,warning,critical,unknown,uptime_percent,maintenance_minutes\r\n' +
        `2026-11,"'=echo,""quoted""",pacs-01,10,9,0,1,0,90.000,0\r\n` +
        '2026-11,viewer,pacs-01,10,10,0,0,0,100.000,0\r\n',
    );
    const agents = await api.call('GET', '/api/v1/reports/sla.csv?month=2026-11&by=agent');
    assert.match(agents.text, /\r\n2026-11,pacs-01,pacs-01,20,19,0,1,0,95\.000,0\r\n$/);
    const empty = await api.call('GET', '/api/v1/reports/sla.csv?month=2025-01');
    assert.match(empty.text, /\r\n2025-01,viewer,pacs-01,0,0,0,0,0,,0\r\n$/, 'no results: no figure, not 0 %');
  });

  it('answers a bad month or grouping with 400 naming the field', async () => {
    for (const [query, field] of [
      ['month=2026-13', 'month'],
      ['month=November', 'month'],
      ['by=ward', 'by'],
      ['by=tag', 'key'],
      ['by=tag&key=Site!', 'key'],
      ['tag=Bad key', 'tag'],
    ] as const) {
      const res = await api.call<ApiErrorBody>('GET', `/api/v1/reports/sla.csv?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, 'a refusal is problem details, not labelled CSV');
      assert.equal(res.json.errors?.[0]?.field, field, query);
    }
  });

  it('groups the month by the values of a tag key, a check’s own tag over its agent’s, and filters by a tag', async () => {
    const bySite = await api.call('GET', '/api/v1/reports/sla.csv?month=2026-11&by=tag&key=site');
    assert.equal(bySite.status, 200, bySite.text);
    assert.match(bySite.headers.get('content-disposition') ?? '', /filename="rounds-sla-2026-11-by-site\.csv"/);
    // viewer's own site=annex overrides its agent's site=north; echo inherits north.
    assert.equal(bySite.text.split('\r\n').slice(1).join('\n'), '2026-11,annex,,10,10,0,0,0,100.000,0\n2026-11,north,,10,9,0,1,0,90.000,0\n');
    const byMissing = await api.call('GET', '/api/v1/reports/sla.csv?month=2026-11&by=tag&key=modality');
    assert.match(byMissing.text, /\r\n2026-11,\(no modality\),,20,19,0,1,0,95\.000,0\r\n$/, 'checks without the key are a line of their own');
    const filtered = await api.call('GET', '/api/v1/reports/sla.csv?month=2026-11&tag=department=radiology');
    assert.equal(filtered.text.split('\r\n').length, 3, filtered.text);
    assert.match(filtered.text, /echo/);
  });

  it('counts the checks carrying a tag together, and lists the tags in use', async () => {
    const north = await api.call<{ results: number; ok: number }>('GET', `/api/v1/tags/site=north/uptime?from=${NOV}&to=${DEC}`);
    assert.equal(north.status, 200, north.text);
    assert.deepEqual([north.json.results, north.json.ok], [10, 9]);
    const anySite = await api.call<{ results: number; ok: number }>('GET', `/api/v1/tags/site/uptime?from=${NOV}&to=${DEC}`);
    assert.deepEqual([anySite.json.results, anySite.json.ok], [20, 19]);
    const mars = await api.call<ApiErrorBody>('GET', '/api/v1/tags/site=mars/uptime');
    assert.equal(mars.status, 404);
    assert.match(mars.text, /no check carries the tag \\"site=mars\\" — GET \/api\/v1\/tags lists them/);
    assert.equal((await api.call('GET', '/api/v1/tags/Bad!/uptime')).status, 400);
    const tags = await api.call<unknown>('GET', '/api/v1/tags');
    assert.deepEqual(tags.json, [
      { key: 'department', value: 'it', checks: 1 },
      { key: 'department', value: 'radiology', checks: 1 },
      { key: 'site', value: 'annex', checks: 1 },
      { key: 'site', value: 'north', checks: 1 },
    ]);
  });

  it('leaves out the time a maintenance window covered the check, unless asked to count it', async () => {
    const outage = { start: NOV + 3 * 86_400_000 - 60_000, end: NOV + 3 * 86_400_000 + 60_000 };
    await api.app.get(AlertingService).putMaintenanceWindow(
      {
        id: 'pacs-upgrade',
        name: 'PACS upgrade',
        kind: 'once',
        startsAt: outage.start,
        endsAt: outage.end,
        matchers: [{ label: 'check_id', op: '=', value: echoId }],
        comment: null,
      },
      SPEC_AUDIT,
    );
    const range = `from=${NOV}&to=${DEC}`;
    const excluded = await api.call<{ results: number; ok: number; uptimePercent: number; maintenanceMs: number }>(
      'GET',
      `/api/v1/checks/${echoId}/uptime?${range}`,
    );
    assert.equal(excluded.status, 200, excluded.text);
    assert.deepEqual([excluded.json.results, excluded.json.ok, excluded.json.uptimePercent, excluded.json.maintenanceMs], [9, 9, 100, 120_000]);
    const counted = await api.call<{ results: number; ok: number; maintenanceMs: number }>(
      'GET',
      `/api/v1/checks/${echoId}/uptime?${range}&maintenance=include`,
    );
    assert.deepEqual([counted.json.results, counted.json.ok, counted.json.maintenanceMs], [10, 9, 0]);
    const csv = await api.call('GET', '/api/v1/reports/sla.csv?month=2026-11');
    assert.match(csv.text, /pacs-01,9,9,0,0,0,100\.000,2\r\n/);
    const raw = await api.call('GET', '/api/v1/reports/sla.csv?month=2026-11&maintenance=include');
    assert.match(raw.text, /pacs-01,10,9,0,1,0,90\.000,0\r\n/);
  });

  it('answers a bad range or an unknown check on /checks/{id}/uptime with 400 naming the field or 404', async () => {
    for (const [query, field, message] of [
      [`from=0&to=${Date.now()}`, 'from', /^the range may span 10 years at most$/],
      ['from=5&to=5', 'from', /^must be before to/],
      ['maintenance=sometimes', 'maintenance', /^must be exclude or include$/],
    ] as const) {
      const res = await api.call<ApiErrorBody>('GET', `/api/v1/checks/${echoId}/uptime?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.json.errors?.[0]?.field, field, query);
      assert.match(res.json.errors?.[0]?.message ?? '', message, query);
    }
    assert.equal((await api.call('GET', '/api/v1/checks/nope/uptime')).status, 404);
  });

  it('lists a check’s incidents from the alert history: start, end, duration, reason, who acknowledged', async () => {
    const insert = (at: number, transition: string, by: string | null, details: Record<string, unknown>) =>
      db.query('INSERT INTO alert_history (at, fingerprint, alert_name, transition, "by", comment, details_json) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        at,
        'fp-echo',
        'CheckFailing',
        transition,
        by,
        null,
        JSON.stringify({ severity: 'critical', labels: { agent: 'pacs-01', check_id: echoId }, ...details }),
      ]);
    await insert(NOV + 3 * 86_400_000, 'firing', null, {});
    await insert(NOV + 3 * 86_400_000 + 1000, 'notified', null, { summary: 'connection refused' });
    await insert(NOV + 3 * 86_400_000 + 600_000, 'acknowledged', 'radiology-it', {});
    await insert(NOV + 3 * 86_400_000 + 3_600_000, 'resolved', null, {});
    const res = await api.call<{ startedAt: number; durationMs: number; reason: string; acknowledgedBy: string }[]>(
      'GET',
      `/api/v1/checks/${echoId}/incidents?from=${NOV}&to=${DEC}`,
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      res.json.map((i) => [i.startedAt, i.durationMs, i.reason, i.acknowledgedBy]),
      [[NOV + 3 * 86_400_000, 3_600_000, 'connection refused', 'radiology-it']],
    );
    assert.deepEqual((await api.call('GET', `/api/v1/checks/${echoId}/incidents?from=${DEC}&to=${DEC + 1000}`)).json, []);

    // A list like the others: another alert fired later and still fires, unacknowledged.
    await db.query('INSERT INTO alert_history (at, fingerprint, alert_name, transition, "by", comment, details_json) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      NOV + 10 * 86_400_000,
      'fp-echo-2',
      'CheckSlow',
      'firing',
      null,
      null,
      JSON.stringify({ severity: 'warning', labels: { agent: 'pacs-01', check_id: echoId } }),
    ]);
    const list = async (query: string) => {
      const page = await api.call<{ alert: string }[]>('GET', `/api/v1/checks/${echoId}/incidents?from=${NOV}&to=${DEC}&${query}`);
      assert.equal(page.status, 200, page.text);
      return [page.json.map((i) => i.alert), page.headers.get('x-total-count')];
    };
    assert.deepEqual(await list(''), [['CheckFailing', 'CheckSlow'], '2'], 'oldest first');
    assert.deepEqual(await list('sort=-durationMs'), [['CheckSlow', 'CheckFailing'], '2'], 'the one still firing lasts longest');
    assert.deepEqual(await list('open=true'), [['CheckSlow'], '1']);
    assert.deepEqual(await list('acknowledged=true&severity=critical'), [['CheckFailing'], '1']);
    assert.deepEqual(await list('limit=1&offset=1'), [['CheckSlow'], '2']);
    const bad = await api.call<ApiErrorBody>('GET', `/api/v1/checks/${echoId}/incidents?sort=reason`);
    assert.deepEqual(bad.json.errors, [{ field: 'sort', message: 'must be one of startedAt, -startedAt, durationMs, -durationMs' }]);
    assert.equal((await api.call('GET', '/api/v1/checks/nope/incidents')).status, 404);
  });
});
