import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTarget } from './lib/blackbox.js';
import { absolute, type Benchmark, type BenchContext, type Figure } from './lib/figure.js';
import { freePort, median, ROOT, rssBytes, sleep } from './lib/measure.js';
import { Daemon, tempDir } from './lib/processes.js';

/**
 * How long the soak runs and when its warm-up ends, from the bench's own environment
 * (the bench is not an app: config/env.ts is the collector's). 60 min is the issue's run;
 * `ROUNDS_BENCH_SOAK_MINUTES=5 npm run bench -- soak` checks the bench itself. The warm-up is
 * half the run by default: at this load the collector's SQLite page cache (16 MiB) fills for
 * about 30 minutes as the database grows — measured: +13 MiB from minute 10 to 30, then flat;
 * with a 2 MiB cache the collector is flat from minute 3 — and the agents' heaps settle about
 * as long. A warm-up longer than half the run is cut to half so a run still has a slope to fit.
 * `defaults` are this soak's; agent-soak (the agent alone) settles sooner and samples more often.
 */
export function soakSettings(defaults = { warmupMinutes: 30, sampleMinutes: 0.5 }): { durationMs: number; warmupMs: number; sampleMs: number } {
  const minutes = (name: string, fallback: number): number => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}=${raw} is not a positive number of minutes (e.g. ${name}=5)`);
    return v;
  };
  const durationMs = minutes('ROUNDS_BENCH_SOAK_MINUTES', 60) * 60_000;
  const warmupMs = Math.min(minutes('ROUNDS_BENCH_SOAK_WARMUP_MINUTES', defaults.warmupMinutes) * 60_000, durationMs / 2);
  const sampleMs = minutes('ROUNDS_BENCH_SOAK_SAMPLE_MINUTES', defaults.sampleMinutes) * 60_000;
  return { durationMs, warmupMs, sampleMs };
}

const AGENTS = 3;
const CHECK_INTERVAL_MS = 5000;
const POLL_INTERVAL_MS = 5000;
/** Growth under this after warm-up is "no growth": below what one retained object per poll would add over an hour. */
const SLOPE_BOUND_MIB_PER_HOUR = 2;
const API_TOKEN = 'soak-bench-api-token-0123456789abcdef';

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} failed: ${out}`))));
  });
}

async function api(port: number, path: string, body: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST /api/v1/${path} → ${res.status}: ${await res.text()}`);
}

/** The sum of every sample of `name` in the collector's own /metrics (labels summed), or null when absent. */
async function collectorMetric(port: number, name: string): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum: number | null = null;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'gm'))) sum = (sum ?? 0) + Number(m[1]);
  return sum;
}

/** Least-squares slope of (t, v), in v per hour. */
export function slopePerHour(points: readonly { t: number; v: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? NaN : (num / den) * 3_600_000;
}

interface Sample {
  t: number;
  /** RSS in MiB of the collector, then of each agent. */
  collector: number;
  collectorHeap: number | null;
  agents: number[];
}

/**
 * A collector (bin/rounds-collector.js, SQLite) and {@link AGENTS} real agents
 * (bin/rounds-agent.js) with 20 checks each — host-metrics, 10 http, 8 tcp, one tcp to a
 * closed port that stays CRITICAL — every 5 s, polled every 5 s, enrolled through the API.
 * RSS from /proc/<pid>/status of every process (and the collector's own V8 heap figure
 * from /metrics) every 30 s, appended to bench/results/soak-<start>.tsv as it goes so a
 * long run can be read while it lasts.
 */
export const bench: Benchmark = {
  name: 'soak',
  optIn: true,
  description: 'collector + 3 agents × 20 checks at steady load for 60 min (ROUNDS_BENCH_SOAK_MINUTES): RSS over time, slope after warm-up',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const { durationMs, warmupMs, sampleMs } = soakSettings();
    const target = await startTarget(ctx);
    const closedPort = await freePort();
    const dir = tempDir('soak');
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));

    const httpPort = await freePort();
    const collector = new Daemon('rounds-collector', process.execPath, [join(ROOT, 'bin', 'rounds-collector.js'), 'start'], join(dir, 'collector.log'), {
      ROUNDS_DATA_DIR: join(dir, 'collector'),
      ROUNDS_HTTP_PORT: String(httpPort),
      ROUNDS_API_TOKEN: API_TOKEN,
      ROUNDS_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      ROUNDS_LOG_LEVEL: 'warn',
    });
    ctx.defer(() => collector.stop());
    await collector.waitForPort(httpPort, 30_000);

    const agents: Daemon[] = [];
    for (let a = 0; a < AGENTS; a++) {
      const port = await freePort();
      const configPath = join(dir, `agent-${a}`, 'agent.yaml');
      mkdirSync(join(dir, `agent-${a}`), { recursive: true });
      const out = await run([join(ROOT, 'bin', 'rounds-agent.js'), 'init', '--config', configPath, '--listen', `127.0.0.1:${port}`]);
      const enrol = out.trim().split('\n').pop()!;
      const agent = new Daemon(
        `rounds-agent ${a}`,
        process.execPath,
        [join(ROOT, 'bin', 'rounds-agent.js'), 'start', '--config', configPath],
        join(dir, `agent-${a}.log`),
        {
          ROUNDS_AGENT_LOG_LEVEL: 'warn',
        },
      );
      ctx.defer(() => agent.stop());
      await agent.waitForPort(port);
      agents.push(agent);
      const name = `soak-${a}`;
      await api(httpPort, 'agents', { name, enrol });
      const check = (n: string, plugin: string, config: unknown) =>
        api(httpPort, 'checks', { agent: name, name: n, plugin, config, intervalMs: CHECK_INTERVAL_MS, timeoutMs: 4000 });
      await check('host', 'host-metrics', {});
      for (let i = 0; i < 10; i++) await check(`http-${i}`, 'http', { url: `http://127.0.0.1:${target.httpPort}/page-${i}` });
      for (let i = 0; i < 8; i++) await check(`tcp-${i}`, 'tcp', { host: '127.0.0.1', port: target.tcpPort });
      await check('closed', 'tcp', { host: '127.0.0.1', port: closedPort });
    }
    ctx.log(`collector on 127.0.0.1:${httpPort}, ${AGENTS} agents × 20 checks every ${CHECK_INTERVAL_MS / 1000} s, polled every ${POLL_INTERVAL_MS / 1000} s`);

    const resultsDir = join(ROOT, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const seriesFile = join(resultsDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.tsv`);
    appendFileSync(
      seriesFile,
      `minutes\tcollector_rss_mib\tcollector_heap_used_mib\t${agents.map((_, a) => `agent${a}_rss_mib`).join('\t')}\tpolls\tpoll_errors\n`,
    );
    ctx.log(`series: ${seriesFile} (every ${sampleMs / 1000} s for ${durationMs / 60_000} min, warm-up ${warmupMs / 60_000} min)`);

    const mib = (b: number) => b / 2 ** 20;
    const samples: Sample[] = [];
    const start = Date.now();
    let polls0: number | null = null;
    let errors0: number | null = null;
    for (let k = 0; ; k++) {
      const due = start + k * sampleMs;
      if (due > start + durationMs) break;
      await sleep(Math.max(0, due - Date.now()));
      const t = Date.now() - start;
      const heap = await collectorMetric(httpPort, 'nodejs_heap_size_used_bytes');
      const polls = await collectorMetric(httpPort, 'rounds_collector_polls_total');
      const errors = await collectorMetric(httpPort, 'rounds_collector_poll_errors_total');
      polls0 ??= polls;
      errors0 ??= errors;
      const s: Sample = {
        t,
        collector: mib(rssBytes(collector.pid)),
        collectorHeap: heap === null ? null : mib(heap),
        agents: agents.map((a) => mib(rssBytes(a.pid))),
      };
      samples.push(s);
      const row = [t / 60_000, s.collector, s.collectorHeap ?? NaN, ...s.agents].map((v) => v.toFixed(2));
      appendFileSync(seriesFile, `${row.join('\t')}\t${polls ?? ''}\t${errors ?? ''}\n`);
      ctx.log(
        `${(t / 60_000).toFixed(1)} min: collector ${s.collector.toFixed(1)} MiB (heap ${s.collectorHeap?.toFixed(1) ?? '?'}), agents ${s.agents.map((v) => v.toFixed(1)).join(' / ')} MiB; polls ${polls}, errors ${errors}`,
      );
    }
    const last = await collectorMetric(httpPort, 'rounds_collector_polls_total');
    const lastErrors = await collectorMetric(httpPort, 'rounds_collector_poll_errors_total');
    const pollsDone = (last ?? 0) - (polls0 ?? 0);
    const expected = (AGENTS * durationMs) / POLL_INTERVAL_MS;
    if (pollsDone < expected * 0.9)
      throw new Error(`only ${pollsDone} polls in the soak (${expected} due): the load was not steady (collector log: ${join(dir, 'collector.log')})`);

    // The value at a moment: median of the samples within one sample period either side, so one GC does not decide it.
    const around = (series: { t: number; v: number }[], at: number) => median(series.filter((p) => Math.abs(p.t - at) <= sampleMs).map((p) => p.v));
    const figures: Figure[] = [];
    const report = (who: string, series: { t: number; v: number }[], bounded: boolean) => {
      const after = series.filter((p) => p.t >= warmupMs);
      const slope = slopePerHour(after);
      const note = `${series.length} samples every ${sampleMs / 1000} s over ${(durationMs / 60_000).toFixed(0)} min; warm-up ${(warmupMs / 60_000).toFixed(0)} min; first ${series[0]!.v.toFixed(1)} MiB, at warm-up end ${around(series, warmupMs).toFixed(1)} MiB, at the end ${around(series, series.at(-1)!.t).toFixed(1)} MiB, max after warm-up ${Math.max(...after.map((p) => p.v)).toFixed(1)} MiB`;
      figures.push(absolute('soak', `${who} at warm-up end`, 'MiB', around(series, warmupMs), null, note));
      figures.push(absolute('soak', `${who} at the end`, 'MiB', around(series, series.at(-1)!.t), null));
      figures.push(
        absolute(
          'soak',
          `${who} slope after warm-up (least squares)`,
          'MiB/h',
          slope,
          bounded ? { on: 'value', op: '<', bound: SLOPE_BOUND_MIB_PER_HOUR } : null,
          bounded ? 'no growth after warm-up: slope under the bound' : 'reported',
        ),
      );
    };
    report(
      'Collector RSS',
      samples.map((s) => ({ t: s.t, v: s.collector })),
      true,
    );
    if (samples.every((s) => s.collectorHeap !== null))
      report(
        'Collector V8 heap used (no forced GC)',
        samples.map((s) => ({ t: s.t, v: s.collectorHeap! })),
        false,
      );
    agents.forEach((_, a) =>
      report(
        `Agent ${a} RSS`,
        samples.map((s) => ({ t: s.t, v: s.agents[a]! })),
        true,
      ),
    );
    ctx.log(`${pollsDone} polls (${expected} due), ${(lastErrors ?? 0) - (errors0 ?? 0)} poll errors; series in ${seriesFile}`);
    return figures;
  },
};
