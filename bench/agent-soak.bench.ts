import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { httpChecks, NODE_BUILD, PolledAgent, SINGLE_FILE_BUILD, ensureSingleFileAgent } from './lib/agent-process.js';
import { startTarget } from './lib/blackbox.js';
import { absolute, compared, type Benchmark, type BenchContext, type Figure } from './lib/figure.js';
import { median, ROOT, sleep } from './lib/measure.js';
import { tempDir } from './lib/processes.js';
import { slopePerHour, soakSettings } from './soak.bench.js';
import { THOUSAND_CHECKS_RSS_BOUND_MIB } from './footprint.bench.js';

const CHECKS = 1000;
const CHECK_INTERVAL_MS = 20_000;
/** Within the issue's 5–15 s, and not a divisor of the check interval, so polls fall at every point of the check cycle. */
const POLL_INTERVAL_MS = 12_000;
/** The two stretches compared: the first after the warm-up and the last of the run. */
const STRETCH_MS = 10 * 60_000;
/** "No growth": the last stretch's median RSS at most 2 % above the first's (about 2 MiB, what one collection cycle moves it). */
const GROWTH_BOUND = 1.02;
const SLOPE_BOUND_MIB_PER_HOUR = 2;
const MIB = 2 ** 20;

/**
 * The agent alone for an hour at the footprint bench's load — 1,000 http checks every 20 s
 * against a local target, polled every 12 s through AgentClientPool as the collector polls —
 * the node build and the single-file build side by side. RSS of both every sample period,
 * appended to bench/results/agent-soak-<start>.tsv as it goes.
 */
export const bench: Benchmark = {
  name: 'agent-soak',
  optIn: true,
  description:
    'the agent alone at 1,000 http checks every 20 s for 60 min (ROUNDS_BENCH_SOAK_MINUTES), node and single-file builds: RSS slope, last 10 min vs first 10 after warm-up',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const { durationMs, warmupMs, sampleMs } = soakSettings({ warmupMinutes: 10, sampleMinutes: 0.25 });
    const stretchMs = Math.min(STRETCH_MS, (durationMs - warmupMs) / 2);
    ensureSingleFileAgent(ctx);
    const target = await startTarget(ctx);
    const dir = tempDir('agent-soak');
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    const agents: PolledAgent[] = [];
    for (const build of [NODE_BUILD, SINGLE_FILE_BUILD]) {
      const agentDir = join(dir, build.name.replace(/\W+/g, '-'));
      mkdirSync(agentDir);
      agents.push(
        await PolledAgent.start(ctx, {
          label: build.name,
          build,
          dir: agentDir,
          checks: httpChecks(CHECKS, target.httpPort, CHECK_INTERVAL_MS, 10_000),
          pollMs: POLL_INTERVAL_MS,
        }),
      );
    }
    for (const a of agents) a.begin();

    const resultsDir = join(ROOT, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const seriesFile = join(resultsDir, `agent-soak-${new Date().toISOString().replace(/[:.]/g, '-')}.tsv`);
    appendFileSync(
      seriesFile,
      `minutes\t${agents
        .map((a) => a.label.replace(/\W+/g, '_'))
        .map((l) => `${l}_rss_mib\t${l}_anon_mib\t${l}_file_mib\t${l}_results`)
        .join('\t')}\n`,
    );
    ctx.log(
      `${CHECKS} http checks every ${CHECK_INTERVAL_MS / 1000} s, polled every ${POLL_INTERVAL_MS / 1000} s, for ${durationMs / 60_000} min ` +
        `(warm-up ${warmupMs / 60_000} min, sample every ${sampleMs / 1000} s); series: ${seriesFile}`,
    );

    // RSS, and its anonymous part (heaps, stacks: where a leak shows) apart from file-backed pages
    // (the executable's and libraries' code, paged in as code paths are first used).
    const series = agents.map(() => [] as { t: number; v: number; anon: number }[]);
    const start = Date.now();
    for (let k = 0; ; k++) {
      const due = start + k * sampleMs;
      if (due > start + durationMs) break;
      await sleep(Math.max(0, due - Date.now()));
      const t = Date.now() - start;
      const row = agents.map((a, i) => {
        const { anon, file } = a.rssParts();
        const v = (anon + file) / MIB;
        series[i]!.push({ t, v, anon: anon / MIB });
        return `${v.toFixed(2)}\t${(anon / MIB).toFixed(2)}\t${(file / MIB).toFixed(2)}\t${a.marks.at(-1)?.lastSeq ?? 0}`;
      });
      appendFileSync(seriesFile, `${(t / 60_000).toFixed(2)}\t${row.join('\t')}\n`);
      if (k % Math.max(1, Math.round(60_000 / sampleMs)) === 0) {
        ctx.log(`${(t / 60_000).toFixed(1)} min: ${agents.map((a, i) => `${a.label} ${series[i]!.at(-1)!.v.toFixed(1)} MiB`).join(', ')}`);
      }
    }
    for (const a of agents) a.assertHealthy();
    const end = Date.now() - start;

    const figures: Figure[] = [];
    agents.forEach((a, i) => {
      const s = series[i]!;
      const after = s.filter((p) => p.t >= warmupMs);
      const first = after.filter((p) => p.t < warmupMs + stretchMs).map((p) => p.v);
      const last = s.filter((p) => p.t > end - stretchMs).map((p) => p.v);
      const results = (a.marks.at(-1)?.lastSeq ?? 0) - (a.marks.find((m) => m.at - start >= warmupMs)?.lastSeq ?? 0);
      const minutes = (ms: number) => `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)}`;
      const note =
        `${s.length} samples every ${sampleMs / 1000} s over ${minutes(durationMs)} min; warm-up ${minutes(warmupMs)} min; ` +
        `first stretch ${minutes(warmupMs)}–${minutes(warmupMs + stretchMs)} min (${first.length} samples), last ${minutes(end - stretchMs)}–${minutes(end)} min (${last.length}); ` +
        `max after warm-up ${Math.max(...after.map((p) => p.v)).toFixed(1)} MiB; ${results} results after warm-up`;
      figures.push(
        compared(
          'agent-soak',
          `Agent RSS, last ${minutes(stretchMs)} min (${a.label})`,
          'MiB',
          median(last),
          `first ${minutes(stretchMs)} min after warm-up`,
          median(first),
          { on: 'ratio', op: '<=', bound: GROWTH_BOUND },
          `${note}; no growth: the last stretch's median at most ${((GROWTH_BOUND - 1) * 100).toFixed(0)} % above the first's`,
        ),
        absolute(
          'agent-soak',
          `Agent RSS slope after warm-up, least squares (${a.label})`,
          'MiB/h',
          slopePerHour(after),
          { on: 'value', op: '<', bound: SLOPE_BOUND_MIB_PER_HOUR },
          'no growth after warm-up: slope under the bound',
        ),
        absolute(
          'agent-soak',
          `Agent anonymous RSS slope after warm-up (${a.label})`,
          'MiB/h',
          slopePerHour(after.map((p) => ({ t: p.t, v: p.anon }))),
          null,
          'reported: heaps and stacks alone, without the file-backed pages of code being paged in — where a leak would show',
        ),
        absolute(
          'agent-soak',
          `Agent RSS, max after warm-up (${a.label})`,
          'MiB',
          Math.max(...after.map((p) => p.v)),
          null,
          `reported: the footprint bench bounds the median at this load (${THOUSAND_CHECKS_RSS_BOUND_MIB} MiB), this is the highest sample of the run`,
        ),
      );
    });
    ctx.log(`series in ${seriesFile}`);
    return figures;
  },
};
