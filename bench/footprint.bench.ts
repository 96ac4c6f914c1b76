import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckSpec } from '#rounds/common/wire';
import { COLLECTOR_POLL_MS, ensureSingleFileAgent, httpChecks, NODE_BUILD, PolledAgent, SINGLE_FILE_BUILD, type AgentBuild } from './lib/agent-process.js';
import { startTarget } from './lib/blackbox.js';
import { compared, type Benchmark, type BenchContext, type Figure } from './lib/figure.js';
import { cpuSeconds, freePort, interleave, median, percentile, rssBytes, sleep, type LoadResult } from './lib/measure.js';
import { Daemon, tempDir, Worker } from './lib/processes.js';

export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';
const PAIRS = 5;
const GATHERS_PER_PAIR = 4;
const SAMPLE_MS = 2000;
const MIB = 2 ** 20;
/** The bound for the agent at 1,000 http checks every 20 s, in MiB. */
export const THOUSAND_CHECKS_RSS_BOUND_MIB = 110;
/**
 * The agent's heap settings may not make a result notably dearer than V8's own sizing does. One
 * two-minute window on this shared machine gave 0.85–1.28× for the same code, so the bound
 * leaves room for that noise and still fails a setting that makes results half as dear again.
 */
const CPU_PER_RESULT_BOUND = 1.5;

type Target = { httpPort: number; tcpPort: number };

/** A load the agent carries while its RSS is sampled: its checks, how long to settle first and how long to sample. */
interface Load {
  name: string;
  checks(target: Target): CheckSpec[];
  warmupMs: number;
  windowMs: number;
}

const IDLE: Load = { name: 'idle (no checks)', checks: () => [], warmupMs: 20_000, windowMs: 30_000 };

const TWENTY: Load = {
  name: '20 checks every 1 s (host-metrics, 10 http, 9 tcp)',
  checks: (t) => [
    { id: 'host', plugin: 'host-metrics', configJson: '{}', intervalMs: 1000, timeoutMs: 1000 },
    ...httpChecks(10, t.httpPort, 1000, 1000),
    ...Array.from({ length: 9 }, (_, i) => ({
      id: `tcp-${i}`,
      plugin: 'tcp',
      configJson: JSON.stringify({ host: '127.0.0.1', port: t.tcpPort }),
      intervalMs: 1000,
      timeoutMs: 1000,
    })),
  ],
  warmupMs: 20_000,
  windowMs: 30_000,
};

/**
 * The load: 1,000 http checks every 20 s. Three intervals to settle (the first runs
 * are jittered over 5 s, the spool and the heap fill), then six intervals of samples: the heap
 * breathes with the check cycle and the old generation's collections, so one sample says little.
 */
const THOUSAND: Load = {
  name: '1,000 http checks every 20 s',
  checks: (t) => httpChecks(1000, t.httpPort, 20_000, 10_000),
  warmupMs: 60_000,
  windowMs: 120_000,
};

/** One agent process measured under a load. */
interface Run {
  label: string;
  build: AgentBuild;
  env?: NodeJS.ProcessEnv;
  keepPageCache?: boolean;
}

interface Measured {
  run: Run;
  /** RSS samples over the window, bytes, and how much of each was anonymous and file-backed. */
  rss: number[];
  anon: number[];
  file: number[];
  /** Agent CPU (children included) per spooled result over the window, seconds; NaN without results. */
  cpuPerResult: number;
  results: number;
}

/**
 * Starts every run's agent at once with the load's checks, polled as the collector polls, lets
 * them settle and samples their RSS (and a bare `node` idling on a timer, the anchor) every
 * 2 s over the window. Running side by side puts the machine's noise on all of them alike.
 */
async function measure(ctx: BenchContext, target: Target, load: Load, runs: Run[]): Promise<{ measured: Measured[]; bare: number[] }> {
  const dir = tempDir('footprint');
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const agents: PolledAgent[] = [];
  for (const [i, run] of runs.entries()) {
    const agentDir = join(dir, `agent-${i}`);
    mkdirSync(agentDir);
    agents.push(
      await PolledAgent.start(ctx, {
        label: run.label,
        build: run.build,
        dir: agentDir,
        checks: load.checks(target),
        env: run.env,
        keepPageCache: run.keepPageCache,
      }),
    );
  }
  const bare = new Daemon('bare node', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], join(dir, 'bare.log'));
  ctx.defer(() => bare.stop());
  for (const a of agents) a.begin();
  ctx.log(`${load.name}: ${runs.map((r) => r.label).join(', ')} — settling ${load.warmupMs / 1000} s, then sampling for ${load.windowMs / 1000} s`);
  await sleep(load.warmupMs);
  const from = Date.now();
  const samples = agents.map(() => ({ rss: [] as number[], anon: [] as number[], file: [] as number[] }));
  const bareSamples: number[] = [];
  while (Date.now() - from < load.windowMs) {
    agents.forEach((a, i) => {
      const parts = a.rssParts();
      samples[i]!.rss.push(a.rss());
      samples[i]!.anon.push(parts.anon);
      samples[i]!.file.push(parts.file);
    });
    bareSamples.push(rssBytes(bare.pid));
    await sleep(SAMPLE_MS);
  }
  // A poll just after the window closes, so the CPU per result spans it.
  await sleep(COLLECTOR_POLL_MS);
  const to = Date.now();
  const measured = agents.map((a, i) => {
    a.assertHealthy();
    const cpu = a.cpuPerResult(from, to);
    return { run: runs[i]!, ...samples[i]!, cpuPerResult: cpu.seconds, results: cpu.results };
  });
  for (const a of agents) {
    await a.stop();
    await a.daemon.stop();
  }
  await bare.stop();
  for (const m of measured) {
    ctx.log(
      `${load.name}, ${m.run.label}: RSS median ${(median(m.rss) / MIB).toFixed(1)} MiB (max ${(Math.max(...m.rss) / MIB).toFixed(1)}), ` +
        `${m.results} results, ${(m.cpuPerResult * 1000).toFixed(3)} ms CPU per result`,
    );
  }
  return { measured, bare: bareSamples };
}

function rssNote(m: Measured, load: Load): string {
  const mib = (b: number) => (b / MIB).toFixed(1);
  const cpu = Number.isFinite(m.cpuPerResult) ? `; ${(m.cpuPerResult * 1000).toFixed(3)} ms agent CPU per result (${m.results} results)` : '';
  return (
    `median of ${m.rss.length} samples every ${SAMPLE_MS / 1000} s over ${load.windowMs / 1000} s after ${load.warmupMs / 1000} s of warm-up, ` +
    `polled every ${COLLECTOR_POLL_MS / 1000} s through AgentClientPool; p90 ${mib(percentile(m.rss, 90))}, max ${mib(Math.max(...m.rss))} MiB; ` +
    `of the median: ${mib(median(m.anon))} MiB anonymous, ${mib(median(m.file))} MiB file-backed (the executable's pages; ` +
    `${m.run.keepPageCache ? 'started with the whole file in the page cache' : 'its unmapped pages dropped from the page cache before the start'})${cpu}`
  );
}

/**
 * The real agent — the node build (`bin/rounds-agent.js`) and the single-file build side by
 * side — idle, with 20 checks every second, and with 1,000 http checks every 20 s against a
 * local target, polled as the collector polls; then host-metrics' CPU per gather against
 * node_exporter's CPU per scrape.
 */
export const bench: Benchmark = {
  name: 'footprint',
  description: 'agent RSS idle, at 20 and at 1,000 http checks (node and single-file builds); CPU per result; host-metrics CPU vs node_exporter',
  async run(ctx) {
    ensureSingleFileAgent(ctx);
    const target = await startTarget(ctx);
    const builds: Run[] = [
      { label: NODE_BUILD.name, build: NODE_BUILD },
      { label: SINGLE_FILE_BUILD.name, build: SINGLE_FILE_BUILD },
    ];
    const figures: Figure[] = [];
    const vsBare = (load: Load, { measured, bare }: Awaited<ReturnType<typeof measure>>, bound: number | null) => {
      for (const m of measured.filter((x) => builds.includes(x.run))) {
        figures.push(
          compared(
            'footprint',
            `Agent RSS, ${load.name} (${m.run.label})`,
            'MiB',
            median(m.rss) / MIB,
            'bare node process',
            median(bare) / MIB,
            bound === null ? null : { on: 'value', op: '<=', bound },
            rssNote(m, load),
          ),
        );
      }
    };
    vsBare(IDLE, await measure(ctx, target, IDLE, builds), null);
    vsBare(TWENTY, await measure(ctx, target, TWENTY, builds), null);

    // V8's own heap sizing beside the agent's (heap.ts), under the same load at the same time: what the setting buys and costs.
    const v8Sizing: Run = { label: 'node build, ROUNDS_AGENT_HEAP=node', build: NODE_BUILD, env: { ROUNDS_AGENT_HEAP: 'node' } };
    // And the single file as it runs right after being copied to a machine: wholly in the page cache (a copy, so its pages are its own).
    const copyDir = tempDir('footprint-copy');
    ctx.defer(() => rmSync(copyDir, { recursive: true, force: true }));
    const copy = join(copyDir, 'rounds-agent-linux-x64');
    copyFileSync(SINGLE_FILE_BUILD.command, copy);
    // Read through once: a copy made by reflink or copy_file_range may not have passed through the page cache.
    execFileSync('cat', [copy], { stdio: 'ignore' });
    const freshCopy: Run = { label: 'single-file build, fresh copy', build: { ...SINGLE_FILE_BUILD, command: copy }, keepPageCache: true };
    const thousand = await measure(ctx, target, THOUSAND, [...builds, v8Sizing, freshCopy]);
    vsBare(THOUSAND, thousand, THOUSAND_CHECKS_RSS_BOUND_MIB);
    const shipped = thousand.measured[0]!;
    const untuned = thousand.measured.find((m) => m.run === v8Sizing)!;
    figures.push(
      compared(
        'footprint',
        `Agent RSS, ${THOUSAND.name}, V8's own heap sizing (ROUNDS_AGENT_HEAP=node)`,
        'MiB',
        median(untuned.rss) / MIB,
        'the node build as shipped',
        median(shipped.rss) / MIB,
        null,
        `${rssNote(untuned, THOUSAND)}; side by side with the builds above`,
      ),
      compared(
        'footprint',
        `Agent CPU per result, ${THOUSAND.name} (node build)`,
        'ms CPU',
        shipped.cpuPerResult * 1000,
        "the same with V8's own heap sizing",
        untuned.cpuPerResult * 1000,
        { on: 'ratio', op: '<=', bound: CPU_PER_RESULT_BOUND },
        `own CPU and waited-for children over the sampling window, per result spooled (${shipped.results} and ${untuned.results} results); side by side`,
      ),
    );
    const copied = thousand.measured.find((m) => m.run === freshCopy)!;
    figures.push(
      compared(
        'footprint',
        `Agent RSS, ${THOUSAND.name}, single file right after copying it (wholly in the page cache)`,
        'MiB',
        median(copied.rss) / MIB,
        'the same file with its pages dropped first',
        median(thousand.measured[1]!.rss) / MIB,
        null,
        `${rssNote(copied, THOUSAND)}; the difference is clean file pages the kernel maps around touched ones and takes back under memory pressure`,
      ),
    );
    const singleFile = thousand.measured[1]!;
    figures.push(
      compared(
        'footprint',
        `Agent CPU per result, ${THOUSAND.name} (single-file build)`,
        'ms CPU',
        singleFile.cpuPerResult * 1000,
        'the node build',
        shipped.cpuPerResult * 1000,
        null,
        `${singleFile.results} results; side by side`,
      ),
    );
    figures.push(...(await hostMetricsVsNodeExporter(ctx)));
    return figures;
  },
};

/** host-metrics' CPU per gather (a worker's own CPU plus its waited-for children) against node_exporter's per /metrics scrape. */
async function hostMetricsVsNodeExporter(ctx: BenchContext): Promise<Figure[]> {
  const dir = tempDir('footprint');
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const nodeExporterPort = await freePort();
  const exporter = new Daemon(
    'node_exporter',
    NODE_EXPORTER_BIN,
    [`--web.listen-address=127.0.0.1:${nodeExporterPort}`, '--log.level=warn'],
    join(dir, 'node-exporter.log'),
  );
  ctx.defer(() => exporter.stop());
  await exporter.waitForPort(nodeExporterPort);
  const gatherer = new Worker('load');
  const driver = new Worker('load');
  ctx.defer(() => gatherer.stop());
  ctx.defer(() => driver.stop());
  await gatherer.call('init', { plugin: 'host-metrics', config: {} });
  const load = { count: GATHERS_PER_PAIR, concurrency: 1, maxMs: 30_000 };
  const cpuPer = async (pid: number, work: () => Promise<LoadResult>): Promise<number> => {
    const c0 = cpuSeconds(pid, true);
    const r = await work();
    if (r.failed > 0) throw new Error(`gather/scrape failed: ${r.firstError}`);
    await sleep(250);
    return (cpuSeconds(pid, true) - c0) / r.done;
  };
  const cpu = await interleave(
    PAIRS,
    1,
    () => cpuPer(gatherer.pid, () => gatherer.call<LoadResult>('run', { ...load, timeoutMs: 10_000 })),
    () =>
      cpuPer(exporter.pid, () =>
        driver.call<LoadResult>('get', { ...load, url: `http://127.0.0.1:${nodeExporterPort}/metrics`, expect: 'node_cpu_seconds_total' }),
      ),
  );
  return [
    compared(
      'footprint',
      'host-metrics CPU per gather (children included)',
      'ms CPU',
      median(cpu.a) * 1000,
      'node_exporter CPU per /metrics scrape',
      median(cpu.b) * 1000,
      { on: 'ratio', op: '<=', bound: 2 },
      `${PAIRS} pairs × ${GATHERS_PER_PAIR} gathers/scrapes; host-metrics through runPlugin in a worker, node_exporter with its default collectors`,
    ),
  ];
}
