import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import { readCollectorConfig } from '../config/env.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultWriter, type StoredResult } from '../polling/result-writer.js';
import { NotFoundError } from '../shared/errors.js';
import type { CurrentState } from '../state/current-state.js';
import type { StatusCode } from '../storage/entities/index.js';
import { committedResults } from '../storage/committed-results.js';
import { openTestDatabase } from '../storage/testing.js';
import { HistoryUpkeep } from './history-upkeep.service.js';
import { HistoryService } from './history.service.js';
import { ResultsRepository } from './results.repository.js';
import { stateHistoryQuery } from './history.dto.js';
import { RollupsRepository, TIERS } from './rollups.repository.js';
import { MetricSeriesRepository } from './metric-series.repository.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

/** A deterministic stream of statuses: mostly OK, some of every other kind. */
function statusAt(i: number): StatusCode {
  return ([0, 0, 0, 1, 0, 2, 0, 0, 3, 0, 0, 2] as const)[i % 12]!;
}

describe('history: roll-ups, uptime, points, retention', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let writer: ResultWriter;
  let rollups: RollupsRepository;
  let clock: ManualClock;
  let agentId: string;
  let checkId: string;
  let seq = 0;
  const config = readCollectorConfig({});
  const known = { check: (id: string) => (id === checkId ? {} : undefined) } as unknown as CurrentState;
  const service = () => new HistoryService(new ResultsRepository(db.dataSource), rollups, new MetricSeriesRepository(db.dataSource), known, config, clock);
  const upkeep = () => new HistoryUpkeep(rollups, config, clock);

  /** Stores results of the check at the given times (ms), as a poll would: one batch, acknowledged together. */
  async function store(times: readonly number[]): Promise<void> {
    const results: StoredResult[] = times.map((t, i) => ({
      checkId,
      seq: ++seq,
      startedAt: t,
      durationMs: 10 + ((seq * 7) % 90),
      status: statusAt(seq + i),
      reason: '',
      summary: 'x',
      metrics: [],
    }));
    await writer.write({ agentId, results, ackSeq: seq, spoolEpoch: 'spec' });
  }

  /** The figure straight from raw rows: what the roll-ups must equal. */
  async function rawUptime(from: number, to: number): Promise<{ results: number; ok: number }> {
    const [row] = await db.query<{ n: number; ok: number | null }>(
      'SELECT CAST(count(*) AS integer) AS n, CAST(sum(CASE WHEN status = 0 THEN 1 ELSE 0 END) AS integer) AS ok FROM check_results WHERE check_id = ? AND started_at >= ? AND started_at < ?',
      [checkId, from, to],
    );
    return { results: Number(row?.n ?? 0), ok: Number(row?.ok ?? 0) };
  }

  beforeEach(async () => {
    db = await openTestDatabase();
    writer = new ResultWriter(db.dataSource);
    rollups = new RollupsRepository(db.dataSource);
    clock = new ManualClock(NOW);
    const agent = await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    agentId = agent.id;
    checkId = (await new ChecksRepository(db.dataSource).create({ agentId, name: 'echo', plugin: 'tcp', config: {}, intervalMs: 30_000, timeoutMs: 5_000 })).id;
  });
  afterEach(async () => {
    await writer.close();
    await db.close();
  });

  it('uptime from roll-ups equals the figure from raw results for any range, rolled up or not, late results included', async () => {
    // Three days every 30 s, with a few seconds of jitter, in batches as polls would bring them.
    const start = NOW - 3 * DAY;
    const times = Array.from({ length: (3 * DAY) / 30_000 }, (_, i) => start + i * 30_000 + ((i * 7919) % 29_000));
    for (let i = 0; i < times.length; i += 500) {
      await store(times.slice(i, i + 500));
      // The first half as after a restart (read back from the table), the rest handed over by the writer.
      if (i === 4000) committedResults(db.dataSource).clear();
    }
    assert.equal(await upkeep().rollUp(), times.length);
    // After the roll-up: late results of the first day (a spool drained after an outage), and fresh ones not rolled up yet.
    await store([start + 61_000, start + 3_600_000 + 5, start + 7_200_000 + 59_999]);
    await store([NOW - 10_000, NOW - 5_000]);
    const history = service();
    const ranges: [number, number][] = [
      [start, NOW],
      [start + 17_123, NOW - 41_777],
      [start + 3_600_000, start + 2 * 3_600_000],
      [start + 59_000, start + 61_001],
      [NOW - 90_000, NOW],
      [start + DAY + 1234, start + 2 * DAY + 3_599_999],
    ];
    for (const [from, to] of ranges) {
      const up = await history.uptime(checkId, from, to);
      const raw = await rawUptime(from, to);
      assert.deepEqual([up.results, up.ok], [raw.results, raw.ok], `range ${from}–${to}`);
      assert.equal(up.uptimePercent, raw.results === 0 ? null : (100 * raw.ok) / raw.results);
    }
    // The late results sit in their own, old buckets: the minute bucket of start + 61 s has its result and the late one.
    const [minute] = TIERS;
    const late = await rollups.buckets(minute!, checkId, start + 60_000, start + 120_000);
    assert.equal(late[0]?.results, (await rawUptime(start + 60_000, start + 120_000)).results - 1, 'before the next roll-up the late one is raw only');
    await upkeep().rollUp();
    const after = await rollups.buckets(minute!, checkId, start + 60_000, start + 120_000);
    assert.equal(after[0]?.results, (await rawUptime(start + 60_000, start + 120_000)).results);
  });

  it('catches up after an outage in chunks, counting nothing twice', async () => {
    const start = NOW - DAY;
    const times = Array.from({ length: 25_000 }, (_, i) => start + i * 3_000);
    for (let i = 0; i < times.length; i += 5000) await store(times.slice(i, i + 5000));
    assert.equal(await upkeep().rollUp(), 25_000, 'three chunks of 10,000 at most');
    assert.equal(await upkeep().rollUp(), 0);
    const [, hour] = TIERS;
    const total = (await rollups.buckets(hour!, checkId, 0, NOW * 2)).reduce((n, b) => n + b.results, 0);
    assert.equal(total, 25_000);
  });

  it('answers history in at most the points asked, from raw results or buckets by the range, with gaps as gaps', async () => {
    const start = NOW - 2 * 3_600_000;
    // Two hours every 30 s, but nothing in the second half of the first hour (an outage).
    const times = Array.from({ length: 240 }, (_, i) => start + i * 30_000).filter((t) => t < start + 1_800_000 || t >= start + 3_600_000);
    await store(times);
    await upkeep().rollUp();
    const history = service();

    const fine = await history.history(checkId, NOW - 600_000, NOW, 100);
    assert.equal(fine.source, 'raw');
    assert.equal(fine.stepMs, 6000);
    assert.ok(fine.points.length <= 100);
    assert.equal(
      fine.points.reduce((n, p) => n + p.results, 0),
      (await rawUptime(NOW - 600_000, NOW)).results,
    );

    const coarse = await history.history(checkId, start, NOW, 24);
    assert.equal(coarse.source, '1m');
    assert.equal(coarse.stepMs, 5 * 60_000);
    assert.equal(coarse.points.length, 24);
    const gaps = coarse.points.filter((p) => p.results === 0);
    assert.equal(gaps.length, 6, 'the half hour without results is six empty points');
    assert.ok(gaps.every((p) => p.uptimePercent === null && p.durationAvgMs === null));
    const full = coarse.points[0]!;
    assert.equal(full.results, 10);
    assert.ok(full.durationMinMs! <= full.durationAvgMs! && full.durationAvgMs! <= full.durationMaxMs!);

    const year = await history.history(checkId, NOW - 365 * DAY, NOW, 365);
    assert.equal(year.source, '1h');
    assert.equal(year.stepMs, DAY);
    assert.equal(
      year.points.reduce((n, p) => n + p.results, 0),
      times.length,
    );
    await assert.rejects(history.history('nope', start, NOW, 10), NotFoundError);
  });

  it('prunes each tier past its retention in batches, never a raw result not rolled up yet', async () => {
    const old = NOW - 10 * DAY;
    await store(Array.from({ length: 5000 }, (_, i) => old + i * 1000));
    const before = await service().uptime(checkId, old, old + 5_000_000);
    // Not rolled up: pruning leaves the raw rows alone.
    assert.deepEqual(await upkeep().prune(), { raw: 0, minute: 0, hour: 0, metricBuckets: 0, stateChanges: 0 });
    await upkeep().rollUp();
    const report = await upkeep().prune();
    assert.equal(report.raw, 5000, 'older than 7 days: gone, in batches of 2,000');
    assert.deepEqual((await rawUptime(old, NOW)).results, 0);
    // The buckets still answer for that time, to the minute (the range's ends round outward to whole minutes there).
    const after = await service().uptime(checkId, old, old + 5_000_000);
    assert.deepEqual([after.results, after.ok], [before.results, before.ok]);
    // Minute buckets go after 90 days, hour buckets after 5 years.
    await clock.advance(95 * DAY);
    assert.deepEqual(await upkeep().prune(), { raw: 0, minute: 84, hour: 0, metricBuckets: 0, stateChanges: 0 });
    // State changes stay as long as the hour buckets: the raw results they came from are long gone.
    const [{ changes }] = (await db.query<{ changes: number }>('SELECT CAST(count(*) AS integer) AS changes FROM state_changes')) as [{ changes: number }];
    assert.ok(changes > 1000, `${changes} changes in 5,000 results that change often`);
    await clock.advance(1830 * DAY);
    assert.deepEqual(await upkeep().prune(), { raw: 0, minute: 0, hour: 2, metricBuckets: 0, stateChanges: changes });
  });

  it('keeps each change of state with how long it lasted: the state the range starts in, the newest first, late results changing nothing', async () => {
    const at = (minutes: number) => NOW - DAY + minutes * 60_000;
    const results = (rows: [number, StatusCode, string][]): StoredResult[] =>
      rows.map(([m, status, reason]) => ({ checkId, seq: ++seq, startedAt: at(m), durationMs: 5, status, reason, summary: `s${m}`, metrics: [] }));
    // OK, OK, CRITICAL twice (one change), WARNING, OK again; then, in a later poll, a late CRITICAL from before all that.
    await writer.write({
      agentId,
      results: results([
        [0, 0, ''],
        [1, 0, ''],
        [2, 2, 'connection refused'],
        [3, 2, 'connection refused'],
        [5, 1, 'slow: 2.1 s'],
        [9, 0, ''],
      ]),
      ackSeq: seq,
      spoolEpoch: 'spec',
    });
    await writer.write({ agentId, results: results([[-30, 2, 'late']]), ackSeq: seq, spoolEpoch: 'spec' });
    const history = service();

    const all = await history.stateHistory(checkId, at(-60), at(60), 100);
    assert.equal(all.start, null, 'no result before the range');
    assert.deepEqual(
      all.changes.map((c) => [c.from, c.to, c.at, c.until, c.reason]),
      [
        ['WARNING', 'OK', at(9), null, ''],
        ['CRITICAL', 'WARNING', at(5), at(9), 'slow: 2.1 s'],
        ['OK', 'CRITICAL', at(2), at(5), 'connection refused'],
        [null, 'OK', at(0), at(2), ''],
      ],
      'one row per change, the late result none',
    );
    assert.equal(all.more, false);

    // A range in the middle: it starts CRITICAL (since minute 2), and its one change ended at the next one, outside it.
    const middle = await history.stateHistory(checkId, at(4), at(6), 100);
    assert.deepEqual(middle.start, { status: 'CRITICAL', since: at(2) });
    assert.deepEqual(
      middle.changes.map((c) => [c.to, c.until]),
      [['WARNING', at(9)]],
    );

    const newest = await history.stateHistory(checkId, at(-60), at(60), 2);
    assert.deepEqual(
      newest.changes.map((c) => c.to),
      ['OK', 'WARNING'],
    );
    assert.equal(newest.more, true, 'two more changes than shown');
    await assert.rejects(history.stateHistory('nope', at(0), at(1), 10), NotFoundError);

    // The API's list: filtered by the status changed to (each change still ending at the next one of any status), either order, paged.
    const list = (query: Record<string, unknown>) => history.stateChangesPage(checkId, stateHistoryQuery.parse({ from: at(-60), to: at(60), ...query }));
    const critical = await list({ state: 'CRITICAL' });
    assert.deepEqual([critical.total, critical.page.map((c) => [c.at, c.until])], [1, [[at(2), at(5)]]]);
    const oldest = await list({ sort: 'at', limit: '2', offset: '1' });
    assert.deepEqual([oldest.total, oldest.page.map((c) => c.to)], [4, ['CRITICAL', 'WARNING']]);
    assert.deepEqual(
      (await list({ from: at(4), to: at(6) })).page.map((c) => [c.to, c.until]),
      [['WARNING', at(9)]],
    );
    assert.deepEqual((await list({ sort: '-at', offset: '4' })).page, [], 'past the end');

    // They go with their check.
    await new ChecksRepository(db.dataSource).delete(checkId);
    const [{ left }] = (await db.query<{ left: number }>('SELECT CAST(count(*) AS integer) AS left FROM state_changes')) as [{ left: number }];
    assert.equal(left, 0);
  });

  it('counts results stored after the newest rows were deleted: a week without results pruned everything, or their check was deleted', async () => {
    await store(Array.from({ length: 100 }, (_, i) => NOW - 10 * DAY + i * 30_000));
    await upkeep().rollUp();
    assert.equal((await upkeep().prune()).raw, 100, 'every raw result pruned: the table is empty');
    const watermark = await rollups.watermark();
    await store([NOW - 60_000, NOW - 30_000]);
    const [{ low }] = (await db.query<{ low: number }>('SELECT CAST(min(id) AS integer) AS low FROM check_results')) as [{ low: number }];
    assert.ok(low > watermark, `new ids (from ${low}) past the watermark (${watermark}), not reused from 1`);
    await upkeep().rollUp();
    const counted = await service().uptime(checkId, NOW - 120_000, NOW);
    assert.equal(counted.results, 2);

    // The newest rows belong to a check that is then deleted with its results.
    const other = await new ChecksRepository(db.dataSource).create({ agentId, name: 'gone', plugin: 'tcp', config: {}, intervalMs: 30_000, timeoutMs: 5_000 });
    await writer.write({
      agentId,
      results: [{ checkId: other.id, seq: ++seq, startedAt: NOW - 10_000, durationMs: 5, status: 0, reason: '', summary: '', metrics: [] }],
      ackSeq: seq,
      spoolEpoch: 'spec',
    });
    await upkeep().rollUp();
    await new ChecksRepository(db.dataSource).delete(other.id);
    await store([NOW - 5_000]);
    await upkeep().rollUp();
    assert.equal((await service().uptime(checkId, NOW - 120_000, NOW)).results, 3, 'the result after the deletion is counted');
  });

  it('counts many checks together (grouped queries) to exactly the figures of counting each alone', async () => {
    const checks = new ChecksRepository(db.dataSource);
    const ids = [checkId];
    for (let i = 0; i < 59; i++)
      ids.push((await checks.create({ agentId, name: `c${i}`, plugin: 'tcp', config: {}, intervalMs: 60_000, timeoutMs: 5_000 })).id);
    const all = new Set(ids);
    const many = new HistoryService(
      new ResultsRepository(db.dataSource),
      rollups,
      new MetricSeriesRepository(db.dataSource),
      {
        check: (id: string) => (all.has(id) ? { check: { id, agentId, name: id, plugin: 'tcp' } } : undefined),
        agentName: () => 'pacs-01',
      } as unknown as CurrentState,
      config,
      clock,
    );
    const start = NOW - 2 * DAY;
    for (const [k, id] of ids.entries()) {
      const times = Array.from({ length: 200 }, (_, i) => start + i * 853_000 + k * 1_777);
      await writer.write({
        agentId,
        results: times.map((t, i) => ({
          checkId: id,
          seq: ++seq,
          startedAt: t,
          durationMs: 5 + i,
          status: statusAt(i + k),
          reason: '',
          summary: '',
          metrics: [],
        })),
        ackSeq: seq,
        spoolEpoch: 'spec',
      });
      if (k === 30) await upkeep().rollUp(); // half rolled up, half not yet
    }
    for (const [from, to] of [
      [start, NOW],
      [start + 3_600_000, NOW - 3_600_000],
      [start + 12_345, NOW - 54_321],
    ] as const) {
      const grouped = await many.uptimes(ids, from, to);
      for (const id of ids) {
        const alone = await many.uptime(id, from, to);
        assert.deepEqual(grouped.get(id), alone, `check ${id} over ${from}–${to}`);
      }
    }
  });
});
