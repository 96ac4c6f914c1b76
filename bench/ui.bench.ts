import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource } from '../apps/collector/src/storage/data-source.js';
import { ResultWriter } from '../apps/collector/src/polling/result-writer.js';
import { compared, type Benchmark, type BenchContext, type Figure } from './lib/figure.js';
import { freePort, interleave, median, type LoadResult } from './lib/measure.js';
import { tempDir, Worker } from './lib/processes.js';
import { seedAgents } from './lib/seed.js';
import { agentToken } from './lib/tls.js';

const AGENTS = 200;
const CHECKS = 10;
const PAIRS = 5;
const STATUSES = [0, 0, 0, 0, 0, 0, 0, 1, 2, 3] as const;

/** Series the /metrics figure is measured at (the size). */
const METRICS_SERIES = 10_000;

/** A migrated database with `agents` × 10 checks, each with a current state (a mix of statuses). */
async function seededDataDir(ctx: BenchContext, agentCount: number): Promise<string> {
  const dataDir = tempDir('ui');
  ctx.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  // Agents on a port nobody listens on: the poller's first polls fail fast, then wait an hour.
  const closed = await freePort();
  const ds = await createDataSource({ dataDir }).initialize();
  const agents = await seedAgents(
    ds,
    Array.from({ length: agentCount }, (_, i) => ({
      name: `pacs-${String(i).padStart(3, '0')}`,
      host: '127.0.0.1',
      port: closed,
      token: agentToken(),
      fingerprint: '0'.repeat(64),
    })),
    CHECKS,
    (i, j) => ({ plugin: 'http', config: { url: `https://pacs-${i}.example/dicom-web/studies?check=${j}` }, intervalMs: 60_000 }),
  );
  const writer = new ResultWriter(ds);
  await Promise.all(
    agents.map((a, i) =>
      writer.write({
        agentId: a.id,
        ackSeq: CHECKS,
        spoolEpoch: 'ui',
        results: a.checkIds.map((checkId, j) => {
          const status = STATUSES[(i + j) % STATUSES.length]!;
          return {
            checkId,
            seq: j + 1,
            startedAt: Date.now() - 1000 * j,
            durationMs: 12,
            status,
            reason: status === 0 ? 'ok' : status === 2 ? 'refused' : status === 1 ? 'threshold' : 'plugin_error',
            summary: status === 0 ? 'HTTP 200 in 0.012 s, 14.2 kB' : 'connection to pacs.example:443 refused — is the service running?',
            metrics: [{ name: 'total_seconds', value: 0.012, unit: 'seconds' }],
          };
        }),
      }),
    ),
  );
  await writer.close();
  await ds.destroy();
  return dataDir;
}

/** The real collector over `dataDir`, also serving `dataDir/static` under /bench-static/ (the baseline). */
async function startCollector(ctx: BenchContext, dataDir: string, token: string): Promise<{ base: string; staticDir: string; host: Worker }> {
  const staticDir = join(dataDir, 'static');
  mkdirSync(staticDir, { recursive: true });
  const host = new Worker('collector-host');
  ctx.defer(() => host.stop());
  const { port } = await host.call<{ port: number }>('start', {
    env: {
      ROUNDS_DATA_DIR: dataDir,
      ROUNDS_HTTP_HOST: '127.0.0.1',
      ROUNDS_HTTP_PORT: '0',
      ROUNDS_POLL_INTERVAL_MS: '3600000',
      ROUNDS_API_TOKEN: token,
      ROUNDS_LOG_LEVEL: 'error',
    },
    staticDir,
  });
  return { base: `http://127.0.0.1:${port}`, staticDir, host };
}

async function scrape(base: string, token: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/**
 * The status page (GET /) rendered by the collector for 2,000 checks with a current state
 * each, and a /metrics scrape of 10,000 series (a second collector, sized from the first
 * one's series per check), each against the same bytes served as a static file by the
 * same collector's express app — so the ratio is the cost of rendering, not of HTTP.
 */
export const bench: Benchmark = {
  name: 'ui',
  description: `status page (GET /) with ${AGENTS * CHECKS} checks and /metrics with ${METRICS_SERIES} series vs the same bytes as static files`,
  async run(ctx) {
    const token = `bench-${agentToken()}`;
    const driver = new Worker('load');
    ctx.defer(() => driver.stop());
    const figures: Figure[] = [];

    const dashboard = await startCollector(ctx, await seededDataDir(ctx, AGENTS), token);
    // Signed in as the admin the environment's API token belongs to: the page is no longer open.
    const signedIn = { authorization: `Bearer ${token}` };
    const page = await fetch(`${dashboard.base}/`, { headers: signedIn });
    const html = await page.text();
    if (page.status !== 200) throw new Error(`GET / answered ${page.status}`);
    const shown = (html.match(/pacs-\d{3}/g) ?? []).length;
    if (shown < AGENTS) throw new Error(`GET / names ${shown} agents, expected all ${AGENTS}`);
    writeFileSync(join(dashboard.staticDir, 'dashboard.html'), html);
    ctx.log(`GET / is ${(html.length / 1024).toFixed(0)} KiB (${shown} agent-name mentions)`);
    figures.push(
      await pairOf(ctx, driver, {
        figure: `Status page GET / with ${AGENTS * CHECKS} checks`,
        url: `${dashboard.base}/`,
        baseline: `${dashboard.base}/bench-static/dashboard.html`,
        bytes: html.length,
        count: 30,
        headers: signedIn,
      }),
    );
    const perCheck = seriesIn(await scrape(dashboard.base, token)) / (AGENTS * CHECKS);
    await dashboard.host.stop();

    const metricsAgents = Math.max(1, Math.round(METRICS_SERIES / (perCheck * CHECKS)));
    const exporter = await startCollector(ctx, await seededDataDir(ctx, metricsAgents), token);
    const exposition = await scrape(exporter.base, token);
    const series = seriesIn(exposition);
    writeFileSync(join(exporter.staticDir, 'metrics.txt'), exposition);
    ctx.log(`/metrics: ${series} series from ${metricsAgents} agents × ${CHECKS} checks (${perCheck.toFixed(1)} series per check)`);
    figures.push(
      await pairOf(ctx, driver, {
        figure: `/metrics scrape with ${series} series (${metricsAgents * CHECKS} checks)`,
        url: `${exporter.base}/metrics`,
        baseline: `${exporter.base}/bench-static/metrics.txt`,
        bytes: exposition.length,
        count: 100,
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    return figures;
  },
};

async function pairOf(
  ctx: BenchContext,
  driver: Worker,
  spec: { figure: string; url: string; baseline: string; bytes: number; count: number; headers?: Record<string, string> },
): Promise<Figure> {
  const load = { count: spec.count, concurrency: 4, maxMs: 20_000, headers: spec.headers };
  const rate = async (url: string): Promise<number> => {
    const r = await driver.call<LoadResult>('get', { ...load, url });
    if (r.failed > 0) throw new Error(`${url}: ${r.failed} requests failed (${r.firstError})`);
    return (r.done / r.elapsedMs) * 1000;
  };
  const s = await interleave(
    PAIRS,
    1,
    () => rate(spec.url),
    () => rate(spec.baseline),
  );
  ctx.log(`${spec.figure}: done`);
  return compared(
    'ui',
    spec.figure,
    'req/s',
    median(s.a),
    'the same bytes as a static file, same collector',
    median(s.b),
    // Both render from the read model and keep what they rendered until it changes: close to serving a file.
    { on: 'ratio', op: '>=', bound: 0.5 },
    `${(spec.bytes / 1024).toFixed(0)} KiB; ${PAIRS} pairs × ${spec.count} requests, concurrency 4`,
  );
}

/** Samples in a text exposition: every line that is not a comment or blank. */
function seriesIn(exposition: string): number {
  let n = 0;
  for (const line of exposition.split('\n')) if (line !== '' && !line.startsWith('#')) n += 1;
  return n;
}
