import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnrolment } from '#rounds/common';
import { Status, type CheckSpec, type CollectResponse } from '#rounds/common/wire';
import { AgentClientPool, type AgentEndpoint } from '../apps/collector/src/inventory/agent-client.pool.js';
import { startTarget } from './lib/blackbox.js';
import { compared, type Benchmark, type BenchContext } from './lib/figure.js';
import { cpuSeconds, freePort, interleave, median, ROOT, rssBytes, sleep, type LoadResult } from './lib/measure.js';
import { Daemon, tempDir, Worker } from './lib/processes.js';

export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';
/** How long the agent runs its 20 checks (every second) before its RSS is read. */
const SUSTAIN_MS = 30_000;
const PAIRS = 5;
const GATHERS_PER_PAIR = 4;

export async function initAgent(ctx: BenchContext, dir: string): Promise<{ configPath: string; enrolment: string }> {
  const port = await freePort();
  const configPath = join(dir, 'agent.yaml');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'rounds-agent.js'), 'init', '--config', configPath, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`rounds-agent init failed: ${out}`))));
  });
  ctx.log(`agent initialised on 127.0.0.1:${port}`);
  return { configPath, enrolment: output.trim().split('\n').pop()! };
}

/**
 * V8 settings that trade CPU for memory: a 1 MiB young generation (default 16 MiB per
 * semi-space, which module loading at start-up already fills) and size-first heuristics.
 * The bench measures the agent with and without them so the trade-off is a figure, not a guess.
 */
export const SIZE_TUNED_NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size'];

interface Sustained {
  /** Median agent RSS and bare-node RSS over the interleaved samples, bytes. */
  agentRss: number;
  bareRss: number;
  /** Agent CPU (its own and waited-for children) per result during the sustained run, seconds. */
  cpuPerResult: number;
  results: number;
}

/**
 * The real agent process (bin/rounds-agent.js, with `nodeFlags`) running 20 checks every
 * second — host-metrics, 10 http and 9 tcp against the local target — polled by
 * AgentClientPool as the collector would; then its RSS against a bare `node` idling on a
 * timer, sampled in turn while the checks go on.
 */
async function sustainedAgent(ctx: BenchContext, target: { httpPort: number; tcpPort: number }, nodeFlags: string[], label: string): Promise<Sustained> {
  const dir = tempDir('agent');
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const { configPath, enrolment } = await initAgent(ctx, dir);
  const e = parseEnrolment(enrolment);
  const agent = new Daemon(
    'rounds-agent',
    process.execPath,
    [...nodeFlags, join(ROOT, 'bin', 'rounds-agent.js'), 'start', '--config', configPath],
    join(dir, 'agent.log'),
  );
  ctx.defer(() => agent.stop());
  await agent.waitForPort(e.port);
  const bare = new Daemon('bare node', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], join(dir, 'bare.log'));
  ctx.defer(() => bare.stop());

  const checks: CheckSpec[] = [
    { id: 'host', plugin: 'host-metrics', configJson: '{}', intervalMs: 1000, timeoutMs: 1000 },
    ...Array.from({ length: 10 }, (_, i) => ({
      id: `http-${i}`,
      plugin: 'http',
      configJson: JSON.stringify({ url: `http://127.0.0.1:${target.httpPort}/page-${i}` }),
      intervalMs: 1000,
      timeoutMs: 1000,
    })),
    ...Array.from({ length: 9 }, (_, i) => ({
      id: `tcp-${i}`,
      plugin: 'tcp',
      configJson: JSON.stringify({ host: '127.0.0.1', port: target.tcpPort }),
      intervalMs: 1000,
      timeoutMs: 1000,
    })),
  ];
  const pool = new AgentClientPool();
  ctx.defer(() => pool.closeAll());
  const endpoint: AgentEndpoint = { id: 'footprint', name: 'footprint', ...e };
  let ack = 0;
  let epoch = '';
  let assigned = false;
  const statuses = new Map<string, number>();
  let firstProblem: string | undefined;
  const poll = async (): Promise<CollectResponse> => {
    const res = await pool.collect(
      endpoint,
      { ackSeq: ack, spoolEpoch: epoch, assignmentVersion: 'bench-1', hasChecks: !assigned, checks: assigned ? [] : checks, maxResults: 5000 },
      10_000,
    );
    if (res.rejected.length > 0) throw new Error(`the agent refused ${res.rejected.map((r) => `${r.checkId}: ${r.error}`).join('; ')}`);
    assigned = res.assignmentVersion === 'bench-1';
    epoch = res.spoolEpoch;
    if (res.results.length > 0) ack = res.results.at(-1)!.seq;
    for (const r of res.results) {
      statuses.set(r.checkId, (statuses.get(r.checkId) ?? 0) + 1);
      if (r.status !== Status.STATUS_OK && r.checkId !== 'host') firstProblem ??= `${r.checkId}: ${r.reason} ${r.summary}`;
    }
    return res;
  };
  const cpu0 = cpuSeconds(agent.pid, true);
  const sustainUntil = Date.now() + SUSTAIN_MS;
  while (Date.now() < sustainUntil) {
    await poll();
    await sleep(1000);
  }
  const cpu = cpuSeconds(agent.pid, true) - cpu0;
  if (firstProblem) throw new Error(`a check failed during the sustained run: ${firstProblem}`);
  const results = [...statuses.values()].reduce((a, b) => a + b, 0);
  if (statuses.size < checks.length) throw new Error(`only ${statuses.size} of ${checks.length} checks reported results`);
  ctx.log(`${label}: ${results} results from ${statuses.size} checks in ${SUSTAIN_MS / 1000} s`);

  // The agent keeps running its checks (and being polled) while the RSS pairs are taken.
  let polling = true;
  const background = (async () => {
    while (polling) {
      await poll();
      await sleep(1000);
    }
  })();
  const rss = await interleave(
    PAIRS,
    0,
    async () => rssBytes(agent.pid),
    async () => {
      const r = rssBytes(bare.pid);
      await sleep(1000);
      return r;
    },
  );
  polling = false;
  await background;
  await agent.stop();
  await bare.stop();
  return { agentRss: median(rss.a), bareRss: median(rss.b), cpuPerResult: cpu / results, results };
}

/**
 * The agent's RSS as shipped (node's default V8 settings) and with {@link SIZE_TUNED_NODE_FLAGS},
 * each against a bare `node`, with the agent's CPU per check result for both. Then host-metrics'
 * CPU per gather (the worker's own CPU plus its waited-for children) against node_exporter's
 * CPU per /metrics scrape (its default collectors).
 */
export const bench: Benchmark = {
  name: 'footprint',
  description: 'agent RSS with 20 checks vs bare node (as shipped and size-tuned); host-metrics CPU per gather vs node_exporter scrape',
  async run(ctx) {
    const target = await startTarget(ctx);
    const dir = tempDir('footprint');
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    const shipped = await sustainedAgent(ctx, target, [], 'as shipped');
    const tuned = await sustainedAgent(ctx, target, SIZE_TUNED_NODE_FLAGS, 'size-tuned');
    const note = (r: Sustained) =>
      `${SUSTAIN_MS / 1000} s at 1 s intervals (${r.results} results) then ${PAIRS} interleaved RSS samples; agent CPU ${(r.cpuPerResult * 1000).toFixed(2)} ms per check result`;
    const figures = [
      compared(
        'footprint',
        'Agent RSS after a sustained run of 20 checks (incl. host-metrics)',
        'MiB',
        shipped.agentRss / 2 ** 20,
        'bare node process',
        shipped.bareRss / 2 ** 20,
        { on: 'ratio', op: '<=', bound: 2 },
        `${note(shipped)}; node's default V8 settings, as installed`,
      ),
      compared(
        'footprint',
        `Agent RSS, V8 tuned for size (${SIZE_TUNED_NODE_FLAGS.join(' ')})`,
        'MiB',
        tuned.agentRss / 2 ** 20,
        'bare node process',
        tuned.bareRss / 2 ** 20,
        null,
        `${note(tuned)} (${(tuned.cpuPerResult / shipped.cpuPerResult).toFixed(2)}× the CPU per result as shipped)`,
      ),
    ];

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
    figures.push(
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
    );
    return figures;
  },
};
