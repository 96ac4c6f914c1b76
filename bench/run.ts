import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { goalText, type Benchmark, type BenchContext, type Figure } from './lib/figure.js';
import { ROOT } from './lib/measure.js';
import { bench as http } from './http.bench.js';
import { bench as tcp } from './tcp.bench.js';
import { bench as ingest } from './ingest.bench.js';
import { bench as poll } from './poll.bench.js';
import { bench as scale } from './scale.bench.js';
import { bench as footprint } from './footprint.bench.js';
import { bench as ui } from './ui.bench.js';
import { bench as soak } from './soak.bench.js';
import { bench as history } from './history.bench.js';
import { bench as singleFile } from './single-file.bench.js';
import { bench as agentSoak } from './agent-soak.bench.js';
import { bench as postgres } from './postgres.bench.js';

/**
 * Every benchmark, in the order `npm run bench` runs them. The one list: names and --list come
 * from it. Opt-in ones (soak, agent-soak: an hour each) run only when named.
 */
const BENCHMARKS: Benchmark[] = [http, tcp, poll, ingest, history, scale, footprint, singleFile, ui, postgres, soak, agentSoak];

function fmt(v: number | null, digits = 3): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits)).toString();
}

export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.figure,
    `${fmt(f.rounds)} ${f.unit}`,
    f.anchorName ? `${fmt(f.anchor)} (${f.anchorName})` : '—',
    f.ratio === null ? '—' : `${fmt(f.ratio)}×`,
    goalText(f.goal),
    f.met === null ? (f.note?.startsWith('pending') ? 'pending' : 'reported') : f.met ? 'met' : 'NOT MET',
  ]);
  const head = ['figure', 'Rounds', 'anchor', 'ratio', 'goal', 'verdict'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return lines.join('\n');
}

async function runOne(b: Benchmark): Promise<{ figures: Figure[]; error?: string; seconds: number }> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const ctx: BenchContext = {
    log: (line) => process.stderr.write(`[${b.name}] ${line}\n`),
    defer: (c) => cleanups.push(c),
  };
  const start = performance.now();
  try {
    return { figures: await b.run(ctx), seconds: (performance.now() - start) / 1000 };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    ctx.log(`FAILED: ${error}`);
    return { figures: [], error, seconds: (performance.now() - start) / 1000 };
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        ctx.log(`cleanup: ${(e as Error).message}`);
      }
    }
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--list')) {
    for (const b of BENCHMARKS) console.log(`${b.name.padEnd(11)} ${b.optIn ? '(opt-in) ' : ''}${b.description}`);
    return 0;
  }
  const unknown = argv.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')} — known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    return 64;
  }
  const chosen = argv.length > 0 ? BENCHMARKS.filter((b) => argv.includes(b.name)) : BENCHMARKS.filter((b) => !b.optIn);
  const started = new Date();
  const runs: { name: string; seconds: number; error?: string }[] = [];
  const figures: Figure[] = [];
  for (const b of chosen) {
    process.stderr.write(`[${b.name}] ${b.description}\n`);
    const r = await runOne(b);
    runs.push({ name: b.name, seconds: Math.round(r.seconds), ...(r.error ? { error: r.error } : {}) });
    figures.push(...r.figures);
  }
  const machine = {
    hostname: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: release(),
    arch: arch(),
    node: process.version,
  };
  console.log(table(figures));
  for (const r of runs) if (r.error) console.log(`\n${r.name}: FAILED — ${r.error}`);
  console.log(`\nmachine: ${machine.cores} × ${machine.cpu}, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, Linux ${machine.kernel}, Node ${machine.node}`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'latest.json');
  writeFileSync(out, `${JSON.stringify({ startedAt: started.toISOString(), machine, runs, figures }, null, 2)}\n`);
  console.log(`results: ${out}`);
  return runs.some((r) => r.error) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
