import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import { readCollectorConfig } from '../config/env.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultWriter, type StoredMetric, type StoredResult } from '../polling/result-writer.js';
import { NotFoundError, ValidationFailedError } from '../shared/errors.js';
import type { CurrentState } from '../state/current-state.js';
import { committedResults } from '../storage/committed-results.js';
import { openTestDatabase } from '../storage/testing.js';
import { HistoryUpkeep } from './history-upkeep.service.js';
import { HistoryService, type MetricHistory } from './history.service.js';
import { MetricSeriesRepository } from './metric-series.repository.js';
import { ResultsRepository } from './results.repository.js';
import { RollupsRepository } from './rollups.repository.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('history of metric series: roll-ups, points, an agent’s host metrics, retention', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let writer: ResultWriter;
  let rollups: RollupsRepository;
  let history: HistoryService;
  const clock = new ManualClock(NOW);
  const config = readCollectorConfig({});
  const ids = { agent: '', web: '', host: '' };
  let seq = 0;

  /** What a check measured at step i: a response time for the web check, CPU and two file systems for the host. */
  function metricsAt(check: 'web' | 'host', i: number): StoredMetric[] {
    if (check === 'web') return i % 10 === 9 ? [] : [{ name: 'response_time_seconds', value: 0.05 + ((i * 37) % 100) / 1000, unit: 'seconds' }];
    return [
      { name: 'cpu_usage_ratio', value: ((i * 13) % 100) / 100, unit: 'ratio' },
      { name: 'filesystem_used_ratio', value: 0.5 + (i % 7) / 100, unit: 'ratio', labels: { mount: '/' } },
      { name: 'filesystem_used_ratio', value: 0.9, unit: 'ratio', labels: { mount: '/data' } },
    ];
  }

  async function store(check: 'web' | 'host', steps: readonly number[], start: number): Promise<void> {
    const results: StoredResult[] = steps.map((i) => ({
      checkId: ids[check],
      seq: ++seq,
      startedAt: start + i * 30_000 + ((i * 7919) % 20_000),
      durationMs: 20,
      status: 0,
      reason: '',
      summary: '',
      metrics: metricsAt(check, i),
    }));
    await writer.write({ agentId: ids.agent, results, ackSeq: seq, spoolEpoch: 'spec' });
  }

  /** The same points computed here straight from the raw rows: what the roll-ups must give. */
  async function fromRaw(h: MetricHistory): Promise<{ t: number; samples: number; min: number | null; max: number | null; avg: number | null }[]> {
    const rows = await db.query<{ started_at: number; metrics_json: string }>('SELECT started_at, metrics_json FROM check_results WHERE check_id = ?', [
      h.series.checkId,
    ]);
    const points = h.points.map((p) => ({ t: p.t, samples: 0, min: null as number | null, max: null as number | null, sum: 0 }));
    for (const r of rows) {
      if (r.started_at < h.from || r.started_at >= h.to) continue;
      const p = points[Math.floor((r.started_at - h.from) / h.stepMs)]!;
      for (const m of JSON.parse(r.metrics_json) as StoredMetric[]) {
        if (m.name !== h.series.name || JSON.stringify(m.labels ?? {}) !== JSON.stringify(h.series.labels)) continue;
        p.samples++;
        p.sum += m.value;
        p.min = p.min === null ? m.value : Math.min(p.min, m.value);
        p.max = p.max === null ? m.value : Math.max(p.max, m.value);
      }
    }
    return points.map(({ sum, ...p }) => ({ ...p, avg: p.samples === 0 ? null : sum / p.samples }));
  }

  function assertSamePoints(h: MetricHistory, expected: Awaited<ReturnType<typeof fromRaw>>, what: string): void {
    assert.equal(h.points.length, expected.length, what);
    h.points.forEach((p, i) => {
      const e = expected[i]!;
      assert.deepEqual([p.t, p.samples, p.min, p.max], [e.t, e.samples, e.min, e.max], `${what}, point ${i}`);
      if (e.avg === null) assert.equal(p.avg, null, `${what}, point ${i}`);
      else assert.ok(Math.abs(p.avg! - e.avg) < 1e-9, `${what}, point ${i}: ${p.avg} vs ${e.avg}`);
    });
  }

  before(async () => {
    db = await openTestDatabase();
    writer = new ResultWriter(db.dataSource);
    rollups = new RollupsRepository(db.dataSource);
    ids.agent = (await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' })).id;
    const checks = new ChecksRepository(db.dataSource);
    const check = (name: string, plugin: string) => checks.create({ agentId: ids.agent, name, plugin, config: {}, intervalMs: 30_000, timeoutMs: 5_000 });
    const [web, host] = [await check('viewer', 'http'), await check('host', 'host-metrics')];
    ids.web = web.id;
    ids.host = host.id;
    const records = [web, host].map((c) => ({ check: c }));
    // The read model as far as history asks it: which checks exist and whose they are.
    const state = {
      check: (id: string) => records.find((r) => r.check.id === id),
      findAgent: (idOrName: string) => (idOrName === ids.agent || idOrName === 'pacs-01' ? { agent: { id: ids.agent, name: 'pacs-01' } } : undefined),
      listChecks: () => records,
    } as unknown as CurrentState;
    history = new HistoryService(new ResultsRepository(db.dataSource), rollups, new MetricSeriesRepository(db.dataSource), state, config, clock);

    // Two days every 30 s; the last hour not rolled up yet, as between two roll-ups.
    const start = NOW - 2 * DAY;
    const steps = Array.from({ length: (2 * DAY) / 30_000 }, (_, i) => i);
    const rolledUntil = steps.length - 120;
    for (let i = 0; i < rolledUntil; i += 500) {
      const part = steps.slice(i, Math.min(i + 500, rolledUntil));
      await store('web', part, start);
      await store('host', part, start);
    }
    await new HistoryUpkeep(rollups, config, clock).rollUp();
    await store('web', steps.slice(rolledUntil), start);
    await store('host', steps.slice(rolledUntil), start);
  });
  after(async () => {
    await writer.close();
    await db.close();
  });

  it('gives the same count, min, max and average as the raw samples, from raw results, minute or hour buckets by the range', async () => {
    for (const [from, to, points, source] of [
      [NOW - 10 * MINUTE, NOW, 600, 'raw'],
      [NOW - 3 * HOUR, NOW, 180, '1m'],
      [NOW - 2 * HOUR - 17_000, NOW - 5 * MINUTE, 50, '1m'],
      [NOW - 2 * DAY, NOW, 48, '1h'],
    ] as const) {
      const h = await history.checkMetricHistory(ids.web, 'response_time_seconds', from, to, points);
      assert.equal(h.source, source, `${from}–${to}`);
      assert.ok(h.points.length <= points);
      assert.ok(h.points.some((p) => p.samples > 0));
      assertSamePoints(h, await fromRaw(h), `${source} ${from}–${to}`);
    }
  });

  it('lands a late sample (a spool drained after an outage) in its old bucket, and shows a stretch without samples as gaps', async () => {
    const old = NOW - DAY - 7 * MINUTE;
    const late: StoredResult = {
      checkId: ids.web,
      seq: ++seq,
      startedAt: old + 1000,
      durationMs: 20,
      status: 0,
      reason: '',
      summary: '',
      metrics: [{ name: 'response_time_seconds', value: 9.5, unit: 'seconds' }],
    };
    await writer.write({ agentId: ids.agent, results: [late], ackSeq: seq, spoolEpoch: 'spec' });
    await rollups.rollUp(100_000);
    const h = await history.checkMetricHistory(ids.web, 'response_time_seconds', old - 5 * MINUTE, old + 5 * MINUTE, 10);
    assert.equal(h.source, '1m');
    const point = h.points.find((p) => p.t === Math.floor(old / MINUTE) * MINUTE)!;
    assert.equal(point.max, 9.5);
    assertSamePoints(h, await fromRaw(h), 'after the late sample');

    const before = await history.checkMetricHistory(ids.web, 'response_time_seconds', NOW - 4 * DAY, NOW - 2 * DAY + HOUR, 50);
    const empty = before.points.filter((p) => p.t < NOW - 2 * DAY - HOUR);
    assert.ok(empty.length > 0);
    for (const p of empty) assert.deepEqual([p.samples, p.avg, p.min, p.max], [0, null, null, null]);
  });

  it('lists a check’s series; names one by id or by a name with one series, and says which when a name has several', async () => {
    const series = await history.checkSeries(ids.host);
    assert.deepEqual(
      series.map((s) => [s.name, s.labels, s.unit]),
      [
        ['cpu_usage_ratio', {}, 'ratio'],
        ['filesystem_used_ratio', { mount: '/' }, 'ratio'],
        ['filesystem_used_ratio', { mount: '/data' }, 'ratio'],
      ],
    );
    const data = series[2]!;
    const byId = await history.checkMetricHistory(ids.host, String(data.id), NOW - HOUR, NOW, 10);
    assert.deepEqual(byId.series, data);
    assert.ok(byId.points.every((p) => p.samples === 0 || p.avg === 0.9));

    await assert.rejects(history.checkMetricHistory(ids.host, 'filesystem_used_ratio', NOW - HOUR, NOW, 10), (e: unknown) => {
      assert.ok(e instanceof ValidationFailedError);
      assert.match(
        e.errors[0]!.message,
        /filesystem_used_ratio has 2 series \(\{"mount":"\/"\}, \{"mount":"\/data"\}\) — name one by its id from GET \/api\/v1\/checks\/.+\/series/,
      );
      return true;
    });
    await assert.rejects(
      history.checkMetricHistory(ids.host, 'disk_io', NOW - HOUR, NOW, 10),
      /no metric series "disk_io" here — GET \/api\/v1\/checks\/.+\/series lists them/,
    );
    await assert.rejects(history.checkMetricHistory(ids.web, String(data.id), NOW - HOUR, NOW, 10), NotFoundError, 'another check’s series id');
    await assert.rejects(history.checkSeries('nope'), NotFoundError);
  });

  it('shows an agent’s host metrics: the series of its host-metrics checks only', async () => {
    const series = await history.agentSeries('pacs-01');
    assert.deepEqual([...new Set(series.map((s) => s.checkId))], [ids.host]);
    const cpu = await history.agentMetricHistory('pacs-01', 'cpu_usage_ratio', NOW - 6 * HOUR, NOW, 6);
    assert.equal(cpu.source, '1h');
    assertSamePoints(cpu, await fromRaw(cpu), 'agent cpu');
    await assert.rejects(history.agentMetricHistory('pacs-01', 'response_time_seconds', NOW - HOUR, NOW, 6), NotFoundError);
    await assert.rejects(history.agentSeries('nobody'), /no agent with id or name "nobody"/);
  });

  it('makes the same buckets from the writer’s hand-over as from reading the results back', async () => {
    const tables = ['check_rollups_1m', 'check_rollups_1h', 'metric_rollups_1m', 'metric_rollups_1h'];
    const snapshot = async () => Promise.all(tables.map((t) => db.dataSource.query<unknown[]>(`SELECT * FROM ${t} ORDER BY 1, 2`)));
    await rollups.rollUp(1_000_000);
    const handedOver = await snapshot();
    assert.ok(handedOver.every((rows) => rows.length > 0));
    // Everything again from the table alone, as after a restart.
    for (const t of tables) await db.dataSource.query(`DELETE FROM ${t}`);
    await db.dataSource.query(`UPDATE rollup_progress SET last_result_id = 0`);
    committedResults(db.dataSource).clear();
    await new HistoryUpkeep(rollups, config, clock).rollUp();
    assert.deepEqual(await snapshot(), handedOver);
  });

  it('prunes metric buckets past each tier’s retention with the check buckets', async () => {
    const short = { ...config, retention: { rawMs: DAY, minuteMs: DAY, hourMs: 1.5 * DAY } };
    const count = async (table: string, before: number) =>
      Number((await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE bucket < ?`, [before]))[0]!.n);
    assert.ok((await count('metric_rollups_1m', NOW - DAY)) > 0);
    const report = await new HistoryUpkeep(rollups, short, clock).prune();
    assert.ok(report.metricBuckets > 0);
    assert.equal(await count('metric_rollups_1m', NOW - DAY), 0);
    assert.equal(await count('metric_rollups_1h', NOW - 1.5 * DAY), 0);
    assert.ok((await count('metric_rollups_1h', NOW)) > 0, 'younger hour buckets stay');
  });
});
