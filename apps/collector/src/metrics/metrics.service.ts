import { Inject, Injectable, Optional } from '@nestjs/common';
import { CHECK_STATUSES, ROUNDS_VERSION, type Clock } from '#rounds/common';
import { pluginFamily, PluginRegistry } from '#rounds/plugins';
import { ResultWriter } from '../polling/result-writer.js';
import type { StoredMetric } from '../polling/result-writer.js';
import { CollectorMetrics } from './collector-metrics.service.js';
import { renderFamilies, type ExpositionFormat, type Family, type Sample } from './exposition.js';
import { PollerService } from '../polling/poller.service.js';
import { CurrentState, type CheckRow, type StateSnapshot } from '../state/current-state.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { CLOCK, PLUGIN_REGISTRY } from '../shared/tokens.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';

/** Longer label values are left out: a label is a name (a core, a mount), never free text. */
const MAX_LABEL_VALUE = 128;

/** `rounds_check_status` has one series per value; PENDING = no result yet. */
export const CHECK_STATUS_LABELS = [...CHECK_STATUSES, 'PENDING'] as const;

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
    @Inject(PLUGIN_REGISTRY) registry: PluginRegistry,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {
    this.fallbackLabels = registry.metricLabelNames();
  }

  /** Labels exported for metrics of a plugin nobody declared to this collector (an agent from before declarations). */
  private readonly fallbackLabels: readonly string[];

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
      utf8(parts.stale),
      Buffer.from(renderFamilies(parts.tail, format) + (format === 'openmetrics' ? '# EOF\n' : ''), 'utf8'),
    ]);
  }

  async families(): Promise<Family[]> {
    const { snapshot, families } = this.built();
    const parts = await this.parts(snapshot, families);
    return [...parts.head, ...families.agents, ...parts.ages, ...families.checks, ...families.plugins, ...parts.stale, ...parts.tail];
  }

  private built(): NonNullable<MetricsService['memo']> {
    const snapshot = this.state.snapshot();
    if (this.memo?.snapshot !== snapshot) this.memo = { snapshot, families: snapshotFamilies(snapshot, this.fallbackLabels), bytes: {} };
    return this.memo;
  }

  /** The families computed per scrape, around the cached ones: build info, ages, staleness, the collector's own. */
  private async parts(snapshot: StateSnapshot, built: SnapshotFamilies): Promise<{ head: Family[]; ages: Family[]; stale: Family[]; tail: Family[] }> {
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
    const stale = [
      gauge(
        'rounds_check_stale',
        "1 when the check's latest result says nothing about now (its agent is not UP, or no result came for two intervals and a poll), at scrape time; no series before the first result.",
        snapshot.checks
          .filter((c) => c.lastResultAt !== null)
          .map((c) => ({ labels: { agent: c.agent, check: c.check, plugin: c.plugin }, value: this.state.isStale(c, now) ? 1 : 0 })),
      ),
    ];
    const tail = [
      gauge('rounds_collector_poll_queue_depth', 'Agent polls that are due and wait for a free poll slot.', [{ labels: {}, value: this.poller.queueDepth }]),
      gauge('rounds_collector_leases', 'Agents this collector polls: all on SQLite; on PostgreSQL those whose lease it holds.', [
        { labels: {}, value: this.poller.agentsPolled },
      ]),
      gauge(
        'rounds_collector_leader',
        '1 while this collector runs the work there is one of (escalation, forecasts, roll-ups and retention); always 1 on SQLite.',
        [{ labels: {}, value: this.cluster.isLeader() ? 1 : 0 }],
      ),
      counter('rounds_collector_results_written_total', 'Check results stored in the database.', w.resultsWritten),
      counter('rounds_collector_results_skipped_total', 'Results not stored: their check was deleted, or they were already stored.', w.resultsSkipped),
      counter('rounds_collector_write_transactions_total', 'Result-writer transactions committed.', w.transactions),
      counter('rounds_collector_write_batches_failed_total', 'Poll batches whose transaction failed (their results stay on the agent).', w.batchesFailed),
      ...storageFamilies(this.storage),
      gauge(
        'rounds_collector_plugin_metrics_skipped',
        'Plugin metric samples in the current state left out of /metrics (invalid name or unit, label outside the allow-list, duplicate series).',
        [{ labels: {}, value: built.skipped }],
      ),
      ...(await this.collector.families()),
    ];
    return { head, ages, stale, tail };
  }
}

function gauge(name: string, help: string, samples: Sample[], unit?: string): Family {
  return { name, help, type: 'gauge', ...(unit ? { unit } : {}), samples };
}

function storageFamilies(storage: StorageHealth): Family[] {
  const status = storage.status();
  return [
    gauge(
      'rounds_collector_storage_up',
      'Whether the collector can store results: 1, or 0 while commits fail (results are then not acknowledged and stay on the agents).',
      [{ labels: {}, value: status.failing ? 0 : 1 }],
    ),
    {
      name: 'rounds_collector_storage_failures_total',
      help: 'Failed database transactions and WAL checkpoints, by kind (disk_full, io_error, read_only, locked, corrupt, unavailable).',
      type: 'counter',
      samples: Object.entries(status.failuresByKind).map(([kind, value]) => ({ labels: { kind }, value })),
    },
    ...(status.freeBytes === undefined
      ? []
      : [
          gauge(
            'rounds_collector_storage_free_bytes',
            'Bytes free on the file system of the SQLite database (ROUNDS_DATA_DIR).',
            [{ labels: {}, value: status.freeBytes }],
            'bytes',
          ),
        ]),
  ];
}

function counter(name: string, help: string, value: number): Family {
  return { name, help, type: 'counter', samples: [{ labels: {}, value }] };
}

function snapshotFamilies(snapshot: StateSnapshot, fallbackLabels: readonly string[]): SnapshotFamilies {
  const seconds = (ms: number) => ms / 1000;
  const agents = snapshot.agents;
  const perAgent = (pick: (a: (typeof agents)[number]) => number | undefined): Sample[] =>
    agents.flatMap((a) => {
      const value = pick(a);
      return value === undefined ? [] : [{ labels: { agent: a.name }, value }];
    });
  const agentFamilies: Family[] = [
    gauge(
      'rounds_agent_up',
      '1 when the agent answered its last poll (state UP), 0 when DOWN or not polled yet.',
      perAgent((a) => (a.state === 'UP' ? 1 : 0)),
    ),
    gauge(
      'rounds_agent_last_seen_timestamp_seconds',
      'When the agent last answered a poll (Unix time).',
      perAgent((a) => (a.lastSeenAt === null ? undefined : seconds(a.lastSeenAt))),
      'seconds',
    ),
    gauge(
      'rounds_agent_consecutive_poll_failures',
      'Failed polls of the agent in a row.',
      perAgent((a) => a.consecutiveFailures),
    ),
    gauge(
      'rounds_agent_spool_depth',
      'Results in the agent spool not yet collected, as of the last poll.',
      perAgent((a) => a.health?.spoolDepth),
    ),
    gauge(
      'rounds_agent_spool_bytes',
      'Size of the results in the agent spool, as of the last poll.',
      perAgent((a) => a.health?.spoolBytes),
      'bytes',
    ),
    {
      name: 'rounds_agent_dropped_results_total',
      help: 'Results the agent spool discarded since the agent started (spool full or too old).',
      type: 'counter',
      samples: perAgent((a) => a.dropped),
    },
    gauge(
      'rounds_agent_resident_memory_bytes',
      'Resident memory of the agent process, as of the last poll.',
      perAgent((a) => a.health?.rssBytes),
      'bytes',
    ),
    {
      name: 'rounds_agent_cpu_seconds_total',
      help: 'CPU time of the agent process since it started, as of the last poll.',
      type: 'counter',
      unit: 'seconds',
      samples: perAgent((a) => a.health?.cpuSeconds),
    },
    {
      name: 'rounds_agent_plugin_errors_total',
      help: 'Plugin runs on the agent that ended in plugin_error since it started.',
      type: 'counter',
      samples: perAgent((a) => a.health?.pluginErrors),
    },
    gauge(
      'rounds_agent_uptime_seconds',
      'Uptime of the agent process, as of the last poll.',
      perAgent((a) => a.health?.uptimeSeconds),
      'seconds',
    ),
  ];

  const checks = snapshot.checks;
  const id = (c: CheckRow) => ({ agent: c.agent, check: c.check, plugin: c.plugin });
  const perCheck = (pick: (c: CheckRow) => number | undefined): Sample[] =>
    checks.flatMap((c) => {
      const value = pick(c);
      return value === undefined ? [] : [{ labels: id(c), value }];
    });
  const checkFamilies: Family[] = [
    gauge(
      'rounds_check_up',
      '1 when the latest result of the check is OK or WARNING, 0 when CRITICAL, UNKNOWN or pending.',
      perCheck((c) => (c.status === 0 || c.status === 1 ? 1 : 0)),
    ),
    gauge(
      'rounds_check_status',
      'Current status of the check: 1 for the series of its status (OK, WARNING, CRITICAL, UNKNOWN, or PENDING before the first result), 0 for the others.',
      checks.flatMap((c) => {
        const current = c.status === null ? 'PENDING' : CHECK_STATUSES[c.status];
        return CHECK_STATUS_LABELS.map((status) => ({ labels: { ...id(c), status }, value: status === current ? 1 : 0 }));
      }),
    ),
    gauge(
      'rounds_check_duration_seconds',
      'Run time of the latest result of the check.',
      perCheck((c) => (c.lastDurationMs === null ? undefined : seconds(c.lastDurationMs))),
      'seconds',
    ),
    gauge(
      'rounds_check_consecutive_failures',
      'Non-OK results of the check in a row.',
      perCheck((c) => c.consecutiveFailures),
    ),
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

  const { families: plugins, skipped } = pluginFamilies(checks, fallbackLabels);
  return { agents: agentFamilies, checks: checkFamilies, plugins, skipped };
}

/**
 * Plugin families from the checks' latest metrics. A metric is exported as its plugin declares
 * it — name, unit, labels, help — whether the plugin is built in or a custom one an agent
 * described; anything else is left out and counted. Without declarations (an agent older than
 * them, not yet described) the labels of the built-in declarations are the allow-list.
 */
function pluginFamilies(checks: readonly CheckRow[], fallbackLabels: readonly string[]): { families: Family[]; skipped: number } {
  const byName = new Map<string, Family & { keys: Set<string> }>();
  let skipped = 0;
  for (const c of checks) {
    for (const m of c.metrics) {
      const declared = c.declared?.get(m.name);
      const spec = (!c.declared || declared?.unit === m.unit) && pluginFamily(c.plugin, m.name, m.unit);
      const labels = spec && pluginLabels(m, declared?.labels ?? (c.declared ? [] : fallbackLabels));
      if (!spec || !labels || !Number.isFinite(m.value)) {
        skipped += 1;
        continue;
      }
      let family = byName.get(spec.name);
      if (!family) {
        const about = declared ? declared.help.replace(/\.?$/, '') : `${m.name} reported by the ${c.plugin} plugin`;
        family = {
          name: spec.name,
          help: `${about}${spec.scale === 1 ? '' : ` (converted to ${spec.unit})`}.`,
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
  const families = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(({ keys: _keys, ...family }) => family);
  return { families, skipped };
}

/** The metric's labels in `allowed` order, or undefined when one is not allowed or too long. */
function pluginLabels(m: StoredMetric, allowed: readonly string[]): Record<string, string> | undefined {
  const given = m.labels ?? {};
  const out: Record<string, string> = {};
  for (const key of Object.keys(given)) {
    if (!allowed.includes(key)) return undefined;
  }
  for (const key of allowed) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE) return undefined;
    out[key] = value;
  }
  return out;
}
