import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource } from '../apps/collector/src/repositories/data-source.js';
import { ResultWriter } from '../apps/collector/src/repositories/result-writer.js';
import { compared, absolute, type Benchmark, type BenchContext, type Figure } from './lib/figure.js';
import { freePort, interleave, median, type LoadResult } from './lib/measure.js';
import { tempDir, Worker } from './lib/processes.js';
import { seedAgents } from './lib/seed.js';
import { agentToken } from './lib/tls.js';

const AGENTS = 200;
const CHECKS = 10;
const PAIRS = 5;
const STATUSES = [0, 0, 0, 0, 0, 0, 0, 1, 2, 3] as const;

/**
 * The status page (GET /) rendered by the collector for 2,000 checks with a current state
 * each, against the same bytes served as a static file by the same collector's express
 * app — so the ratio is the cost of rendering, not of HTTP. /metrics likewise, when the
 * collector has it.
 */
export const bench: Benchmark = {
  name: 'ui',
  description: 'status page (GET /) with 2,000 checks vs the same bytes as a static file; /metrics when present',
  async run(ctx) {
    const dataDir = tempDir('ui');
    ctx.defer(() => rmSync(dataDir, { recursive: true, force: true }));
    const staticDir = join(dataDir, 'static');
    mkdirSync(staticDir);
    // Agents on a port nobody listens on: the poller's first polls fail fast, then wait an hour.
    const closed = await freePort();
    const ds = await createDataSource({ dataDir }).initialize();
    const agents = await seedAgents(
      ds,
      Array.from({ length: AGENTS }, (_, i) => ({ name: `pacs-${String(i).padStart(3, '0')}`, host: '127.0.0.1', port: closed, token: agentToken(), fingerprint: '0'.repeat(64) })),
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

    const token = `bench-${agentToken()}`;
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
    const base = `http://127.0.0.1:${port}`;
    const page = await fetch(`${base}/`);
    const html = await page.text();
    if (page.status !== 200) throw new Error(`GET / answered ${page.status}`);
    const shown = (html.match(/pacs-\d{3}/g) ?? []).length;
    writeFileSync(join(staticDir, 'dashboard.html'), html);
    ctx.log(`GET / is ${(html.length / 1024).toFixed(0)} KiB (${shown} agent-name mentions)`);

    const driver = new Worker('load');
    ctx.defer(() => driver.stop());
    const figures: Figure[] = [];
    figures.push(
      await pairOf(ctx, driver, {
        figure: `Status page GET / with ${AGENTS * CHECKS} checks`,
        url: `${base}/`,
        baseline: `${base}/bench-static/dashboard.html`,
        bytes: html.length,
        count: 30,
      }),
    );

    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const exposition = await metrics.text();
    if (metrics.status === 404) {
      figures.push(absolute('ui', '/metrics scrape', 'scrapes/s', null, null, 'pending: GET /metrics does not exist in this build yet'));
    } else if (metrics.status !== 200) {
      throw new Error(`GET /metrics answered ${metrics.status}: ${exposition.slice(0, 200)}`);
    } else {
      writeFileSync(join(staticDir, 'metrics.txt'), exposition);
      figures.push(
        await pairOf(ctx, driver, {
          figure: `/metrics scrape with ${AGENTS} agents, ${AGENTS * CHECKS} checks`,
          url: `${base}/metrics`,
          baseline: `${base}/bench-static/metrics.txt`,
          bytes: exposition.length,
          count: 100,
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    }
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
  const s = await interleave(PAIRS, 1, () => rate(spec.url), () => rate(spec.baseline));
  ctx.log(`${spec.figure}: done`);
  return compared(
    'ui',
    spec.figure,
    'req/s',
    median(s.a),
    'the same bytes as a static file, same collector',
    median(s.b),
    null,
    `${(spec.bytes / 1024).toFixed(0)} KiB; ${PAIRS} pairs × ${spec.count} requests, concurrency 4; the issue sets no goal for this figure`,
  );
}
