import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { bulkSql, num } from '../storage/bulk-sql.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { portableQuery } from '../storage/transaction.js';
import type { CommittedResult } from '../storage/committed-results.js';

/** One metric series of a check: a metric name with one set of labels (`filesystem_used_ratio{mount="/"}`). */
export interface Series {
  id: number;
  checkId: string;
  name: string;
  labels: Record<string, string>;
  unit: string;
}

/** A metric series' samples over one bucket (or one stretch of raw results). */
export interface MetricBucket {
  bucket: number;
  samples: number;
  sum: number;
  min: number;
  max: number;
}

/** Where one tier's metric buckets live and how wide they are. */
export interface MetricTier {
  metricTable: string;
  bucketMs: number;
}

/** A metric as the result writer stores it in check_results.metrics_json. */
interface StoredSample {
  name?: unknown;
  value?: unknown;
  unit?: unknown;
  labels?: unknown;
}

/** Labels as the series key stores them: a JSON object with sorted keys, `{}` without labels. */
export function labelsText(labels: unknown): string {
  if (!labels || typeof labels !== 'object') return '{}';
  return JSON.stringify(Object.fromEntries(Object.entries(labels as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** The samples of one stored result: finite values only (a NaN never reaches a bucket), unreadable JSON as none. */
export function samplesOf(metricsJson: string): { name: string; value: number; unit: string; labels: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(metricsJson);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: { name: string; value: number; unit: string; labels: string }[] = [];
  for (const m of parsed as StoredSample[]) {
    if (typeof m?.name !== 'string' || typeof m.value !== 'number' || !Number.isFinite(m.value)) continue;
    out.push({ name: m.name, value: m.value, unit: typeof m.unit === 'string' ? m.unit : '', labels: labelsText(m.labels) });
  }
  return out;
}

const seriesKey = (checkId: string, name: string, labels: string) => `${checkId}\u0000${name}\u0000${labels}`;

/** One series' samples over one bucket of the finest tier, as read from raw results. */
export interface GroupedSamples extends MetricBucket {
  checkId: string;
  name: string;
  /** Canonical: {@link labelsText}. */
  labels: string;
  unit: string;
}

/** One series' samples in this roll-up: per tier, its buckets by start. */
interface SeriesSamples {
  key: string;
  /** The metric_series row to insert when the series is new: check, name, labels, unit. */
  row: unknown[];
  tiers: Map<number, MetricBucket>[];
}

function merge(into: Map<number, MetricBucket>, bucket: number, g: MetricBucket): void {
  const b = into.get(bucket);
  if (!b) into.set(bucket, { bucket, samples: g.samples, sum: g.sum, min: g.min, max: g.max });
  else {
    b.samples += g.samples;
    b.sum += g.sum;
    if (g.min < b.min) b.min = g.min;
    if (g.max > b.max) b.max = g.max;
  }
}

/** Samples grouped by series and bucket: per check a map by name (and labels, when there are any), per series a map by bucket. */
class Grouping {
  readonly out: GroupedSamples[] = [];
  private readonly byCheck = new Map<string, Map<string, Map<number, GroupedSamples>>>();

  constructor(private readonly bucketMs: number) {}

  add(checkId: string, startedAt: number, samples: readonly StoredSample[]): void {
    const bucket = startedAt - (startedAt % this.bucketMs);
    let series = this.byCheck.get(checkId);
    if (!series) this.byCheck.set(checkId, (series = new Map<string, Map<number, GroupedSamples>>()));
    for (const s of samples) {
      const value = s?.value;
      if (typeof value !== 'number' || !Number.isFinite(value) || typeof s.name !== 'string') continue;
      const labels = s.labels === undefined ? '{}' : labelsText(s.labels);
      const key = labels === '{}' ? s.name : `${s.name}\u0000${labels}`;
      let buckets = series.get(key);
      if (!buckets) series.set(key, (buckets = new Map<number, GroupedSamples>()));
      const g = buckets.get(bucket);
      if (!g) {
        const made = { checkId, name: s.name, labels, unit: typeof s.unit === 'string' ? s.unit : '', bucket, samples: 1, sum: value, min: value, max: value };
        buckets.set(bucket, made);
        this.out.push(made);
      } else {
        g.samples++;
        g.sum += value;
        if (value < g.min) g.min = value;
        if (value > g.max) g.max = value;
      }
    }
  }
}

/**
 * Rolls the metric samples of raw results into the metric buckets, inside the check roll-up's
 * transaction (history/rollups.repository.ts) so both advance with the one watermark. Series ids
 * are remembered once their transaction committed: a rolled-back one could hand out an id that
 * no longer exists.
 */
export class MetricRollup {
  private readonly known = new Map<string, number>();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Adds the samples of the results with ids in (after, upto] to every tier (each tier's width a
   * multiple of the first's); returns the series it created, for {@link remember}.
   */
  async add(
    m: EntityManager,
    tiers: readonly MetricTier[],
    after: number,
    upto: number,
    handed: readonly CommittedResult[] | null,
  ): Promise<Map<string, number>> {
    const created = new Map<string, number>();
    const grouped = await this.grouped(m, after, upto, tiers[0]!.bucketMs, handed);
    if (grouped.length === 0) return created;
    const series = new Map<string, SeriesSamples>();
    for (const g of grouped) {
      const key = seriesKey(g.checkId, g.name, g.labels);
      let acc = series.get(key);
      if (!acc) {
        acc = { key, row: [g.checkId, g.name, g.labels, g.unit], tiers: tiers.map(() => new Map<number, MetricBucket>()) };
        series.set(key, acc);
      }
      for (let i = 0; i < tiers.length; i++) merge(acc.tiers[i]!, g.bucket - (g.bucket % tiers[i]!.bucketMs), g);
    }
    const bulk = bulkSql(this.dataSource);
    const missing = [...series.values()].filter((acc) => !this.known.has(acc.key));
    if (missing.length > 0) {
      await bulk.insert(
        m,
        'metric_series',
        ['check_id', 'name', 'labels_json', 'unit'],
        missing.map((acc) => acc.row),
        'ON CONFLICT (check_id, name, labels_json) DO NOTHING',
      );
      const found = await bulk.selectIn<{ id: unknown; check_id: string; name: string; labels_json: string }>(
        m,
        'metric_series',
        ['id', 'check_id', 'name', 'labels_json'],
        'check_id',
        [...new Set(missing.map((acc) => acc.row[0] as string))],
      );
      for (const f of found) created.set(seriesKey(f.check_id, f.name, f.labels_json), num(f.id));
    }
    for (const [i, tier] of tiers.entries()) {
      const t = tier.metricTable;
      const rows: unknown[][] = [];
      for (const acc of series.values()) {
        const id = this.known.get(acc.key) ?? created.get(acc.key);
        for (const b of acc.tiers[i]!.values()) rows.push([id, b.bucket, b.samples, b.sum, b.min, b.max]);
      }
      await bulk.insert(
        m,
        t,
        ['series_id', 'bucket', 'samples', 'value_sum', 'value_min', 'value_max'],
        rows,
        `ON CONFLICT (series_id, bucket) DO UPDATE SET samples = ${t}.samples + excluded.samples, value_sum = ${t}.value_sum + excluded.value_sum, ` +
          `value_min = CASE WHEN excluded.value_min < ${t}.value_min THEN excluded.value_min ELSE ${t}.value_min END, ` +
          `value_max = CASE WHEN excluded.value_max > ${t}.value_max THEN excluded.value_max ELSE ${t}.value_max END`,
      );
    }
    return created;
  }

  /**
   * The samples of the results with ids in (after, upto] grouped by series and bucket of
   * `bucketMs`: from the result writer's hand-over (`handed`, their metrics still parsed) when
   * there is one, else read back from check_results. Reading and parsing each result's JSON
   * was most of a roll-up's time (bench: ingest); SQLite's json_each grouped them twice as
   * slowly still (json_extract parses each element once per field).
   */
  async grouped(m: EntityManager, after: number, upto: number, bucketMs: number, handed: readonly CommittedResult[] | null): Promise<GroupedSamples[]> {
    const grouping = new Grouping(bucketMs);
    if (handed) {
      for (const r of handed) if (r.metrics.length > 0) grouping.add(r.checkId, r.startedAt, r.metrics);
      return grouping.out;
    }
    const rows = await bulkSql(this.dataSource).all<{ check_id: string; started_at: unknown; metrics_json: string }>(
      m,
      `SELECT check_id, started_at, metrics_json FROM check_results WHERE id > ? AND id <= ? AND metrics_json <> '[]'`,
      [after, upto],
    );
    for (const row of rows) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(row.metrics_json);
      } catch {
        continue;
      }
      if (Array.isArray(parsed)) grouping.add(row.check_id, num(row.started_at), parsed as StoredSample[]);
    }
    return grouping.out;
  }

  /** Called once the transaction that created these series committed. */
  remember(created: ReadonlyMap<string, number>): void {
    for (const [key, id] of created) this.known.set(key, id);
  }
}

/** The metric series of checks and their buckets, as history queries read them. */
@Injectable()
export class MetricSeriesRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  private run<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    return portableQuery<T>(this.dataSource, this.dataSource.manager, text, params);
  }

  /** The series of these checks, by check, name and labels. */
  async ofChecks(checkIds: readonly string[]): Promise<Series[]> {
    const rows = await bulkSql(this.dataSource).selectIn<Record<string, unknown>>(
      this.dataSource.manager,
      'metric_series',
      ['id', 'check_id', 'name', 'labels_json', 'unit'],
      'check_id',
      checkIds,
    );
    return rows
      .map(seriesOf)
      .sort((a, b) => compare(a.checkId, b.checkId) || compare(a.name, b.name) || compare(JSON.stringify(a.labels), JSON.stringify(b.labels)));
  }

  /** One tier's buckets of a series starting in [from, to), oldest first. */
  async buckets(tier: MetricTier, seriesId: number, from: number, to: number): Promise<MetricBucket[]> {
    const rows = await this.run<Record<string, unknown>>(
      `SELECT bucket, samples, value_sum, value_min, value_max FROM ${tier.metricTable} WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`,
      [seriesId, from, to],
    );
    return rows.map((r) => ({
      bucket: num(r['bucket']),
      samples: num(r['samples']),
      sum: num(r['value_sum']),
      min: num(r['value_min']),
      max: num(r['value_max']),
    }));
  }

  /** A check's raw results started in [from, to) with their metrics; with `afterId`, only those not rolled up yet. */
  async rawResults(checkId: string, from: number, to: number, afterId?: number): Promise<{ startedAt: number; metricsJson: string }[]> {
    const rows = await this.run<{ started_at: unknown; metrics_json: string }>(
      `SELECT started_at, metrics_json FROM check_results WHERE ${afterId === undefined ? '' : 'id > ? AND '}check_id = ? AND started_at >= ? AND started_at < ?`,
      [...(afterId === undefined ? [] : [afterId]), checkId, from, to],
    );
    return rows.map((r) => ({ startedAt: num(r.started_at), metricsJson: r.metrics_json }));
  }
}

function seriesOf(r: Record<string, unknown>): Series {
  return {
    id: num(r['id']),
    checkId: String(r['check_id']),
    name: String(r['name']),
    labels: JSON.parse(String(r['labels_json'])) as Record<string, string>,
    unit: String(r['unit']),
  };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
