import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DataSource } from 'typeorm';
import { RoundsLogger } from '#rounds/common';
import { createCollectorApp } from '../../apps/collector/src/cli/app.js';
import { readCollectorConfig } from '../../apps/collector/src/config/env.js';
import { AgentClientPool } from '../../apps/collector/src/inventory/agent-client.pool.js';
import { AgentsRepository } from '../../apps/collector/src/inventory/agents.repository.js';
import { CLUSTER, type Cluster } from '../../apps/collector/src/cluster/cluster.js';
import { DATA_SOURCE } from '../../apps/collector/src/storage/data-source.js';
import { ResultWriter } from '../../apps/collector/src/polling/result-writer.js';
import { PollerService } from '../../apps/collector/src/polling/poller.service.js';
import { bulkSql } from '../../apps/collector/src/storage/bulk-sql.js';
import { inTransaction } from '../../apps/collector/src/storage/transaction.js';
import { serveWorker } from '../lib/processes.js';

/**
 * The real collector (CollectorModule with HTTP and the poller, settings read by the
 * collector's own env parser) embedded in this process, so the bench can read the
 * poller's stats, the pool's channel count and the writer's counters. Every scheduled
 * poll's lag is recorded by observing PollerService.stats.lastLagMs, which the
 * scheduler sets once per poll as it starts — with the time the poll was due (start − lag),
 * so a window can count the polls that were due in it, however late they started.
 */
let app: NestExpressApplication | undefined;
const polls: [dueAt: number, lagMs: number][] = [];

serveWorker({
  async start(args: { env: Record<string, string>; staticDir?: string }) {
    const config = readCollectorConfig(args.env);
    // The serving collector as `start` builds it (headers, body limits, first admin, the API token of ROUNDS_API_TOKEN).
    ({ app } = await createCollectorApp(config, { logger: new RoundsLogger(config.logLevel) }));
    // The static-file baseline of the UI bench, served by the same express app as the dashboard.
    if (args.staticDir) app.useStaticAssets(args.staticDir, { prefix: '/bench-static/' });
    const stats = app.get(PollerService).stats;
    let last = stats.lastLagMs;
    Object.defineProperty(stats, 'lastLagMs', {
      enumerable: true,
      get: () => last,
      set: (v: number) => {
        last = v;
        polls.push([Date.now() - v, v]);
      },
    });
    await app.listen(config.httpPort, config.httpHost);
    const { port } = app.getHttpServer().address() as { port: number };
    return { port };
  },
  async stats(args: { from?: number; to?: number; countDown?: boolean }) {
    const a = app!;
    const poller = a.get(PollerService);
    const from = args.from ?? 0;
    const to = args.to ?? Infinity;
    return {
      now: Date.now(),
      polls: poller.stats.polls,
      pollErrors: poller.stats.pollErrors,
      maxLagMs: poller.stats.maxLagMs,
      resultsReceived: poller.stats.resultsReceived,
      channels: a.get(AgentClientPool).channelsCreated,
      // Only when asked: it reads every agent row inside the process being measured.
      agentsDown: args.countDown ? (await a.get(AgentsRepository).findAllLean()).filter((agent) => agent.state === 'DOWN').length : undefined,
      writer: a.get(ResultWriter).counters,
      memory: process.memoryUsage(),
      /** Lags of the polls that were due in [from, to) and have started. */
      lags: polls.filter(([due]) => due >= from && due < to).map(([, l]) => l),
    };
  },
  /**
   * Stores `count` results `ageDays` old as if rolled up long ago and due for pruning: negative
   * ids, below every real one, so the collector's own pruning (oldest ids first, only those at or
   * below the roll-up watermark) takes them on its next minute tick. Written through the
   * collector's own connection in transactions of 2,000, as its writer's would be: another process
   * writing the file would make the collector's writes wait for SQLite's lock instead.
   */
  async backlog(args: { count: number; ageDays: number }) {
    const ds = app!.get<DataSource>(DATA_SOURCE);
    const checks = await ds.query<{ id: string; agent_id: string }[]>('SELECT id, agent_id FROM checks');
    const old = Date.now() - args.ageDays * 86_400_000;
    for (let i = 0; i < args.count; i += 2000) {
      const rows = Array.from({ length: Math.min(2000, args.count - i) }, (_, k) => {
        const c = checks[(i + k) % checks.length]!;
        return [
          -(i + k + 1),
          c.id,
          c.agent_id,
          0,
          old + (i + k) * 10,
          12,
          0,
          'ok',
          'HTTP 200 in 0.012 s',
          '[{"name":"total_seconds","value":0.012,"unit":"seconds"}]',
        ];
      });
      await inTransaction(ds, (m) =>
        bulkSql(ds).insert(
          m,
          'check_results',
          ['id', 'check_id', 'agent_id', 'seq', 'started_at', 'duration_ms', 'status', 'reason', 'summary', 'metrics_json'],
          rows,
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    return {};
  },
  /** The agents whose lease this collector holds (several collectors on one PostgreSQL; on SQLite every agent). */
  async held() {
    const a = app!;
    const cluster = a.get<Cluster>(CLUSTER);
    return { agentIds: (await a.get(AgentsRepository).findAllLean()).filter((agent) => cluster.leaseOf(agent.id) !== null).map((agent) => agent.id) };
  },
  /** How many results older than `before` are stored. */
  async countOlder(args: { before: number }) {
    const ds = app!.get<DataSource>(DATA_SOURCE);
    const [row] = await ds.query<{ n: number }[]>('SELECT count(*) AS n FROM check_results WHERE started_at < ?', [args.before]);
    return { n: Number(row?.n ?? 0) };
  },
  async stop() {
    if (!app) return {};
    const ds = app.get<DataSource>(DATA_SOURCE);
    await app.close();
    if (ds.isInitialized) await ds.destroy();
    app = undefined;
    return {};
  },
});
