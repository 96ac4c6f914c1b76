import { ManualClock } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import { sampleOutcomes } from '#rounds/plugins/testing';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultWriter, type StoredMetric, type StoredResult } from '../polling/result-writer.js';
import { openTestDatabase } from '../storage/testing.js';
import { CollectorMetrics } from './collector-metrics.service.js';
import { MetricsService } from './metrics.service.js';
import type { PollerService } from '../polling/poller.service.js';
import { CurrentState } from '../state/current-state.js';
import { StateRepository } from '../state/state.repository.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { HealthRepository } from '../storage/health.repository.js';

/** 2026-09-21T12:00:00Z: every timestamp in the golden exposition is relative to it. */
export const NOW = 1_789_992_000_000;

type Unit = StoredMetric['unit'];
const m = (name: string, value: number, unit: Unit = '', labels?: Record<string, string>): StoredMetric => ({
  name,
  value,
  unit,
  ...(labels ? { labels } : {}),
});

/**
 * What each built-in plugin reports: one metric per declaration (the plugins' own, so a new
 * plugin or metric shows up here by itself), and a custom plugin nobody declared to the
 * collector that breaks the naming rules.
 */
export const PLUGIN_METRICS: Record<string, StoredMetric[]> = {
  ...Object.fromEntries([...sampleOutcomes()].map(([plugin, outcome]) => [plugin, outcome.metrics])),
  // A custom plugin breaking the rules: each of these is left out and counted.
  'site-custom': [
    m('queue_depth', 4, 'count'),
    m('files', 9, 'count', { path: '/srv/incoming/a-very-specific-file.dcm' }),
    m('Bad-Name', 1),
    m('latency', 0.3, 'minutes'),
    m('queue_depth', 5, 'count'),
  ],
};

const STATUS: Record<string, StoredResult['status']> = {
  'dicom-echo': 1,
  'dicom-worklist': 1,
  'hl7-mllp': 0,
  orthanc: 1,
  'smb-share': 0,
  'host-metrics': 1,
  http: 0,
  tcp: 2,
  nagios: 1,
  'site-custom': 3,
};

/**
 * A migrated SQLite database with three agents and a check of every built-in plugin (plus
 * a custom one that breaks the naming rules), the read model loaded from it and fed by the
 * writer's commits, and the metrics service on a manual clock: the fixture of the golden
 * /metrics test.
 */
export async function metricsFixture(options: { processMetrics?: boolean } = {}) {
  const db = await openTestDatabase();
  const agents = new AgentsRepository(db.dataSource);
  const checks = new ChecksRepository(db.dataSource);
  const state = new CurrentState(new StateRepository(db.dataSource), { pollIntervalMs: 15_000 }, PluginRegistry.withBuiltins());
  const writer = new ResultWriter(db.dataSource, { coalesceMs: 0, onStates: (states) => state.statesCommitted(states) });
  const clock = new ManualClock(NOW);

  const pacs = await agents.create({ name: 'pacs-01', host: '10.0.4.7', port: 7443, token: 't'.repeat(32), fingerprint: 'f' }, NOW - 86_400_000);
  const ward = await agents.create({ name: 'ward-02', host: '10.0.9.2', port: 7443, token: 't'.repeat(32), fingerprint: 'f' }, NOW - 86_400_000);
  await agents.create({ name: 'new-03', host: '10.0.9.3', port: 7443, token: 't'.repeat(32), fingerprint: 'f' }, NOW - 1000);

  const ids: Record<string, string> = {};
  let seq = 0;
  const stored: StoredResult[] = [];
  for (const [plugin, metrics] of Object.entries(PLUGIN_METRICS)) {
    const c = await checks.create({ agentId: pacs.id, name: `${plugin} check`, plugin, config: {}, intervalMs: 30_000, timeoutMs: 10_000 }, NOW - 86_400_000);
    ids[plugin] = c.id;
    // A plugin added since the golden files were pinned reports OK: a new plugin needs no line here.
    const status = STATUS[plugin] ?? 0;
    // An earlier OK result, so last_success and consecutive_failures differ per check.
    stored.push({ checkId: c.id, seq: ++seq, startedAt: NOW - 120_000, durationMs: 40, status: 0, reason: 'ok', summary: 'earlier', metrics: [] });
    stored.push({
      checkId: c.id,
      seq: ++seq,
      startedAt: NOW - 30_000,
      durationMs: 25 + seq,
      status,
      reason: status === 0 ? 'ok' : 'threshold',
      summary: 'latest',
      metrics,
    });
    if (status !== 0)
      stored.push({ checkId: c.id, seq: ++seq, startedAt: NOW - 15_000, durationMs: 125, status, reason: 'threshold', summary: 'latest', metrics });
  }
  await writer.write({ agentId: pacs.id, results: stored, ackSeq: seq, spoolEpoch: 'epoch-1' });
  await checks.create({ agentId: pacs.id, name: 'switched off', plugin: 'tcp', config: {}, intervalMs: 30_000, timeoutMs: 10_000, enabled: false }, NOW);
  await checks.create({ agentId: ward.id, name: 'ward web', plugin: 'http', config: {}, intervalMs: 30_000, timeoutMs: 10_000 }, NOW);

  await agents.recordPollSuccess(pacs.id, {
    at: NOW - 5_000,
    spoolEpoch: 'epoch-1',
    agentAssignmentVersion: 'v1',
    dropped: 7,
    health: { rssBytes: 52_428_800, cpuSeconds: 12.25, spoolDepth: 3, spoolBytes: 4096, pluginErrors: 1, checks: 8, uptimeSeconds: 3600 },
  });
  await agents.recordPollSuccess(ward.id, { at: NOW - 600_000, spoolEpoch: 'e', agentAssignmentVersion: '', dropped: 0, health: null });
  for (let i = 0; i < 3; i++) await agents.recordPollFailure(ward.id, { at: NOW - 1000, error: 'refused', downAfter: 3 });

  const collector = new CollectorMetrics({ processMetrics: options.processMetrics ?? false });
  collector.pollFinished(0.042);
  collector.pollFinished(0.3);
  collector.pollFinished(3.2, 'timeout');
  collector.pollLate(0);
  collector.pollLate(1200);
  collector.resultTruncated(['summary', 'metrics']);
  collector.writeCommitted(0.004);

  await state.onModuleInit();
  const poller = { queueDepth: 2, agentsPolled: 2 } as unknown as PollerService;
  const storage = new StorageHealth(new FixedFreeSpace(db.dataSource), clock);
  await storage.onApplicationBootstrap();
  storage.onApplicationShutdown();
  const service = new MetricsService(state, collector, poller, writer, storage, clock, PluginRegistry.withBuiltins());
  return {
    db,
    agents,
    checks,
    clock,
    state,
    service,
    writer,
    ids,
    pacsId: pacs.id,
    async close() {
      await writer.close();
      await db.close();
    },
  };
}

/** Free space is the file system's, different on every machine: the golden exposition shows a fixed 40 GiB. */
class FixedFreeSpace extends HealthRepository {
  override freeBytes(): Promise<number> {
    return Promise.resolve(40 * 1024 ** 3);
  }
}
