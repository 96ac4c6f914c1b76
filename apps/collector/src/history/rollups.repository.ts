import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { bulkSql, num, sqliteExec } from '../storage/bulk-sql.js';
import { committedResults, type CommittedResult } from '../storage/committed-results.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { MetricRollup, type MetricTier } from './metric-series.repository.js';
import { inTransaction, isPostgres, portableQuery, serialised } from '../storage/transaction.js';

/** A roll-up tier: its table and the width of its buckets. */
export interface RollupTier extends MetricTier {
  name: '1m' | '1h';
  table: 'check_rollups_1m' | 'check_rollups_1h';
  metricTable: 'metric_rollups_1m' | 'metric_rollups_1h';
  bucketMs: number;
}

export const TIERS: readonly RollupTier[] = [
  { name: '1m', table: 'check_rollups_1m', metricTable: 'metric_rollups_1m', bucketMs: 60_000 },
  { name: '1h', table: 'check_rollups_1h', metricTable: 'metric_rollups_1h', bucketMs: 3_600_000 },
];

/** What one bucket (or one stretch of raw results) holds: counts per status and the duration's spread. */
export interface Bucket {
  bucket: number;
  results: number;
  ok: number;
  warning: number;
  critical: number;
  unknown: number;
  durationSum: number;
  durationMin: number;
  durationMax: number;
}

const BUCKET_COLUMNS = 'bucket, results, ok, warning, critical, unknown, duration_sum, duration_min, duration_max';

/** The aggregate columns over check_results rows, as SQL both dialects read alike. */
const AGGREGATES = [
  'count(*) AS results',
  ...['ok', 'warning', 'critical', 'unknown'].map((name, status) => `sum(CASE WHEN status = ${status} THEN 1 ELSE 0 END) AS ${name}`),
  'sum(duration_ms) AS duration_sum',
  'min(duration_ms) AS duration_min',
  'max(duration_ms) AS duration_max',
].join(', ');

/** The ON CONFLICT clause that adds a bucket's counts to the stored bucket of `table`. */
function mergeInto(table: string): string {
  // Portable min/max of two values (SQLite's scalar min() is PostgreSQL's LEAST()).
  const least = (c: string) => `CASE WHEN excluded.${c} < ${table}.${c} THEN excluded.${c} ELSE ${table}.${c} END`;
  const greatest = (c: string) => `CASE WHEN excluded.${c} > ${table}.${c} THEN excluded.${c} ELSE ${table}.${c} END`;
  const add = (c: string) => `${c} = ${table}.${c} + excluded.${c}`;
  return (
    `ON CONFLICT (check_id, bucket) DO UPDATE SET ${['results', 'ok', 'warning', 'critical', 'unknown', 'duration_sum'].map(add).join(', ')}, ` +
    `duration_min = ${least('duration_min')}, duration_max = ${greatest('duration_max')}`
  );
}

/**
 * The roll-up tables and the raw results they are made from. Buckets are made from raw rows
 * in id order, past a stored watermark, in one transaction with the watermark's advance: a
 * crash or an outage leaves nothing counted twice or missed — the next run picks up where the
 * last committed one ended. A late result (an agent's spool drained after an outage) has a new
 * id and an old started_at, so it lands in its own, older bucket.
 */
@Injectable()
export class RollupsRepository {
  private readonly metrics: MetricRollup;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {
    this.metrics = new MetricRollup(dataSource);
  }

  private run<T>(m: EntityManager, text: string, params: readonly unknown[]): Promise<T[]> {
    return portableQuery<T>(this.dataSource, m, text, params);
  }

  /** Rolls up at most `maxRows` raw results past the watermark; returns how many and the new watermark. */
  async rollUp(maxRows: number): Promise<{ rolled: number; watermark: number }> {
    // A read first: with nothing new, no write transaction at all (every few seconds, mostly the case between polls).
    const [newest] = await this.run<{ id: unknown }>(this.dataSource.manager, 'SELECT max(id) AS id FROM check_results', []);
    const seen = await this.watermark();
    if (newest?.id === null || newest?.id === undefined || num(newest.id) <= seen) return { rolled: 0, watermark: seen };
    const done = await inTransaction(this.dataSource, async (m) => {
      const watermark = await this.watermarkIn(m);
      const [range] = await this.run<{ upto: unknown; n: unknown }>(
        m,
        'SELECT max(id) AS upto, count(*) AS n FROM (SELECT id FROM check_results WHERE id > ? ORDER BY id LIMIT ?) AS next_rows',
        [watermark, maxRows],
      );
      const rolled = num(range?.n ?? 0);
      if (rolled === 0) return { rolled: 0, watermark, series: new Map<string, number>() };
      const upto = num(range!.upto);
      // The result writer's hand-over when it holds exactly these results: no reading them back.
      const handed = committedResults(this.dataSource).take(watermark, upto);
      for (const tier of TIERS) {
        if (handed) await this.addHanded(m, tier, handed);
        else await this.addRange(m, tier, watermark, upto);
      }
      const series = await this.metrics.add(m, TIERS, watermark, upto, handed);
      await this.run(m, `UPDATE rollup_progress SET last_result_id = ? WHERE name = 'results'`, [upto]);
      return { rolled, watermark: upto, series };
    });
    this.metrics.remember(done.series);
    return { rolled: done.rolled, watermark: done.watermark };
  }

  private async addRange(m: EntityManager, tier: RollupTier, after: number, upto: number): Promise<void> {
    // Table names and bucket widths are this file's constants, not input: spliced into the text.
    await this.run(
      m,
      `INSERT INTO ${tier.table} (check_id, agent_id, ${BUCKET_COLUMNS}) ` +
        `SELECT check_id, max(agent_id), (started_at / ${tier.bucketMs}) * ${tier.bucketMs} AS b, ${AGGREGATES} ` +
        `FROM check_results WHERE id > ? AND id <= ? GROUP BY check_id, b ${mergeInto(tier.table)}`,
      [after, upto],
    );
  }

  /** {@link addRange} from the writer's hand-over: the same buckets, counted here. */
  private async addHanded(m: EntityManager, tier: RollupTier, handed: readonly CommittedResult[]): Promise<void> {
    const buckets = new Map<string, { checkId: string; agentId: string; b: Bucket }>();
    for (const r of handed) {
      const bucket = r.startedAt - (r.startedAt % tier.bucketMs);
      const key = `${r.checkId}\u0000${bucket}`;
      let e = buckets.get(key);
      if (!e) {
        e = {
          checkId: r.checkId,
          agentId: r.agentId,
          b: { bucket, results: 0, ok: 0, warning: 0, critical: 0, unknown: 0, durationSum: 0, durationMin: r.durationMs, durationMax: r.durationMs },
        };
        buckets.set(key, e);
      }
      const b = e.b;
      b.results++;
      if (r.status === 0) b.ok++;
      else if (r.status === 1) b.warning++;
      else if (r.status === 2) b.critical++;
      else b.unknown++;
      b.durationSum += r.durationMs;
      if (r.durationMs < b.durationMin) b.durationMin = r.durationMs;
      if (r.durationMs > b.durationMax) b.durationMax = r.durationMs;
    }
    const rows = [...buckets.values()].map(({ checkId, agentId, b }) => [
      checkId,
      agentId,
      b.bucket,
      b.results,
      b.ok,
      b.warning,
      b.critical,
      b.unknown,
      b.durationSum,
      b.durationMin,
      b.durationMax,
    ]);
    await bulkSql(this.dataSource).insert(m, tier.table, ['check_id', 'agent_id', ...BUCKET_COLUMNS.split(', ')], rows, mergeInto(tier.table));
  }

  /**
   * Runs reads that must see one state of the tables (the watermark and the buckets it covers):
   * on SQLite behind the same queue as every write, so no roll-up commits in between.
   */
  consistently<T>(work: () => Promise<T>): Promise<T> {
    return serialised(this.dataSource, work);
  }

  async watermark(): Promise<number> {
    return this.watermarkIn(this.dataSource.manager);
  }

  private async watermarkIn(m: EntityManager): Promise<number> {
    const [row] = await this.run<{ last_result_id: unknown }>(m, `SELECT last_result_id FROM rollup_progress WHERE name = 'results'`, []);
    return num(row?.last_result_id ?? 0);
  }

  /** A check's buckets of `tier` starting in [from, to), oldest first. */
  async buckets(tier: RollupTier, checkId: string, from: number, to: number): Promise<Bucket[]> {
    const rows = await this.run<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT ${BUCKET_COLUMNS} FROM ${tier.table} WHERE check_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`,
      [checkId, from, to],
    );
    return rows.map(bucketOf);
  }

  /** Every check's `tier` buckets in [from, to), summed per check: one query for a report over many checks. */
  async bucketTotals(tier: RollupTier, from: number, to: number): Promise<Map<string, Bucket>> {
    if (from >= to) return new Map();
    const rows = await this.run<Record<string, unknown>>(
      this.dataSource.manager,
      'SELECT check_id, 0 AS bucket, sum(results) AS results, sum(ok) AS ok, sum(warning) AS warning, sum(critical) AS critical, sum(unknown) AS unknown, ' +
        `sum(duration_sum) AS duration_sum, min(duration_min) AS duration_min, max(duration_max) AS duration_max FROM ${tier.table} ` +
        'WHERE bucket >= ? AND bucket < ? GROUP BY check_id',
      [from, to],
    );
    return new Map(rows.map((r) => [String(r['check_id']), bucketOf(r)]));
  }

  /** Every check's raw results in [from, to) not rolled up yet (ids past `afterId`), summed per check. */
  async freshTotals(from: number, to: number, afterId: number): Promise<Map<string, Bucket>> {
    if (from >= to) return new Map();
    // The id range is the few newest rows; `+` keeps SQLite's planner on it (see rawBuckets).
    const plus = isPostgres(this.dataSource) ? '' : '+';
    const rows = await this.run<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT check_id, 0 AS bucket, ${AGGREGATES} FROM check_results WHERE id > ? AND ${plus}started_at >= ? AND ${plus}started_at < ? GROUP BY check_id`,
      [afterId, from, to],
    );
    return new Map(rows.map((r) => [String(r['check_id']), bucketOf(r)]));
  }

  /**
   * A check's raw results started in [from, to), grouped into buckets of `bucketMs` counted from
   * `from`; with `afterId`, only those not rolled up yet (ids past the watermark).
   */
  async rawBuckets(checkId: string, from: number, to: number, bucketMs: number, afterId?: number): Promise<Bucket[]> {
    if (from >= to) return [];
    // Past the watermark are the few newest rows: on SQLite the `+` keeps the planner on the id
    // range instead of the (check, time) index, which would read every row of the range.
    const unindexed = afterId !== undefined && !isPostgres(this.dataSource) ? '+' : '';
    const rows = await this.run<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT (started_at - ?) / ? AS k, ${AGGREGATES} FROM check_results WHERE ${afterId === undefined ? '' : 'id > ? AND '}` +
        `${unindexed}check_id = ? AND ${unindexed}started_at >= ? AND ${unindexed}started_at < ? GROUP BY k ORDER BY k`,
      [from, bucketMs, ...(afterId === undefined ? [] : [afterId]), checkId, from, to],
    );
    return rows.map((r) => bucketOf({ ...r, bucket: from + num(r['k']) * bucketMs }));
  }

  /**
   * Deletes up to `batch` of the oldest raw results started before `cutoff` — only rolled-up
   * ones (id at or below the watermark). Looks at the `batch` lowest ids only: ids grow with
   * time, so each call costs its batch however large the table is.
   */
  async pruneRaw(cutoff: number, batch: number): Promise<number> {
    return inTransaction(this.dataSource, async (m) => {
      const watermark = await this.watermarkIn(m);
      const [row] = await this.run<{ n: unknown }>(
        m,
        'SELECT count(*) AS n FROM check_results WHERE id IN (SELECT id FROM check_results WHERE id <= ? ORDER BY id LIMIT ?) AND started_at < ?',
        [watermark, batch, cutoff],
      );
      const n = num(row?.n ?? 0);
      if (n > 0) {
        await this.run(m, 'DELETE FROM check_results WHERE id IN (SELECT id FROM check_results WHERE id <= ? ORDER BY id LIMIT ?) AND started_at < ?', [
          watermark,
          batch,
          cutoff,
        ]);
      }
      return n;
    });
  }

  /** Deletes up to `batch` buckets of `tier` that started before `cutoff`: check buckets, or with `metrics` metric buckets. */
  async pruneTier(tier: RollupTier, cutoff: number, batch: number, metrics = false): Promise<number> {
    const [table, key] = metrics ? [tier.metricTable, 'series_id'] : [tier.table, 'check_id'];
    return inTransaction(this.dataSource, async (m) => {
      const [row] = await this.run<{ n: unknown }>(m, `SELECT count(*) AS n FROM (SELECT bucket FROM ${table} WHERE bucket < ? LIMIT ?) AS old`, [
        cutoff,
        batch,
      ]);
      const n = num(row?.n ?? 0);
      if (n > 0) {
        await this.run(m, `DELETE FROM ${table} WHERE (${key}, bucket) IN (SELECT ${key}, bucket FROM ${table} WHERE bucket < ? ORDER BY bucket LIMIT ?)`, [
          cutoff,
          batch,
        ]);
      }
      return n;
    });
  }

  /** Deletes up to `batch` of the oldest state changes made before `cutoff` (they are kept as long as the hour buckets). */
  async pruneStateChanges(cutoff: number, batch: number): Promise<number> {
    return inTransaction(this.dataSource, async (m) => {
      const old = await this.run<{ id: unknown }>(m, 'SELECT id FROM state_changes WHERE at < ? ORDER BY at LIMIT ?', [cutoff, batch]);
      if (old.length > 0) {
        await this.run(m, 'DELETE FROM state_changes WHERE id IN (SELECT id FROM state_changes WHERE at < ? ORDER BY at LIMIT ?)', [cutoff, batch]);
      }
      return old.length;
    });
  }

  /** Gives up to `pages` free pages back to the file system (SQLite with auto_vacuum=INCREMENTAL; a no-op elsewhere). */
  async releaseFreePages(pages: number): Promise<void> {
    if (isPostgres(this.dataSource)) return;
    await serialised(this.dataSource, () => Promise.resolve(sqliteExec(this.dataSource, `PRAGMA incremental_vacuum(${Math.max(1, Math.floor(pages))})`)));
  }

  /** Pages of the SQLite file that are free (for reuse or release); 0 on PostgreSQL. */
  async freePages(): Promise<number> {
    if (isPostgres(this.dataSource)) return 0;
    const [row] = await this.dataSource.query<{ freelist_count: unknown }[]>('PRAGMA freelist_count');
    return num(row?.freelist_count ?? 0);
  }
}

function bucketOf(r: Record<string, unknown>): Bucket {
  return {
    bucket: num(r['bucket']),
    results: num(r['results']),
    ok: num(r['ok']),
    warning: num(r['warning']),
    critical: num(r['critical']),
    unknown: num(r['unknown']),
    durationSum: num(r['duration_sum']),
    durationMin: num(r['duration_min']),
    durationMax: num(r['duration_max']),
  };
}
