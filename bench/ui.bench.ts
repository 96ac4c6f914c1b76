import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource } from '../apps/collector/src/storage/data-source.js';
import { ResultWriter } from '../apps/collector/src/polling/result-writer.js';
import type { StatusCode } from '../apps/collector/src/storage/entities/index.js';
import { RollupsRepository } from '../apps/collector/src/history/rollups.repository.js';
import { compared, type Benchmark, type BenchContext, type Figure } from './lib/figure.js';
import { freePort, interleave, median, sleep, type LoadResult } from './lib/measure.js';
import { tempDir, Worker } from './lib/processes.js';
import { seedAgents } from './lib/seed.js';
import { agentToken } from './lib/tls.js';

const AGENTS = 200;
const CHECKS = 10;
const PAIRS = 5;
const STATUSES = [0, 0, 0, 0, 0, 0, 0, 1, 2, 3] as const;

const OK: StatusCode = 0;
const CRITICAL: StatusCode = 2;

/** Dashboards held open for the fan-out figure, and the changes timed. */
const LIVE_CLIENTS = 20;
const LIVE_ROUNDS = 5;

/** Series the /metrics figure is measured at (the size). */
const METRICS_SERIES = 10_000;

/** A migrated database with `agents` × 10 checks, each with a current state (a mix of statuses). */
async function seededDataDir(ctx: BenchContext, agentCount: number, historyDays = 0): Promise<{ dataDir: string; historyCheckId: string }> {
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
  // The first check's last `historyDays` at 30 s, rolled up as the collector would have: its page's 30-day charts read these.
  const historyCheckId = agents[0]!.checkIds[0]!;
  const start = Date.now() - historyDays * 86_400_000;
  const total = historyDays * 2_880;
  for (let i = 0; i < total; i += 2_000) {
    const results = Array.from({ length: Math.min(2_000, total - i) }, (_, k) => {
      const n = i + k;
      return {
        checkId: historyCheckId,
        seq: CHECKS + n + 1,
        startedAt: start + n * 30_000,
        durationMs: 10 + (n % 17),
        status: n % 500 === 0 ? CRITICAL : OK,
        reason: n % 500 === 0 ? 'refused' : 'ok',
        summary: 'HTTP 200 in 0.012 s, 14.2 kB',
        metrics: [{ name: 'total_seconds', value: 0.01 + (n % 17) / 1000, unit: 'seconds' }],
      };
    });
    await writer.write({ agentId: agents[0]!.id, ackSeq: results.at(-1)!.seq, spoolEpoch: 'ui', results });
  }
  const rollups = new RollupsRepository(ds);
  while ((await rollups.rollUp(50_000)).rolled > 0);
  await writer.close();
  await ds.destroy();
  return { dataDir, historyCheckId };
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
 * The admin UI's pages rendered by the collector for 2,000 checks with a current state each —
 * the dashboard, the first page of the check list, and a check's page over 30 days of history —
 * and a /metrics scrape of 10,000 series (a second collector, sized from the first one's series
 * per check), each against the same bytes served as a static file by the same collector's
 * express app, so the ratio is the cost of rendering, not of HTTP. Then a change reaching 20 open
 * dashboards through the event stream.
 */
export const bench: Benchmark = {
  name: 'ui',
  description: `dashboard, check list and a check's page (30 days) with ${AGENTS * CHECKS} checks, and /metrics with ${METRICS_SERIES} series, vs the same bytes as static files; live updates to ${LIVE_CLIENTS} dashboards`,
  async run(ctx) {
    const token = `bench-${agentToken()}`;
    const driver = new Worker('load');
    ctx.defer(() => driver.stop());
    const figures: Figure[] = [];

    const seeded = await seededDataDir(ctx, AGENTS, 30);
    const dashboard = await startCollector(ctx, seeded.dataDir, token);
    // Signed in as the admin the environment's API token belongs to: the pages are no longer open.
    const signedIn = { authorization: `Bearer ${token}` };
    const pages = [
      { figure: `Dashboard GET / with ${AGENTS * CHECKS} checks on ${AGENTS} agents`, path: '/', file: 'dashboard.html', count: 30 },
      { figure: `Check list GET /checks (page 1 of ${AGENTS * CHECKS})`, path: '/checks', file: 'checks.html', count: 60 },
      {
        figure: 'Check page GET /checks/{id} with 30 days of history (86,400 results, charts and uptime)',
        path: `/checks/${seeded.historyCheckId}?range=30d`,
        file: 'check.html',
        count: 60,
      },
    ];
    for (const p of pages) {
      const page = await fetch(`${dashboard.base}${p.path}`, { headers: signedIn });
      const html = await page.text();
      if (page.status !== 200) throw new Error(`GET ${p.path} answered ${page.status}: ${html.slice(0, 300)}`);
      if (p.path === '/') {
        const shown = (html.match(/data-check="/g) ?? []).length;
        if (shown < AGENTS * CHECKS) throw new Error(`GET / shows ${shown} check cards, expected all ${AGENTS * CHECKS}`);
      }
      writeFileSync(join(dashboard.staticDir, p.file), html);
      ctx.log(`GET ${p.path} is ${(html.length / 1024).toFixed(0)} KiB`);
      figures.push(
        await pairOf(ctx, driver, {
          figure: p.figure,
          url: `${dashboard.base}${p.path}`,
          baseline: `${dashboard.base}/bench-static/${p.file}`,
          bytes: html.length,
          count: p.count,
          headers: signedIn,
          bound: 0.3,
        }),
      );
    }
    figures.push(await liveFanOut(ctx, dashboard.base, signedIn));
    const perCheck = seriesIn(await scrape(dashboard.base, token)) / (AGENTS * CHECKS);
    await dashboard.host.stop();

    const metricsAgents = Math.max(1, Math.round(METRICS_SERIES / (perCheck * CHECKS)));
    const exporter = await startCollector(ctx, (await seededDataDir(ctx, metricsAgents)).dataDir, token);
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
        bound: 0.5,
      }),
    );
    return figures;
  },
};

async function pairOf(
  ctx: BenchContext,
  driver: Worker,
  spec: { figure: string; url: string; baseline: string; bytes: number; count: number; headers?: Record<string, string>; bound: number },
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
    { on: 'ratio', op: '>=', bound: spec.bound },
    `${(spec.bytes / 1024).toFixed(0)} KiB; ${PAIRS} pairs × ${spec.count} requests, concurrency 4`,
  );
}

/** Samples in a text exposition: every line that is not a comment or blank. */
function seriesIn(exposition: string): number {
  let n = 0;
  for (const line of exposition.split('\n')) if (line !== '' && !line.startsWith('#')) n += 1;
  return n;
}

/** One open /live stream: the model versions its status events carried, with when they came. */
class LiveStream {
  readonly events: { version: number; at: number }[] = [];
  private readonly abort = new AbortController();

  static async open(url: string, headers: Record<string, string>): Promise<LiveStream> {
    const stream = new LiveStream();
    const res = await fetch(url, { headers, signal: stream.abort.signal });
    if (res.status !== 200 || !res.body) throw new Error(`GET /live answered ${res.status}`);
    void stream.read(res.body.getReader());
    return stream;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^event: status\ndata: (\d+)$/m.exec(event);
          if (data) this.events.push({ version: Number(data[1]), at: performance.now() });
        }
      }
    } catch {
      // Aborted at the end of the bench.
    }
  }

  /** The newest version seen. */
  get version(): number {
    return this.events.at(-1)?.version ?? -1;
  }

  close(): void {
    this.abort.abort();
  }
}

/**
 * A change reaching open dashboards: an agent's tags change through the API (the read model's
 * version moves), every open /live stream gets its status event, and each "browser" fetches its
 * board as htmx does. Timed from the change to the last board fetched, for 20 dashboards and
 * for one; the collector looks at the model once a second, so half a second is the floor.
 */
async function liveFanOut(ctx: BenchContext, base: string, headers: Record<string, string>): Promise<Figure> {
  const agents = (await (await fetch(`${base}/api/v1/agents`, { headers })).json()) as { id: string }[];
  const agentId = agents[0]!.id;
  let round = 0;
  const timed = async (clients: number): Promise<number> => {
    const streams = await Promise.all(Array.from({ length: clients }, () => LiveStream.open(`${base}/live`, headers)));
    try {
      const times: number[] = [];
      await sleep(1_500);
      for (let r = 0; r < LIVE_ROUNDS; r++) {
        const before = streams.map((s) => s.version);
        const t0 = performance.now();
        const patched = await fetch(`${base}/api/v1/agents/${agentId}`, {
          method: 'PATCH',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ tags: { bench_round: String(++round) } }),
        });
        if (patched.status !== 200) throw new Error(`PATCH /api/v1/agents answered ${patched.status}`);
        const done = await Promise.all(
          streams.map(async (s, i) => {
            const deadline = Date.now() + 10_000;
            while (s.version <= before[i]!) {
              if (Date.now() > deadline) throw new Error('a dashboard got no status event within 10 s of the change');
              await sleep(5);
            }
            const board = await fetch(`${base}/status/board`, { headers: { ...headers, 'hx-request': 'true' } });
            if (board.status !== 200) throw new Error(`GET /status/board answered ${board.status}`);
            await board.arrayBuffer();
            return performance.now();
          }),
        );
        times.push(Math.max(...done) - t0);
      }
      return median(times);
    } finally {
      for (const s of streams) s.close();
    }
  };
  const one = await timed(1);
  const many = await timed(LIVE_CLIENTS);
  ctx.log(`live update: ${one.toFixed(0)} ms to one dashboard, ${many.toFixed(0)} ms to ${LIVE_CLIENTS}`);
  return compared(
    'ui',
    `Live update reaching ${LIVE_CLIENTS} open dashboards (change → event → each fetches its board), ms`,
    'ms',
    many,
    'the same for one dashboard',
    one,
    null,
    `${LIVE_ROUNDS} changes, median; the collector looks for changes once a second, so ~500 ms is the floor; ${AGENTS * CHECKS} checks on the board`,
  );
}
