import { rmSync } from 'node:fs';
import { systemClock } from '#rounds/common';
import { readCollectorConfig } from '../apps/collector/src/config/env.js';
import { HistoryService } from '../apps/collector/src/history/history.service.js';
import { ResultsRepository } from '../apps/collector/src/history/results.repository.js';
import { RollupsRepository } from '../apps/collector/src/history/rollups.repository.js';
import { MetricSeriesRepository } from '../apps/collector/src/history/metric-series.repository.js';
import type { CurrentState } from '../apps/collector/src/state/current-state.js';
import { createDataSource } from '../apps/collector/src/storage/data-source.js';
import { absolute, compared, type Benchmark } from './lib/figure.js';
import { interleave, median } from './lib/measure.js';
import { tempDir } from './lib/processes.js';
import { seedAgents } from './lib/seed.js';

const AGENTS = 200;
const CHECKS = 10;
const DAY = 86_400_000;
/** Every check's last 30 days, one result per 15 minutes: 5.76 million rows. */
const STEP_MS = 900_000;
const SPAN_DAYS = 30;
/** The long check's interval: one result per 5 minutes. */
const LONG_STEP_MS = 300_000;
/** One check with 90 days of results every 5 minutes (25,920 rows): the long history query. */
const LONG_DAYS = 90;
const PAIRS = 3;

interface NativeSqlite {
  prepare(sql: string): { run(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
}

/**
 * What roll-ups buy when someone asks about the past: the uptime of 2,000 checks over 30 days, and
 * one check's 90 days in 200 points, answered by HistoryService (hour and minute buckets, raw
 * rows only at the edges) against reading the same raw rows with a prepared statement. The
 * seeded results are sparser than real ones (2,000 checks × 30 days every 30 s would be 173
 * million rows to seed); the raw side grows with the rows, the roll-ups with the buckets. And
 * what history costs on disk: the bytes per raw result and per bucket (SQLite's dbstat, indexes
 * included) times what each tier keeps of a check polled every 30 s.
 */
export const bench: Benchmark = {
  name: 'history',
  description: 'uptime of 2,000 checks over 30 days and a 90-day history query from roll-ups vs reading the raw rows; bytes per check per day',
  async run(ctx) {
    const dir = tempDir('history');
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    const ds = await createDataSource({ dataDir: dir }).initialize();
    ctx.defer(() => ds.destroy());
    const agents = await seedAgents(
      ds,
      Array.from({ length: AGENTS }, (_, i) => ({ name: `pacs-${i}`, host: '127.0.0.1', port: 1, token: 't', fingerprint: 'f' })),
      CHECKS,
      () => ({ plugin: 'http', config: { url: 'http://127.0.0.1/' }, intervalMs: STEP_MS }),
    );
    const native = (ds.driver as unknown as { databaseConnection: NativeSqlite }).databaseConnection;
    const insert = native.prepare(
      'INSERT INTO check_results (check_id, agent_id, seq, started_at, duration_ms, status, reason, summary, metrics_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const now = Date.now();
    const checks = agents.flatMap((a) => a.checkIds.map((id) => ({ id, agentId: a.id })));
    const longCheck = checks[0]!;
    let rows = 0;
    native.transaction(() => {
      for (const c of checks) {
        const [days, step] = c === longCheck ? [LONG_DAYS, LONG_STEP_MS] : [SPAN_DAYS, STEP_MS];
        for (let t = now - days * DAY, seq = 1; t < now; t += step, seq++) {
          // What an HTTP check stores: a reason, a summary line and its timings.
          const ms = 5 + (seq % 40);
          const metrics = `[{"name":"total_seconds","value":${ms / 1000},"unit":"seconds"},{"name":"status_code","value":200,"unit":""}]`;
          insert.run(c.id, c.agentId, seq, t, ms, seq % 97 === 0 ? 2 : 0, 'ok', `HTTP 200 in ${(ms / 1000).toFixed(3)} s, 5123 B`, metrics);
          rows++;
        }
      }
    })();
    const rollups = new RollupsRepository(ds);
    const rollStart = performance.now();
    for (let n = -1; n !== 0;) n = (await rollups.rollUp(50_000)).rolled;
    ctx.log(`seeded ${rows} results of ${checks.length} checks; rolled up in ${((performance.now() - rollStart) / 1000).toFixed(1)} s`);

    const records = new Map(checks.map((c) => [c.id, { check: { id: c.id, agentId: c.agentId, name: c.id, plugin: 'tcp' } }]));
    const state = { check: (id: string) => records.get(id), agentName: () => 'pacs' } as unknown as CurrentState;
    const history = new HistoryService(new ResultsRepository(ds), rollups, new MetricSeriesRepository(ds), state, readCollectorConfig({}), systemClock);
    // Whole minutes, as a report would ask: the 30 days that ended at the last full minute.
    const to = Math.floor(now / 60_000) * 60_000;
    const from = to - SPAN_DAYS * DAY;

    const rawCount = native.prepare(
      'SELECT count(*) AS n, sum(CASE WHEN status = 0 THEN 1 ELSE 0 END) AS ok FROM check_results WHERE check_id = ? AND started_at >= ? AND started_at < ?',
    );
    let checked = 0;
    const ids = checks.map((c) => c.id);
    const uptime = await interleave(
      PAIRS,
      1,
      async () => {
        const start = performance.now();
        // As the SLA report asks: every check at once.
        let results = 0;
        for (const u of (await history.uptimes(ids, from, to)).values()) results += u.results;
        checked = results;
        return (checks.length / (performance.now() - start)) * 1000;
      },
      async () => {
        const start = performance.now();
        let results = 0;
        for (const c of checks) results += Number((rawCount.all(c.id, from, to)[0] as { n: number }).n);
        if (results !== checked) throw new Error(`roll-ups counted ${checked} results, the raw rows ${results}`);
        return (checks.length / (performance.now() - start)) * 1000;
      },
    );

    const rawSeries = native.prepare('SELECT started_at, status, duration_ms FROM check_results WHERE check_id = ? AND started_at >= ? AND started_at < ?');
    const longFrom = to - LONG_DAYS * DAY;
    const long = await interleave(
      PAIRS,
      1,
      async () => {
        const start = performance.now();
        for (let i = 0; i < 20; i++) await history.history(longCheck.id, longFrom, to, 200);
        return (20 / (performance.now() - start)) * 1000;
      },
      async () => {
        const start = performance.now();
        for (let i = 0; i < 20; i++) {
          // What a store without roll-ups does: read every row of the range and bucket it.
          const step = Math.ceil((to - longFrom) / 200);
          const points = new Array<number>(200).fill(0);
          for (const r of rawSeries.all(longCheck.id, longFrom, to) as { started_at: number }[]) points[Math.floor((r.started_at - longFrom) / step)]! += 1;
        }
        return (20 / (performance.now() - start)) * 1000;
      },
    );
    // Bytes on disk per row of each table, its indexes included.
    const pages = new Map(
      (native.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[]).map((r) => [r.name, r.bytes]),
    );
    const bytesOf = (table: string) => [...pages].filter(([name]) => name === table || name.includes(table)).reduce((sum, [, b]) => sum + b, 0);
    const perRow = (table: string) => bytesOf(table) / Number((native.prepare(`SELECT count(*) AS n FROM ${table}`).all()[0] as { n: number }).n);
    const raw = perRow('check_results');
    const minute = perRow('check_rollups_1m') + 2 * perRow('metric_rollups_1m');
    const hour = perRow('check_rollups_1h') + 2 * perRow('metric_rollups_1h');
    // A check polled every 30 s with two metrics: 2,880 results, 1,440 minute and 24 hour buckets a day.
    const perDay = 2880 * raw + 1440 * minute + 24 * hour;
    const steady = 7 * 2880 * raw + 90 * 1440 * minute + 1830 * 24 * hour;
    ctx.log(`bytes per raw result ${raw.toFixed(0)}, per minute of buckets ${minute.toFixed(0)}, per hour of buckets ${hour.toFixed(0)}`);
    return [
      absolute(
        'history',
        'Disk per check per day, polled every 30 s with 2 metrics (raw results + minute and hour buckets)',
        'KB',
        perDay / 1024,
        null,
        `${raw.toFixed(0)} B per raw result, ${minute.toFixed(0)} B per minute and ${hour.toFixed(0)} B per hour of buckets (dbstat, indexes included)`,
      ),
      absolute(
        'history',
        'Disk per check once every tier is full at the default retention (raw 7 d, minutes 90 d, hours 5 y)',
        'MB',
        steady / 1024 / 1024,
        null,
        'the file stops growing there: the retention spec shows it over 60 simulated days',
      ),
      compared(
        'history',
        `Uptime of ${checks.length} checks over ${SPAN_DAYS} days (checks/s)`,
        'checks/s',
        median(uptime.a),
        'counting the same raw rows (prepared statement, indexed)',
        median(uptime.b),
        null,
        `${rows} results; the figure equals the raw count (checked)`,
      ),
      compared(
        'history',
        `History of one check over ${LONG_DAYS} days in 200 points (queries/s)`,
        'queries/s',
        median(long.a),
        'reading its raw rows and bucketing them',
        median(long.b),
        null,
        `${(LONG_DAYS * DAY) / LONG_STEP_MS} raw rows vs ${LONG_DAYS * 24} hour buckets`,
      ),
    ];
  },
};
