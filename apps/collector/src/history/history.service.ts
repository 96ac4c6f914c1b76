import { Inject, Injectable } from '@nestjs/common';
import { CHECK_STATUSES, type CheckStatus, type Clock } from '#rounds/common';
import type { CollectorConfig } from '../config/env.js';
import { NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { CLOCK, COLLECTOR_CONFIG } from '../shared/tokens.js';
import { CurrentState, type CheckRecord } from '../state/current-state.js';
import { matchesTag, type TagSelector } from '../shared/tags.js';
import { ResultsRepository, type StoredStateChange } from './results.repository.js';
import type { CheckResultEntity, StatusCode } from '../storage/entities/index.js';
import type { ListSeriesQuery, ListTagsQuery, RecentResultsQuery, SERIES_SORT_KEYS, StateHistoryQuery, TAG_SORT_KEYS } from './history.dto.js';
import { byNumber, byText, nameContains, type Matchers } from '../shared/dto.js';
import { RollupsRepository, TIERS, type Bucket, type RollupTier } from './rollups.repository.js';
import { MetricSeriesRepository, labelsText, samplesOf, type MetricBucket, type Series } from './metric-series.repository.js';

export type { Series } from './metric-series.repository.js';

const MINUTE = 60_000;
/** From how many checks a batch of uptimes is counted with grouped queries rather than check by check. */
const GROUPED_FROM = 50;
const HOUR = 3_600_000;

/** Results counted by status, and the uptime they give. */
export interface StatusCounts {
  results: number;
  ok: number;
  warning: number;
  critical: number;
  unknown: number;
  /** OK results as a share of all results, in percent; null without results. */
  uptimePercent: number | null;
}

/** The counts over a range (the range counted: its ends may round outward past raw retention). */
export interface Uptime extends StatusCounts {
  from: number;
  to: number;
  /** Time left out because maintenance windows covered the check (summed over checks for an agent). */
  maintenanceMs: number;
}

/** What a maintenance window's matchers look at: the check's labels (alerting/engine-checks.ts). */
export interface CheckIdentity {
  checkId: string;
  agentId: string;
  checkName: string | null;
  agentName: string | null;
  plugin: string | null;
  /** Its tags with its agent's: maintenance windows may match them. */
  tags?: Record<string, string>;
}

/** When maintenance covered a check within [from, to): merged intervals, in order. */
export type MaintenanceOf = (check: CheckIdentity, from: number, to: number) => readonly { start: number; end: number }[];

function identityOf(check: { id: string; agentId: string; name: string; plugin: string }, agentName: string, tags: Record<string, string>): CheckIdentity {
  return { checkId: check.id, agentId: check.agentId, checkName: check.name, agentName, plugin: check.plugin, tags };
}

/** One point of a check's history; a point without results is a gap (`results: 0`, nulls). */
export interface HistoryPoint extends StatusCounts {
  t: number;
  durationAvgMs: number | null;
  durationMinMs: number | null;
  durationMaxMs: number | null;
}

/** One line of the SLA report: a check (with its agent), an agent, or a tag's value. */
export interface SlaRow extends Uptime {
  name: string;
  /** The check's agent; for an agent, itself; empty for a tag's value. */
  agent: string;
}

/** What the SLA report has one line for: each check, each agent, or each value of one tag key (`site`: north, south). */
export type SlaGrouping = { by: 'check' } | { by: 'agent' } | { by: 'tag'; key: string };

/** A tag's value and how many checks carry it (their own or their agent's). */
export interface TagCount {
  key: string;
  value: string;
  checks: number;
}

/** A stored result as the API and the check page show it. */
function resultView(r: CheckResultEntity) {
  return {
    seq: r.seq,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    status: CHECK_STATUSES[r.status],
    reason: r.reason,
    summary: r.summary,
    metrics: JSON.parse(r.metricsJson) as unknown,
  };
}

/** A stored state change as the API and the check page show it. */
function stateChangeView(c: StoredStateChange): StateChange {
  return { at: c.at, from: c.from === null ? null : CHECK_STATUSES[c.from], to: CHECK_STATUSES[c.to], until: c.until, reason: c.reason, summary: c.summary };
}

/** The orders of `GET /tags?sort=`: by `key=value`, or by how many checks carry it. */
export const TAG_ORDER: Record<(typeof TAG_SORT_KEYS)[number], (a: TagCount, b: TagCount) => number> = {
  tag: byText((t) => `${t.key}=${t.value}`),
  checks: byNumber((t) => t.checks),
};
export const TAG_FILTERS: Matchers<TagCount, ListTagsQuery> = { key: (t, key) => t.key === key };

export const SERIES_ORDER: Record<(typeof SERIES_SORT_KEYS)[number], (a: Series, b: Series) => number> = {
  name: byText((s) => s.name),
  unit: byText((s) => s.unit),
};
export const SERIES_FILTERS: Matchers<Series, ListSeriesQuery> = { name: (s, name) => nameContains(s.name, name) };

export interface History {
  from: number;
  to: number;
  /** Width of each point. */
  stepMs: number;
  /** Where the points were read: raw results, or the 1-minute or 1-hour buckets. */
  source: 'raw' | '1m' | '1h';
  points: HistoryPoint[];
}

/** The check's status took a different value at `at` and kept it `until` (null: it still has it). */
export interface StateChange {
  at: number;
  /** null: the check's first result. */
  from: CheckStatus | null;
  to: CheckStatus;
  until: number | null;
  reason: string;
  summary: string;
}

export interface StateHistory {
  from: number;
  to: number;
  /** The status the range starts in and since when; null when the check had no result before `from`. */
  start: { status: CheckStatus; since: number } | null;
  /** The changes in the range, newest first. */
  changes: StateChange[];
  /** More changes in the range than `limit`: the oldest are left out. */
  more: boolean;
}

/** One point of a metric series' history; a point without samples is a gap (nulls). */
export interface MetricPoint {
  t: number;
  samples: number;
  avg: number | null;
  min: number | null;
  max: number | null;
}

export interface MetricHistory extends Omit<History, 'points'> {
  series: Series;
  points: MetricPoint[];
}

/** The plugin whose series are an agent's host metrics. */
const HOST_METRICS = 'host-metrics';

const EMPTY: Bucket = { bucket: 0, results: 0, ok: 0, warning: 0, critical: 0, unknown: 0, durationSum: 0, durationMin: Infinity, durationMax: -Infinity };

function merged(a: Bucket, b: Bucket): Bucket {
  return {
    bucket: a.bucket,
    results: a.results + b.results,
    ok: a.ok + b.ok,
    warning: a.warning + b.warning,
    critical: a.critical + b.critical,
    unknown: a.unknown + b.unknown,
    durationSum: a.durationSum + b.durationSum,
    durationMin: Math.min(a.durationMin, b.durationMin),
    durationMax: Math.max(a.durationMax, b.durationMax),
  };
}

const percent = (b: Bucket) => (b.results === 0 ? null : (100 * b.ok) / b.results);
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/** Stored results of a check, as the API shows them: the latest ones, its history over any range, its uptime. */
@Injectable()
export class HistoryService {
  constructor(
    private readonly results: ResultsRepository,
    private readonly rollups: RollupsRepository,
    private readonly series: MetricSeriesRepository,
    private readonly state: CurrentState,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The check's latest results, newest first; a check that does not exist has no history (404), not an empty one. */
  async recent(checkId: string, limit: number) {
    this.known(checkId);
    return (await this.results.recent(checkId, limit)).map(resultView);
  }

  /** The check's results, one page (`GET /checks/:id/results`), and how many match. */
  async resultsPage(checkId: string, query: RecentResultsQuery) {
    this.known(checkId);
    const { total, page } = await this.results.findPage(checkId, {
      from: query.from,
      to: query.to,
      status: query.status === undefined ? undefined : CHECK_STATUSES.indexOf(query.status),
      oldestFirst: !query.sort.descending,
      offset: query.offset,
      // The schema's default: always a number here.
      limit: query.limit ?? 100,
    });
    return { total, page: page.map(resultView) };
  }

  /**
   * Uptime over [from, to): whole hours from the hour buckets, whole minutes around them from the
   * minute buckets, the partial minutes at the ends and what is not rolled up yet from raw
   * results — the same counts as reading every raw result, at a fraction of the rows. Where raw
   * results are past their retention, the range's ends round outward to whole minutes (to whole
   * hours past the minute buckets'); the answer says the range it counted. With `maintenance`,
   * the times its windows covered the check are left out, each stretch between them counted
   * the same way.
   */
  async uptime(checkId: string, from: number, to: number, maintenance?: MaintenanceOf): Promise<Uptime> {
    const record = this.known(checkId);
    [from, to] = this.rounded(from, to);
    const skipped = maintenance?.(identityOf(record.check, this.state.agentName(record.check.agentId), this.state.tagsOf(record.check)), from, to) ?? [];
    const stretches: [number, number][] = [];
    let at = from;
    for (const w of skipped) {
      if (w.start > at) stretches.push([at, w.start]);
      at = Math.max(at, w.end);
    }
    if (at < to) stretches.push([at, to]);
    const total = await this.rollups.consistently(async () => {
      const watermark = await this.rollups.watermark();
      const parts = await Promise.all(stretches.map(([a, b]) => this.counted(checkId, a, b, watermark)));
      return parts.flat().reduce(merged, EMPTY);
    });
    return uptimeOf(
      from,
      to,
      total,
      skipped.reduce((ms, w) => ms + w.end - w.start, 0),
    );
  }

  /**
   * The uptime of many checks over one range, the same figures as {@link uptime} each: checks no
   * maintenance window covered are counted together, a few grouped queries for all of them (an
   * SLA report over 2,000 checks), the others one by one.
   */
  async uptimes(checkIds: readonly string[], from: number, to: number, maintenance?: MaintenanceOf): Promise<Map<string, Uptime>> {
    const [f, t] = this.rounded(from, to);
    const out = new Map<string, Uptime>();
    const plain = new Set<string>();
    for (const id of checkIds) {
      const record = this.known(id);
      const covered = maintenance?.(identityOf(record.check, this.state.agentName(record.check.agentId), this.state.tagsOf(record.check)), f, t) ?? [];
      if (covered.length > 0) out.set(id, await this.uptime(id, from, to, maintenance));
      else plain.add(id);
    }
    // The grouped queries read every check's buckets in the range: for a handful (one agent's) the per-check queries read less.
    if (plain.size <= GROUPED_FROM) {
      for (const id of plain) out.set(id, await this.uptime(id, from, to));
      return out;
    }
    const totals = await this.rollups.consistently(async () => this.countedMany(plain, f, t, await this.rollups.watermark()));
    for (const id of plain) out.set(id, uptimeOf(f, t, totals.get(id) ?? EMPTY, 0));
    return out;
  }

  /** Past a tier's retention its rows are gone: the ends there round outward to what the next tier keeps. */
  private rounded(from: number, to: number): [number, number] {
    const now = this.clock.now();
    const { rawMs, minuteMs } = this.config.retention;
    const grain = (t: number) => (t < now - minuteMs ? HOUR : t < now - rawMs ? MINUTE : 1);
    return [floorTo(from, grain(from)), ceilTo(to, grain(to))];
  }

  /** {@link counted} for many checks at once: grouped by check over the buckets and the rows not rolled up yet. */
  private async countedMany(ids: ReadonlySet<string>, from: number, to: number, watermark: number): Promise<Map<string, Bucket>> {
    const totals = new Map<string, Bucket>();
    const add = (id: string, b: Bucket) => {
      if (!ids.has(id)) return;
      const seen = totals.get(id);
      totals.set(id, seen ? merged(seen, b) : b);
    };
    const m0 = ceilTo(from, MINUTE);
    const m1 = floorTo(to, MINUTE);
    // Partial minutes at the ends: raw rows, found per check by its index (a report's whole months have none).
    const edges: [number, number][] =
      m0 >= m1
        ? [[from, to]]
        : [
            [from, m0],
            [m1, to],
          ];
    for (const [a, b] of edges.filter(([a, b]) => a < b)) {
      for (const id of ids) for (const bucket of await this.rollups.rawBuckets(id, a, b, b - a)) add(id, bucket);
    }
    if (m0 >= m1) return totals;
    const h0 = ceilTo(m0, HOUR);
    const h1 = floorTo(m1, HOUR);
    const [minute, hour] = TIERS as [RollupTier, RollupTier];
    const spans: [RollupTier, number, number][] =
      h0 >= h1
        ? [[minute, m0, m1]]
        : [
            [minute, m0, h0],
            [hour, h0, h1],
            [minute, h1, m1],
          ];
    for (const [tier, a, b] of spans) for (const [id, bucket] of await this.rollups.bucketTotals(tier, a, b)) add(id, bucket);
    for (const [id, bucket] of await this.rollups.freshTotals(m0, m1, watermark)) add(id, bucket);
    return totals;
  }

  /** The buckets that together hold the check's results in [from, to) exactly. */
  private counted(checkId: string, from: number, to: number, watermark: number): Promise<Bucket[]> {
    const m0 = ceilTo(from, MINUTE);
    const m1 = floorTo(to, MINUTE);
    if (m0 >= m1) return this.rollups.rawBuckets(checkId, from, to, to - from);
    const parts: Promise<Bucket[]>[] = [this.rollups.rawBuckets(checkId, from, m0, MINUTE), this.rollups.rawBuckets(checkId, m1, to, MINUTE)];
    const h0 = ceilTo(m0, HOUR);
    const h1 = floorTo(m1, HOUR);
    const [minute, hour] = TIERS as [RollupTier, RollupTier];
    if (h0 >= h1) parts.push(this.rollups.buckets(minute, checkId, m0, m1));
    else parts.push(this.rollups.buckets(minute, checkId, m0, h0), this.rollups.buckets(hour, checkId, h0, h1), this.rollups.buckets(minute, checkId, h1, m1));
    parts.push(this.rollups.rawBuckets(checkId, m0, m1, m1 - m0, watermark));
    return Promise.all(parts).then((p) => p.flat());
  }

  /**
   * At most `points` points over [from, to): raw results when a point is under a minute wide,
   * else minute or hour buckets — the coarser when the finer ones are past their retention.
   * Points without results are gaps.
   */
  async history(checkId: string, from: number, to: number, points: number): Promise<History> {
    this.known(checkId);
    const { tier, start, step } = this.plan(from, to, points);
    const buckets = await this.rollups.consistently(async () => {
      if (!tier) return this.rollups.rawBuckets(checkId, start, to, step);
      const watermark = await this.rollups.watermark();
      const [rolled, fresh] = await Promise.all([this.rollups.buckets(tier, checkId, start, to), this.rollups.rawBuckets(checkId, start, to, step, watermark)]);
      return [...rolled, ...fresh];
    });
    const slots = new Map<number, Bucket>();
    for (const b of buckets) {
      const t = start + floorTo(b.bucket - start, step);
      const seen = slots.get(t);
      slots.set(t, seen ? merged(seen, b) : { ...b, bucket: t });
    }
    const out: HistoryPoint[] = [];
    for (let t = start; t < to; t += step) out.push(pointOf(t, slots.get(t)));
    return { from: start, to, stepMs: step, source: tier?.name ?? 'raw', points: out };
  }

  /**
   * Where the points of a history over [from, to) come from and how wide they are: raw results
   * when a point is under a minute wide, else minute or hour buckets — the coarser when the finer
   * ones are past their retention. At most `points` points.
   */
  private plan(from: number, to: number, points: number): { tier: RollupTier | null; start: number; step: number } {
    const now = this.clock.now();
    const wanted = Math.ceil((to - from) / points);
    const [minute, hour] = TIERS as [RollupTier, RollupTier];
    const retention = this.config.retention;
    const tier: RollupTier | null = wanted >= HOUR || from < now - retention.minuteMs ? hour : wanted >= MINUTE || from < now - retention.rawMs ? minute : null;
    const start = tier ? floorTo(from, tier.bucketMs) : from;
    let step = tier ? ceilTo(Math.max(wanted, tier.bucketMs), tier.bucketMs) : Math.max(1000, wanted);
    // Starting at a bucket boundary before `from` may need one point more than asked: widen the step instead.
    while (tier && Math.ceil((to - start) / step) > points) step += tier.bucketMs;
    return { tier, start, step };
  }

  /** The check's state changes over [from, to), newest first, each with how long it lasted; at most `limit`, and the status the range starts in. */
  async stateHistory(checkId: string, from: number, to: number, limit: number): Promise<StateHistory> {
    this.known(checkId);
    const [before, { total, page }] = await Promise.all([
      this.results.stateBefore(checkId, from),
      this.results.stateChanges(checkId, { from, to, oldestFirst: false, offset: 0, limit }),
    ]);
    return {
      from,
      to,
      start: before ? { status: CHECK_STATUSES[before.to], since: before.at } : null,
      changes: page.map(stateChangeView),
      more: total > limit,
    };
  }

  /** The API's list of a check's state changes: one page (newest first unless asked) and how many pass the query. */
  async stateChangesPage(checkId: string, query: StateHistoryQuery): Promise<{ total: number; page: StateChange[] }> {
    this.known(checkId);
    const { total, page } = await this.results.stateChanges(checkId, {
      from: query.from,
      to: query.to,
      status: query.state === undefined ? undefined : (CHECK_STATUSES.indexOf(query.state) as StatusCode),
      oldestFirst: !query.sort.descending,
      offset: query.offset,
      // The schema's default: always a number here.
      limit: query.limit ?? 100,
    });
    return { total, page: page.map(stateChangeView) };
  }

  /** The metric series a check has reported (rolled up so far), by name and labels. */
  async checkSeries(checkId: string): Promise<Series[]> {
    this.known(checkId);
    return this.series.ofChecks([checkId]);
  }

  /** An agent's host metrics: the series of its host-metrics checks. */
  async agentSeries(agentId: string): Promise<Series[]> {
    return this.series.ofChecks(this.hostChecks(agentId));
  }

  /**
   * A metric series' history over [from, to) in at most `points` points of count, average, min
   * and max, from the tier {@link history} would pick; `series` is its id or, when only one
   * series has it, its name.
   */
  async checkMetricHistory(checkId: string, series: string, from: number, to: number, points: number): Promise<MetricHistory> {
    this.known(checkId);
    return this.metricHistory(this.pick(await this.series.ofChecks([checkId]), series, `/api/v1/checks/${checkId}/series`), from, to, points);
  }

  /** {@link checkMetricHistory} for one of an agent's host metrics. */
  async agentMetricHistory(agentId: string, series: string, from: number, to: number, points: number): Promise<MetricHistory> {
    return this.metricHistory(this.pick(await this.series.ofChecks(this.hostChecks(agentId)), series, `/api/v1/agents/${agentId}/series`), from, to, points);
  }

  private hostChecks(agentId: string): string[] {
    const agent = this.state.findAgent(agentId);
    if (!agent) throw new NotFoundError(`no agent with id or name "${agentId}" — GET /api/v1/agents lists them`);
    return this.state
      .listChecks(agent.agent.id)
      .filter((c) => c.check.plugin === HOST_METRICS)
      .map((c) => c.check.id);
  }

  private pick(all: readonly Series[], ref: string, listedAt: string): Series {
    const byId = /^\d+$/.test(ref) ? all.find((s) => s.id === Number(ref)) : undefined;
    if (byId) return byId;
    const named = all.filter((s) => s.name === ref);
    if (named.length === 1) return named[0]!;
    if (named.length === 0) throw new NotFoundError(`no metric series "${ref}" here — GET ${listedAt} lists them`);
    throw new ValidationFailedError('ambiguous series', [
      {
        field: 'series',
        message: `${ref} has ${named.length} series (${named
          .slice(0, 5)
          .map((s) => labelsText(s.labels))
          .join(', ')}${named.length > 5 ? ', …' : ''}) — name one by its id from GET ${listedAt}`,
      },
    ]);
  }

  /** Every stored metric series of these checks. */
  async seriesOf(checkIds: readonly string[]): Promise<Series[]> {
    return this.series.ofChecks(checkIds);
  }

  /**
   * A series over [from, to) as up to 120 averages (from raw results or roll-ups, as
   * {@link checkMetricHistory} would read them), each at its bucket's middle: what a forecast
   * rule fits its line through.
   */
  async trendPoints(series: Series, from: number, to: number): Promise<{ t: number; v: number }[]> {
    const history = await this.metricHistory(series, from, to, 120);
    return history.points.flatMap((p) => (p.avg === null ? [] : [{ t: Math.min(p.t + history.stepMs / 2, to), v: p.avg }]));
  }

  private async metricHistory(series: Series, from: number, to: number, points: number): Promise<MetricHistory> {
    const { tier, start, step } = this.plan(from, to, points);
    const buckets = await this.rollups.consistently(async () => {
      if (!tier) return this.rawSamples(series, start, to, step);
      const watermark = await this.rollups.watermark();
      const [rolled, fresh] = await Promise.all([this.series.buckets(tier, series.id, start, to), this.rawSamples(series, start, to, step, watermark)]);
      return [...rolled, ...fresh];
    });
    const slots = new Map<number, MetricBucket>();
    for (const b of buckets) {
      const t = start + floorTo(b.bucket - start, step);
      const seen = slots.get(t);
      slots.set(
        t,
        seen
          ? { bucket: t, samples: seen.samples + b.samples, sum: seen.sum + b.sum, min: Math.min(seen.min, b.min), max: Math.max(seen.max, b.max) }
          : { ...b, bucket: t },
      );
    }
    const out: MetricPoint[] = [];
    for (let t = start; t < to; t += step) {
      const b = slots.get(t);
      out.push(
        b && b.samples > 0 ? { t, samples: b.samples, avg: b.sum / b.samples, min: b.min, max: b.max } : { t, samples: 0, avg: null, min: null, max: null },
      );
    }
    return { from: start, to, stepMs: step, source: tier?.name ?? 'raw', series, points: out };
  }

  /** The series' samples in the raw results of [from, to) (past `afterId` when given), in buckets of `step` counted from `from`. */
  private async rawSamples(series: Series, from: number, to: number, step: number, afterId?: number): Promise<MetricBucket[]> {
    const labels = labelsText(series.labels);
    const buckets = new Map<number, MetricBucket>();
    for (const r of await this.series.rawResults(series.checkId, from, to, afterId)) {
      for (const s of samplesOf(r.metricsJson)) {
        if (s.name !== series.name || s.labels !== labels) continue;
        const k = from + floorTo(r.startedAt - from, step);
        const b = buckets.get(k);
        if (!b) buckets.set(k, { bucket: k, samples: 1, sum: s.value, min: s.value, max: s.value });
        else {
          b.samples++;
          b.sum += s.value;
          b.min = Math.min(b.min, s.value);
          b.max = Math.max(b.max, s.value);
        }
      }
    }
    return [...buckets.values()];
  }

  /** An agent's uptime: the results of all its checks over [from, to), counted together. */
  async agentUptime(agentId: string, from: number, to: number, maintenance?: MaintenanceOf): Promise<Uptime> {
    const agent = this.state.agent(agentId) ?? this.state.listAgents().find((a) => a.agent.name === agentId);
    if (!agent) throw new NotFoundError(`no agent with id or name "${agentId}" — GET /api/v1/agents lists them`);
    return this.sum(
      from,
      to,
      this.state.listChecks(agent.agent.id).map((c) => c.check.id),
      maintenance,
    );
  }

  /** The uptime of the checks carrying a tag (their own or their agent's), counted together. */
  async tagUptime(tag: TagSelector, from: number, to: number, maintenance?: MaintenanceOf): Promise<Uptime> {
    const ids = this.tagged(tag).map((c) => c.check.id);
    if (ids.length === 0)
      throw new NotFoundError(`no check carries the tag "${tag.key}${tag.value === undefined ? '' : `=${tag.value}`}" — GET /api/v1/tags lists them`);
    return this.sum(from, to, ids, maintenance);
  }

  /** Every tag key and value in use, with how many checks carry it, in key then value order. */
  tags(): TagCount[] {
    const counts = new Map<string, TagCount>();
    for (const { check } of this.state.listChecks()) {
      for (const [key, value] of Object.entries(this.state.tagsOf(check))) {
        const id = JSON.stringify([key, value]);
        const seen = counts.get(id);
        if (seen) seen.checks++;
        else counts.set(id, { key, value, checks: 1 });
      }
    }
    return [...counts.values()].sort((a, b) => (a.key === b.key ? (a.value < b.value ? -1 : 1) : a.key < b.key ? -1 : 1));
  }

  /**
   * Uptime over [from, to) for the monthly SLA report: one row per check, per agent or per value
   * of a tag key (checks without that key on one row of their own), of the checks `filter`
   * selects (all without one). Every check is counted once, then summed per group.
   */
  async slaRows(from: number, to: number, grouping: SlaGrouping, maintenance?: MaintenanceOf, filter?: TagSelector): Promise<SlaRow[]> {
    const checks = filter ? this.tagged(filter) : this.state.listChecks();
    const uptimes = await this.uptimes(
      checks.map((c) => c.check.id),
      from,
      to,
      maintenance,
    );
    if (grouping.by === 'check') {
      return checks.map(({ check }) => ({ name: check.name, agent: this.state.agentName(check.agentId), ...uptimes.get(check.id)! }));
    }
    const groups = new Map<string, Uptime[]>();
    // Every agent has its line, one without checks too (its uptime is then empty, not missing).
    if (grouping.by === 'agent' && !filter) for (const { agent } of this.state.listAgents()) groups.set(agent.name, []);
    for (const { check } of checks) {
      const name = grouping.by === 'agent' ? this.state.agentName(check.agentId) : (this.state.tagsOf(check)[grouping.key] ?? `(no ${grouping.key})`);
      groups.set(name, [...(groups.get(name) ?? []), uptimes.get(check.id)!]);
    }
    const [f, t] = this.rounded(from, to);
    return [...groups]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, each]) => ({ name, agent: grouping.by === 'agent' ? name : '', ...summed(each, f, t) }));
  }

  private tagged(tag: TagSelector): CheckRecord[] {
    return this.state.listChecks().filter((c) => matchesTag(this.state.tagsOf(c.check), tag));
  }

  private async sum(from: number, to: number, checkIds: readonly string[], maintenance: MaintenanceOf | undefined): Promise<Uptime> {
    const [f, t] = this.rounded(from, to);
    return summed([...(await this.uptimes(checkIds, from, to, maintenance)).values()], f, t);
  }

  /** Throws the API's 404 for a check that does not exist. */
  checkExists(checkId: string): void {
    this.known(checkId);
  }

  private known(checkId: string): CheckRecord {
    const record = this.state.check(checkId);
    if (!record) throw new NotFoundError(`no check with id "${checkId}" — GET /api/v1/checks lists them`);
    return record;
  }
}

/** The lines of a report counted together (an agent's checks, a whole SLA report). */
export function totalOf(rows: readonly Uptime[], from: number, to: number): Uptime {
  return summed(rows, from, to);
}

/** Several checks' uptimes as one: counts and maintenance time added, the share taken anew. */
function summed(each: readonly Uptime[], from: number, to: number): Uptime {
  const total = { ...uptimeOf(from, to, EMPTY, 0) };
  for (const u of each) {
    for (const k of ['results', 'ok', 'warning', 'critical', 'unknown', 'maintenanceMs'] as const) total[k] += u[k];
  }
  return { ...total, uptimePercent: total.results === 0 ? null : (100 * total.ok) / total.results };
}

function uptimeOf(from: number, to: number, b: Bucket, maintenanceMs: number): Uptime {
  const { results, ok, warning, critical, unknown } = b;
  return { from, to, results, ok, warning, critical, unknown, uptimePercent: percent(b), maintenanceMs };
}

function pointOf(t: number, b: Bucket | undefined): HistoryPoint {
  if (!b || b.results === 0) {
    return { t, results: 0, ok: 0, warning: 0, critical: 0, unknown: 0, uptimePercent: null, durationAvgMs: null, durationMinMs: null, durationMaxMs: null };
  }
  return {
    t,
    results: b.results,
    ok: b.ok,
    warning: b.warning,
    critical: b.critical,
    unknown: b.unknown,
    uptimePercent: percent(b),
    durationAvgMs: Math.round(b.durationSum / b.results),
    durationMinMs: b.durationMin,
    durationMaxMs: b.durationMax,
  };
}
