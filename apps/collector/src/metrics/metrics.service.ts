import { Inject, Injectable } from '@nestjs/common';
import { CHECK_STATUSES, ROUNDS_VERSION, type Clock } from '#rounds/common';
import { METRIC_UNITS } from '#rounds/plugins';
import { ResultWriter } from '../polling/result-writer.js';
import type { StoredMetric } from '../polling/result-writer.js';
import { CollectorMetrics } from './collector-metrics.service.js';
import { render, renderFamilies, type ExpositionFormat, type Family, type FamilyType, type Sample } from './exposition.js';
import { PollerService } from '../polling/poller.service.js';
import { CurrentState, type CheckRow, type StateSnapshot } from '../state/current-state.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { CLOCK } from '../shared/tokens.js';

/**
 * Plugin metric labels that reach Prometheus. Each has values bounded by the monitored
 * host or service (cores, mounts, interfaces, Orthanc modalities, Nagios perfdata labels);
 * a metric carrying any other label is left out rather than exported with unbounded values.
 */
export const PLUGIN_METRIC_LABELS = ['core', 'mount', 'fstype', 'interface', 'modality', 'label', 'uom'] as const;
const MAX_LABEL_VALUE = 128;

/** `rounds_check_status` has one series per value; PENDING = no result yet. */
export const CHECK_STATUS_LABELS = [...CHECK_STATUSES, 'PENDING'] as const;

/** The collector's own families; a plugin metric mapped onto one of these names is left out. */
const RESERVED_PREFIXES = ['rounds_agent_', 'rounds_check_', 'rounds_collector_'];

export interface PluginFamilySpec {
  name: string;
  type: FamilyType;
  unit?: string;
  /** Factor from the plugin's unit to the Prometheus base unit (days → seconds, percent → ratio). */
  scale: number;
}

/**
 * `rounds_<plugin>_<metric>` with the plugin's `-` as `_`, in base units with the unit as
 * suffix: seconds, bytes, ratio (percent ÷ 100), seconds (days × 86400), bytes_per_second;
 * `counter` becomes a `_total` counter; `count` and unitless values are gauges as named.
 * Undefined when the names cannot make a valid, unreserved metric name.
 */
export function pluginFamily(plugin: string, metric: string, unit: string): PluginFamilySpec | undefined {
  if (!/^[a-z][a-z0-9-]*$/.test(plugin) || !/^[a-z][a-z0-9_]*$/.test(metric)) return undefined;
  if (!(METRIC_UNITS as readonly string[]).includes(unit)) return undefined;
  const base = `rounds_${plugin.replace(/-/g, '_')}_${metric}`;
  const suffixed = (name: string, suffix: string) => (name.endsWith(`_${suffix}`) ? name : `${name}_${suffix}`);
  let spec: PluginFamilySpec;
  switch (unit) {
    case 'seconds':
    case 'bytes':
    case 'ratio':
    case 'bytes_per_second':
      spec = { name: suffixed(base, unit), type: 'gauge', scale: 1, ...(unit === 'bytes_per_second' ? {} : { unit }) };
      break;
    case 'percent':
      spec = { name: suffixed(base.replace(/_percent$/, ''), 'ratio'), type: 'gauge', unit: 'ratio', scale: 0.01 };
      break;
    case 'days':
      spec = { name: suffixed(base.replace(/_days$/, ''), 'seconds'), type: 'gauge', unit: 'seconds', scale: 86_400 };
      break;
    case 'counter':
      spec = { name: suffixed(base, 'total'), type: 'counter', scale: 1 };
      break;
    default:
      // A gauge named like a counter or a histogram part would read as one.
      if (/_(total|count|sum|bucket)$/.test(base)) return undefined;
      spec = { name: base, type: 'gauge', scale: 1 };
  }
  if (RESERVED_PREFIXES.some((p) => spec.name.startsWith(p))) return undefined;
  return spec;
}

interface SnapshotFamilies {
  agents: Family[];
  checks: Family[];
  plugins: Family[];
  /** Plugin metric samples left out (bad name, unit or label, or a duplicate series). */
  skipped: number;
}

/**
 * Renders /metrics: agent, check and plugin families from the read model (no database access
 * per scrape), then the collector's own counters and histograms and the process metrics.
 * What derives from one version of the read model — its families and their rendered text in
 * each format — is built once and reused by every scrape until the model changes; only ages
 * and the collector's own families are rendered per scrape.
 */
@Injectable()
export class MetricsService {
  private memo: { snapshot: StateSnapshot; families: SnapshotFamilies; bytes: Partial<Record<ExpositionFormat, { agents: Buffer; checks: Buffer }>> } | null =
    null;

  constructor(
    private readonly state: CurrentState,
    private readonly collector: CollectorMetrics,
    private readonly poller: PollerService,
    private readonly writer: ResultWriter,
    private readonly storage: StorageHealth,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The exposition in `format`; equal to rendering {@link families} whole. */
  async scrape(format: ExpositionFormat): Promise<string> {
    return (await this.scrapeBytes(format)).toString('utf8');
  }

  /** The exposition as UTF-8: the parts derived from the read model are encoded once per version. */
  async scrapeBytes(format: ExpositionFormat): Promise<Buffer> {
    const built = this.built();
    let cached = built.bytes[format];
    if (!cached) {
      cached = {
        agents: Buffer.from(renderFamilies(built.families.agents, format), 'utf8'),
        checks: Buffer.from(renderFamilies([...built.families.checks, ...built.families.plugins], format), 'utf8'),
      };
      built.bytes[format] = cached;
    }
    const parts = await this.parts(built.snapshot, built.families);
    const utf8 = (families: Family[]) => Buffer.from(renderFamilies(families, format), 'utf8');
    return Buffer.concat([
      utf8(parts.head),
      cached.agents,
      utf8(parts.ages),
      cached.checks,
      Buffer.from(renderFamilies(parts.tail, format) + (format === 'openmetrics' ? '# EOF\n' : ''), 'utf8'),
    ]);
  }

  async families(): Promise<Family[]> {
    const { snapshot, families } = this.built();
    const parts = await this.parts(snapshot, families);
    return [...parts.head, ...families.agents, ...parts.ages, ...families.checks, ...families.plugins, ...parts.tail];
  }

  private built(): NonNullable<MetricsService['memo']> {
    const snapshot = this.state.snapshot();
    if (this.memo?.snapshot !== snapshot) this.memo = { snapshot, families: snapshotFamilies(snapshot), bytes: {} };
    return this.memo;
  }

  /** The families computed per scrape, around the cached ones: build info, ages, the collector's own. */
  private async parts(snapshot: StateSnapshot, built: SnapshotFamilies): Promise<{ head: Family[]; ages: Family[]; tail: Family[] }> {
    const now = this.clock.now();
    const w = this.writer.counters;
    const seconds = (ms: number) => ms / 1000;
    const head = [gauge('rounds_collector_build_info', 'Version of the Rounds collector; always 1.', [{ labels: { version: ROUNDS_VERSION }, value: 1 }])];
    const ages = [
      gauge(
        'rounds_agent_last_seen_age_seconds',
        'Seconds since the agent last answered a poll (at scrape time); no series before its first answer.',
        snapshot.agents.filter((a) => a.lastSeenAt !== null).map((a) => ({ labels: { agent: a.name }, value: Math.max(0, seconds(now - a.lastSeenAt!)) })),
        'seconds',
      ),
    ];
    const tail = [
      gauge('rounds_collector_poll_queue_depth', 'Agent polls that are due and wait for a free poll slot.', [{ labels: {}, value: this.poller.queueDepth }]),
      counter('rounds_collector_results_written_total', 'Check results stored in the database.', w.resultsWritten),
      counter('rounds_collector_results_skipped_total', 'Results not stored: their check was deleted, or they were already stored.', w.resultsSkipped),
      counter('rounds_collector_write_transactions_total', 'Result-writer transactions committed.', w.transactions),
      counter('rounds_collector_write_batches_failed_total', 'Poll batches whose transaction failed (their results stay on the agent).', w.batchesFailed),
      ...storageFamilies(this.storage),
      gauge('rounds_collector_plugin_metrics_skipped', 'Plugin metric samples in the current state left out of /metrics (invalid name or unit, label outside the allow-list, duplicate series).', [{ labels: {}, value: built.skipped }]),
      ...(await this.collector.families()),
    ];
    return { head, ages, tail };
  }
}

function gauge(name: string, help: string, samples: Sample[], unit?: string): Family {
  return { name, help, type: 'gauge', ...(unit ? { unit } : {}), samples };
}

function storageFamilies(storage: StorageHealth): Family[] {
  const status = storage.status();
  return [
    gauge('rounds_collector_storage_up', 'Whether the collector can store results: 1, or 0 while commits fail (results are then not acknowledged and stay on the agents).', [
      { labels: {}, value: status.failing ? 0 : 1 },
    ]),
    {
      name: 'rounds_collector_storage_failures_total',
      help: 'Failed database transactions and WAL checkpoints, by kind (disk_full, io_error, read_only, locked, corrupt, unavailable).',
      type: 'counter',
      samples: Object.entries(status.failuresByKind).map(([kind, value]) => ({ labels: { kind }, value })),
    },
    ...(status.freeBytes === undefined
      ? []
      : [gauge('rounds_collector_storage_free_bytes', 'Bytes free on the file system of the SQLite database (ROUNDS_DATA_DIR).', [{ labels: {}, value: status.freeBytes }], 'bytes')]),
  ];
}

function counter(name: string, help: string, value: number): Family {
  return { name, help, type: 'counter', samples: [{ labels: {}, value }] };
}

function snapshotFamilies(snapshot: StateSnapshot): SnapshotFamilies {
  const seconds = (ms: number) => ms / 1000;
  const agents = snapshot.agents;
  const perAgent = (pick: (a: (typeof agents)[number]) => number | undefined): Sample[] =>
    agents.flatMap((a) => {
      const value = pick(a);
      return value === undefined ? [] : [{ labels: { agent: a.name }, value }];
    });
  const agentFamilies: Family[] = [
    gauge('rounds_agent_up', '1 when the agent answered its last poll (state UP), 0 when DOWN or not polled yet.', perAgent((a) => (a.state === 'UP' ? 1 : 0))),
    gauge(
      'rounds_agent_last_seen_timestamp_seconds',
      'When the agent last answered a poll (Unix time).',
      perAgent((a) => (a.lastSeenAt === null ? undefined : seconds(a.lastSeenAt))),
      'seconds',
    ),
    gauge('rounds_agent_consecutive_poll_failures', 'Failed polls of the agent in a row.', perAgent((a) => a.consecutiveFailures)),
    gauge('rounds_agent_spool_depth', 'Results in the agent spool not yet collected, as of the last poll.', perAgent((a) => a.health?.spoolDepth)),
    gauge('rounds_agent_spool_bytes', 'Size of the results in the agent spool, as of the last poll.', perAgent((a) => a.health?.spoolBytes), 'bytes'),
    { name: 'rounds_agent_dropped_results_total', help: 'Results the agent spool discarded since the agent started (spool full or too old).', type: 'counter', samples: perAgent((a) => a.dropped) },
    gauge('rounds_agent_resident_memory_bytes', 'Resident memory of the agent process, as of the last poll.', perAgent((a) => a.health?.rssBytes), 'bytes'),
    { name: 'rounds_agent_cpu_seconds_total', help: 'CPU time of the agent process since it started, as of the last poll.', type: 'counter', unit: 'seconds', samples: perAgent((a) => a.health?.cpuSeconds) },
    { name: 'rounds_agent_plugin_errors_total', help: 'Plugin runs on the agent that ended in plugin_error since it started.', type: 'counter', samples: perAgent((a) => a.health?.pluginErrors) },
    gauge('rounds_agent_uptime_seconds', 'Uptime of the agent process, as of the last poll.', perAgent((a) => a.health?.uptimeSeconds), 'seconds'),
  ];

  const checks = snapshot.checks;
  const id = (c: CheckRow) => ({ agent: c.agent, check: c.check, plugin: c.plugin });
  const perCheck = (pick: (c: CheckRow) => number | undefined): Sample[] =>
    checks.flatMap((c) => {
      const value = pick(c);
      return value === undefined ? [] : [{ labels: id(c), value }];
    });
  const checkFamilies: Family[] = [
    gauge('rounds_check_up', '1 when the latest result of the check is OK or WARNING, 0 when CRITICAL, UNKNOWN or pending.', perCheck((c) => (c.status === 0 || c.status === 1 ? 1 : 0))),
    gauge(
      'rounds_check_status',
      'Current status of the check: 1 for the series of its status (OK, WARNING, CRITICAL, UNKNOWN, or PENDING before the first result), 0 for the others.',
      checks.flatMap((c) => {
        const current = c.status === null ? 'PENDING' : CHECK_STATUSES[c.status];
        return CHECK_STATUS_LABELS.map((status) => ({ labels: { ...id(c), status }, value: status === current ? 1 : 0 }));
      }),
    ),
    gauge('rounds_check_duration_seconds', 'Run time of the latest result of the check.', perCheck((c) => (c.lastDurationMs === null ? undefined : seconds(c.lastDurationMs))), 'seconds'),
    gauge('rounds_check_consecutive_failures', 'Non-OK results of the check in a row.', perCheck((c) => c.consecutiveFailures)),
    gauge(
      'rounds_check_last_result_timestamp_seconds',
      'When the latest result of the check started (Unix time).',
      perCheck((c) => (c.lastResultAt === null ? undefined : seconds(c.lastResultAt))),
      'seconds',
    ),
    gauge(
      'rounds_check_last_success_timestamp_seconds',
      'When the latest OK result of the check started (Unix time); no series before the first OK.',
      perCheck((c) => (c.lastOkAt === null ? undefined : seconds(c.lastOkAt))),
      'seconds',
    ),
  ];

  const { families: plugins, skipped } = pluginFamilies(checks);
  return { agents: agentFamilies, checks: checkFamilies, plugins, skipped };
}

function pluginFamilies(checks: readonly CheckRow[]): { families: Family[]; skipped: number } {
  const byName = new Map<string, Family & { keys: Set<string> }>();
  let skipped = 0;
  for (const c of checks) {
    for (const m of c.metrics) {
      const spec = pluginFamily(c.plugin, m.name, m.unit);
      const labels = spec && pluginLabels(m);
      if (!spec || !labels || !Number.isFinite(m.value)) {
        skipped += 1;
        continue;
      }
      let family = byName.get(spec.name);
      if (!family) {
        family = {
          name: spec.name,
          help: `${m.name} reported by the ${c.plugin} plugin${spec.scale === 1 ? '' : ` (converted to ${spec.unit})`}.`,
          type: spec.type,
          ...(spec.unit ? { unit: spec.unit } : {}),
          samples: [],
          keys: new Set(),
        };
        byName.set(spec.name, family);
      } else if (family.type !== spec.type) {
        skipped += 1;
        continue;
      }
      const sampleLabels = { agent: c.agent, check: c.check, ...labels };
      const key = JSON.stringify(sampleLabels);
      if (family.keys.has(key)) {
        skipped += 1;
        continue;
      }
      family.keys.add(key);
      family.samples.push({ labels: sampleLabels, value: m.value * spec.scale });
    }
  }
  const families = [...byName.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ keys: _keys, ...family }) => family);
  return { families, skipped };
}

/** The metric's labels in allow-list order, or undefined when one is not allowed or too long. */
function pluginLabels(m: StoredMetric): Record<string, string> | undefined {
  const given = m.labels ?? {};
  const out: Record<string, string> = {};
  for (const key of Object.keys(given)) {
    if (!(PLUGIN_METRIC_LABELS as readonly string[]).includes(key)) return undefined;
  }
  for (const key of PLUGIN_METRIC_LABELS) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE) return undefined;
    out[key] = value;
  }
  return out;
}
