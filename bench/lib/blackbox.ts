import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compared, type BenchContext, type Figure, type Goal } from './figure.js';
import { cpuSeconds, freePort, interleave, median, type LoadResult } from './measure.js';
import { Daemon, tempDir, Worker } from './processes.js';

export const BLACKBOX_BIN = '/usr/bin/prometheus-blackbox-exporter';

const BLACKBOX_CONFIG = `modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
`;

/** Debian's blackbox_exporter on a loopback port, with the two modules the suite compares against. */
export async function startBlackbox(ctx: BenchContext): Promise<{ daemon: Daemon; port: number }> {
  const dir = tempDir('blackbox');
  ctx.defer(() => import('node:fs').then((fs) => fs.rmSync(dir, { recursive: true, force: true })));
  writeFileSync(join(dir, 'blackbox.yml'), BLACKBOX_CONFIG);
  const port = await freePort();
  const daemon = new Daemon(
    'blackbox_exporter',
    BLACKBOX_BIN,
    [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    join(dir, 'blackbox.log'),
  );
  ctx.defer(() => daemon.stop());
  await daemon.waitForPort(port);
  return { daemon, port };
}

/** The target process: HTTP and TCP listeners on OS-assigned loopback ports. */
export async function startTarget(ctx: BenchContext): Promise<{ httpPort: number; tcpPort: number; worker: Worker }> {
  const worker = new Worker('target');
  ctx.defer(() => worker.stop());
  const ports = await worker.call<{ httpPort: number; tcpPort: number }>('listen');
  return { ...ports, worker };
}

interface Sample {
  perSecond: number;
  cpuPerOp: number;
  failed: number;
  firstError?: string;
}

export interface CheckVsProbe {
  bench: string;
  label: string;
  plugin: string;
  config: unknown;
  module: 'http_2xx' | 'tcp_connect';
  /** What blackbox probes (`target=` of /probe). */
  probeTarget: string;
  perPair: number;
  pairs: number;
  concurrency: number;
  rateGoal: Goal;
  cpuGoal: Goal | null;
}

/**
 * A Rounds check plugin (run through runPlugin in a worker process) against blackbox_exporter
 * probing the same target with the same concurrency, A B A B … Blackbox is driven over
 * keep-alive HTTP by a second worker process, so the driver's CPU is not the exporter's.
 */
export async function checkVsProbe(ctx: BenchContext, spec: CheckVsProbe): Promise<Figure[]> {
  const blackbox = await startBlackbox(ctx);
  const rounds = new Worker('load');
  const driver = new Worker('load');
  ctx.defer(() => rounds.stop());
  ctx.defer(() => driver.stop());
  await rounds.call('init', { plugin: spec.plugin, config: spec.config });
  const probeUrl = `http://127.0.0.1:${blackbox.port}/probe?module=${spec.module}&target=${encodeURIComponent(spec.probeTarget)}`;
  const load = { count: spec.perPair, concurrency: spec.concurrency, maxMs: 20_000 };

  const measure = async (pid: number, work: () => Promise<LoadResult>): Promise<Sample> => {
    const cpu0 = cpuSeconds(pid);
    const r = await work();
    const cpu = cpuSeconds(pid) - cpu0;
    return { perSecond: (r.done / r.elapsedMs) * 1000, cpuPerOp: r.done ? cpu / r.done : NaN, failed: r.failed, firstError: r.firstError };
  };
  let pair = 0;
  const samples = await interleave(
    spec.pairs,
    1,
    () => measure(rounds.pid, () => rounds.call<LoadResult>('run', { ...load, timeoutMs: 5000 })),
    async () => {
      const s = await measure(blackbox.daemon.pid, () => driver.call<LoadResult>('get', { ...load, url: probeUrl, expect: 'probe_success 1' }));
      ctx.log(`  ${spec.label} pair ${pair++}: done`);
      return s;
    },
  );
  const failures = [...samples.a, ...samples.b].filter((s) => s.failed > 0);
  if (failures.length > 0) {
    throw new Error(`${spec.label}: ${failures.reduce((n, s) => n + s.failed, 0)} checks/probes failed (first: ${failures[0]!.firstError})`);
  }
  const rate = { a: median(samples.a.map((s) => s.perSecond)), b: median(samples.b.map((s) => s.perSecond)) };
  const cpu = { a: median(samples.a.map((s) => s.cpuPerOp)) * 1000, b: median(samples.b.map((s) => s.cpuPerOp)) * 1000 };
  const note = `${spec.pairs} pairs × ${spec.perPair} per side, concurrency ${spec.concurrency}, fresh connection per check/probe`;
  return [
    compared(spec.bench, `${spec.label} checks/s`, 'checks/s', rate.a, `blackbox ${spec.module} probes/s`, rate.b, spec.rateGoal, note),
    compared(spec.bench, `${spec.label} CPU per check`, 'ms CPU', cpu.a, `blackbox CPU per ${spec.module} probe`, cpu.b, spec.cpuGoal),
  ];
}
