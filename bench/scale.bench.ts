import { rmSync } from 'node:fs';
import { createDataSource } from '../apps/collector/src/storage/data-source.js';
import { absolute, type BenchContext, type Benchmark, type Figure } from './lib/figure.js';
import { cpuSeconds, percentile, rssBytes, sleep } from './lib/measure.js';
import { tempDir, Worker } from './lib/processes.js';
import { seedAgents } from './lib/seed.js';
import { agentTls, agentToken } from './lib/tls.js';

const AGENTS = 2000;
const CHECKS = 10;
const FARM_PROCESSES = 4;
const INTERVAL_MS = 30_000;
/** Measured intervals after warm-up (first contact: TLS probe, channel, Describe, check assignment). */
const INTERVALS = 2;
/** Poll interval of the capacity run: far more demand than one collector can serve, so polls/s is its ceiling. */
const SATURATION_INTERVAL_MS = 1000;
/** Agents of the ceiling run (a fresh database over the first of the farm's agents): 800 polls/s of demand, about twice what one collector serves. */
const SATURATION_AGENTS = 800;
const SATURATION_WINDOW_MS = 15_000;
const WARM_UP_LIMIT_MS = 300_000;
/**
 * After the window closes, how long a poll that was due inside it may still start and count
 * as made (late, not missed). Its lag still counts against the p99 figure.
 */
const LATE_GRACE_MS = 5_000;
/** How long the outage phase waits for every agent to be DOWN (3 failed polls at 30 s take 60–90 s). */
const OUTAGE_LIMIT_MS = 5 * INTERVAL_MS;

export interface HostStats {
  now: number;
  polls: number;
  pollErrors: Record<string, number>;
  maxLagMs: number;
  channels: number;
  /** Only when the call asked for it (countDown). */
  agentsDown?: number;
  writer: { resultsWritten: number; transactions: number };
  lags: number[];
  memory: NodeJS.MemoryUsage;
}

export type AgentPolls = { polls: number; maxGap: number; total: number; last?: number };

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

/** `count` fake agents (each its own TLS server and token) spread over `processes` agent-farm workers. */
export async function startFarm(ctx: BenchContext, count: number, processes: number) {
  const tls = await agentTls();
  const tokens = Array.from({ length: count }, agentToken);
  const farms = Array.from({ length: processes }, () => new Worker('agent-farm'));
  for (const f of farms) ctx.defer(() => f.stop());
  const per = count / processes;
  const ports = (
    await Promise.all(
      farms.map((f, i) => f.call<{ ports: number[] }>('agents', { cert: tls.cert, key: tls.key, tokens: tokens.slice(i * per, (i + 1) * per) })),
    )
  ).flatMap((r) => r.ports);
  return { tls, tokens, farms, ports };
}

/** The collector embedded in a worker; `env` adds settings (a PostgreSQL URL, a collector name). */
export async function startCollector(ctx: BenchContext, dataDir: string, intervalMs: number, env: Record<string, string> = {}): Promise<Worker> {
  const host = new Worker('collector-host');
  ctx.defer(() => host.stop());
  await host.call('start', {
    env: {
      ROUNDS_DATA_DIR: dataDir,
      ROUNDS_HTTP_HOST: '127.0.0.1',
      ROUNDS_HTTP_PORT: '0',
      ROUNDS_POLL_INTERVAL_MS: String(intervalMs),
      ROUNDS_API_TOKEN: `bench-${agentToken()}`,
      ROUNDS_LOG_LEVEL: 'error',
      ...env,
    },
  });
  return host;
}

/**
 * One collector (the real Nest app, on SQLite) polling a farm of 2,000 fake agents —
 * real gRPC servers over TLS with their own tokens, 500 per process — each with 10 checks
 * at a 30 s interval. The farm's processes are not the collector's: only the collector's
 * CPU (/proc) and RSS are reported. Then a second collector polls 400 of those agents
 * every second — more than it can serve — and its ceiling in polls/s gives the largest
 * farm it sustains at 30 s (ceiling × 30 s).
 */
export const bench: Benchmark = {
  name: 'scale',
  description: `one collector on SQLite polling ${AGENTS} fake agents × ${CHECKS} checks at ${INTERVAL_MS / 1000} s; then its ceiling`,
  async run(ctx) {
    const { tls, tokens, farms, ports } = await startFarm(ctx, AGENTS, FARM_PROCESSES);
    ctx.log(`farm: ${ports.length} agents listening in ${FARM_PROCESSES} processes`);

    const database = async (count: number): Promise<string> => {
      const dataDir = tempDir('scale');
      ctx.defer(() => rmSync(dataDir, { recursive: true, force: true }));
      const ds = await createDataSource({ dataDir }).initialize();
      await seedAgents(
        ds,
        ports.slice(0, count).map((port, i) => ({ name: `farm-${i}`, host: '127.0.0.1', port, token: tokens[i]!, fingerprint: tls.fingerprint })),
        CHECKS,
        (i, j) => ({ plugin: 'http', config: { url: `http://service-${i}.example/check-${j}` }, intervalMs: INTERVAL_MS }),
      );
      await ds.destroy();
      return dataDir;
    };
    const dataDir = await database(AGENTS);

    const host = await startCollector(ctx, dataDir, INTERVAL_MS);
    const t0 = Date.now();
    await until('every agent to be reached once', WARM_UP_LIMIT_MS, async () => {
      const s = await host.call<HostStats>('stats', { from: Date.now() });
      return s.channels >= AGENTS && s.polls >= AGENTS ? s : undefined;
    });
    const warmUp = (Date.now() - t0) / 1000;
    await sleep(2000);
    ctx.log(`warm-up: first contact with ${AGENTS} agents took ${warmUp.toFixed(1)} s; measuring ${INTERVALS} intervals`);
    const from = Date.now();
    const cpu0 = cpuSeconds(host.pid);
    const before = await host.call<HostStats>('stats', { from });
    await sleep(INTERVALS * INTERVAL_MS);
    const to = Date.now();
    const cpu = cpuSeconds(host.pid) - cpu0;
    const rss = rssBytes(host.pid);
    const after = await host.call<HostStats>('stats', { from, to });
    await sleep(LATE_GRACE_MS);
    const { lags } = await host.call<HostStats>('stats', { from, to });
    const farmPolls = (await Promise.all(farms.map((f) => f.call<AgentPolls[]>('polls', { from, to })))).flat();
    const upkeep = await upkeepPhase(ctx, host);
    const outage = await outagePhase(ctx, host, farms);
    await host.call('stop');

    // Missed: a whole poll skipped (a gap of 1.5 intervals or more), not merely a late one — lag has its own figure.
    const bound = INTERVAL_MS * 1.5;
    const missed = farmPolls.filter((a) => a.polls === 0 || a.maxGap >= bound || (a.last !== undefined && to - a.last >= bound)).length;
    const polled = farmPolls.reduce((n, a) => n + a.polls, 0);
    // Every agent is due exactly once per interval, so the window holds AGENTS × INTERVALS due polls.
    const due = AGENTS * INTERVALS;
    const made = lags.length;
    const errors = Object.values(after.pollErrors).reduce((n, v) => n + v, 0) - Object.values(before.pollErrors).reduce((n, v) => n + v, 0);
    const stored = after.writer.resultsWritten - before.writer.resultsWritten;
    const lagP99 = percentile(lags, 99) / 1000;
    const cores = cpu / ((to - from) / 1000);
    const window = `${AGENTS} agents × ${CHECKS} checks, ${INTERVAL_MS / 1000} s interval, measured over ${INTERVALS} intervals after warm-up`;
    const figures: Figure[] = [
      absolute(
        'scale',
        'Scale: p99 scheduling lag',
        's',
        lagP99,
        { on: 'value', op: '<', bound: 1 },
        `${lags.length} polls; max ${(Math.max(...lags) / 1000).toFixed(3)} s; ${window}`,
      ),
      absolute(
        'scale',
        'Scale: polls missed in the window',
        'polls',
        // Two lower bounds on the misses, so neither can hide one: the shortfall of polls by due
        // time (an immediate extra poll to drain a backlog counts as made too), and the farm's
        // own per-agent count of skipped intervals.
        Math.max(due - made, missed, 0),
        { on: 'value', op: '==', bound: 0 },
        `${made} polls started of ${due} due in the window (by due time, ${LATE_GRACE_MS / 1000} s grace; backlog drains add immediate polls); ${missed} agents skipped a whole interval (farm's count); farm saw ${polled} arrive inside the window; ${errors} poll errors; ${stored} results stored`,
      ),
      absolute(
        'scale',
        'Scale: collector CPU',
        'cores',
        cores,
        { on: 'value', op: '<', bound: 0.5 },
        'collector process only (/proc utime+stime); the farm is excluded',
      ),
      absolute(
        'scale',
        'Scale: collector RSS',
        'MiB',
        rss / 2 ** 20,
        null,
        `after ${INTERVALS} intervals with ${AGENTS} open channels; V8 heap ${(after.memory.heapUsed / 2 ** 20).toFixed(0)} MiB, external+buffers ${((after.memory.external + after.memory.arrayBuffers) / 2 ** 20).toFixed(0)} MiB`,
      ),
      absolute(
        'scale',
        `Scale: first contact with ${AGENTS} agents after start`,
        's',
        warmUp,
        null,
        'TLS probe + channel + check assignment + Describe per agent, 16 at a time; excluded from the window above',
      ),
    ];

    figures.push(
      absolute(
        'scale',
        'Scale: p99 scheduling lag while pruning',
        's',
        percentile(upkeep.lags, 99) / 1000,
        { on: 'value', op: '<', bound: 1 },
        `${upkeep.lags.length} polls over ${INTERVALS} intervals while ${upkeep.pruned.toLocaleString('en')} results ${BACKLOG_AGE_DAYS} days old (past the 7-day raw retention) ` +
          `were pruned; the window above, without pruning: p99 ${lagP99.toFixed(3)} s`,
      ),
      absolute(
        'scale',
        `Scale outage: every one of ${AGENTS} agents DOWN after`,
        's',
        outage.allDownAfter,
        null,
        `${outage.down} of ${AGENTS} DOWN (each after 3 failed polls 30 s apart, the ROUNDS_DOWN_AFTER default) — every agent stopped answering at once, as when a network fails`,
      ),
      absolute(
        'scale',
        'Scale outage: p99 scheduling lag while they go DOWN',
        's',
        percentile(outage.lags, 99) / 1000,
        null,
        `${outage.lags.length} polls due meanwhile; max ${(Math.max(0, ...outage.lags) / 1000).toFixed(3)} s; collector ${outage.cores.toFixed(2)} cores (AgentUnreachable alerts raised and committed as it goes)`,
      ),
    );

    // The ceiling: a fresh database over part of the same farm, polled faster than the collector can.
    const fast = await startCollector(ctx, await database(SATURATION_AGENTS), SATURATION_INTERVAL_MS);
    await until('every agent to be reached once (ceiling run)', WARM_UP_LIMIT_MS, async () => {
      const s = await fast.call<HostStats>('stats', { from: Date.now() });
      return s.channels >= SATURATION_AGENTS ? s : undefined;
    });
    await sleep(3000);
    const s0 = await fast.call<HostStats>('stats', { from: Date.now() });
    const c0 = cpuSeconds(fast.pid);
    await sleep(SATURATION_WINDOW_MS);
    const s1 = await fast.call<HostStats>('stats', { from: Date.now() });
    const satCores = (cpuSeconds(fast.pid) - c0) / ((s1.now - s0.now) / 1000);
    await fast.call('stop');
    const ceiling = ((s1.polls - s0.polls) / (s1.now - s0.now)) * 1000;
    const largest = Math.floor((ceiling * INTERVAL_MS) / 1000 / 100) * 100;
    figures.push(
      absolute(
        'scale',
        `Scale: largest farm at ${INTERVAL_MS / 1000} s before lag exceeds the interval`,
        'agents',
        largest,
        { on: 'value', op: '>=', bound: AGENTS },
        `from the ceiling of ${ceiling.toFixed(0)} polls/s (10 results each) with ${SATURATION_AGENTS} agents polled every ${SATURATION_INTERVAL_MS / 1000} s, collector at ${satCores.toFixed(2)} cores: agents = ceiling × ${INTERVAL_MS / 1000} s`,
      ),
    );
    ctx.log(`ceiling ${ceiling.toFixed(0)} polls/s at ${satCores.toFixed(2)} cores`);
    return figures;
  },
};

/** Old results due for pruning: more than one pruning round takes (50 transactions of 2,000 a minute). */
const BACKLOG = 300_000;
const BACKLOG_AGE_DAYS = 9;

/**
 * Pruning under load: 300,000 results 9 days old (past the 7-day raw retention) are stored; the
 * collector prunes them on its minute tick, 2,000 rows per transaction with a turn of the event
 * loop between, while the farm is polled. Returns the lags of the polls due over the next
 * intervals and how many of the old results were pruned meanwhile.
 */
async function upkeepPhase(ctx: BenchContext, host: Worker): Promise<{ lags: number[]; pruned: number }> {
  await host.call('backlog', { count: BACKLOG, ageDays: BACKLOG_AGE_DAYS });
  const before = Date.now() - (BACKLOG_AGE_DAYS - 1) * 86_400_000;
  const stored = (await host.call<{ n: number }>('countOlder', { before })).n;
  const from = Date.now();
  ctx.log(`upkeep: ${stored} results ${BACKLOG_AGE_DAYS} days old stored; measuring ${INTERVALS} intervals while they are pruned`);
  await sleep(INTERVALS * INTERVAL_MS);
  const to = Date.now();
  await sleep(LATE_GRACE_MS);
  const { lags } = await host.call<HostStats>('stats', { from, to });
  const pruned = stored - (await host.call<{ n: number }>('countOlder', { before })).n;
  ctx.log(`upkeep: ${pruned} of them pruned in the window`);
  return { lags, pruned };
}

/**
 * Every agent of the farm stops answering at once; the collector keeps polling, marks each
 * DOWN after its failed polls and raises its AgentUnreachable alert. Returns how long until
 * all were DOWN, the lags of the polls due meanwhile and the collector's CPU. The farm
 * answers again afterwards (the ceiling run uses it).
 */
async function outagePhase(
  ctx: BenchContext,
  host: Worker,
  farms: Worker[],
): Promise<{ allDownAfter: number | null; down: number; lags: number[]; cores: number }> {
  await Promise.all(farms.map((f) => f.call('down', { down: true })));
  const from = Date.now();
  const cpu0 = cpuSeconds(host.pid);
  ctx.log(`outage: every agent stopped answering; waiting up to ${OUTAGE_LIMIT_MS / 1000} s for all to be DOWN`);
  let down = 0;
  while (Date.now() - from < OUTAGE_LIMIT_MS) {
    down = (await host.call<HostStats>('stats', { from, countDown: true })).agentsDown ?? 0;
    if (down >= AGENTS) break;
    await sleep(1000);
  }
  const to = Date.now();
  const cores = (cpuSeconds(host.pid) - cpu0) / ((to - from) / 1000);
  const { lags } = await host.call<HostStats>('stats', { from, to });
  await Promise.all(farms.map((f) => f.call('down', { down: false })));
  ctx.log(`outage: ${down} of ${AGENTS} DOWN after ${((to - from) / 1000).toFixed(1)} s`);
  return { allDownAfter: down >= AGENTS ? (to - from) / 1000 : null, down, lags, cores };
}
