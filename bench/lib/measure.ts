import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is compiled to dist/bench/lib/measure.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we ship to). */
const CLK_TCK = 100;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * CPU seconds a process has used (user + system), from /proc so that it works for any
 * process — a Go exporter as well as a Node child. `children` adds the CPU of children
 * it has waited for (cutime + cstime), e.g. commands systeminformation spawns.
 */
export function cpuSeconds(pid: number, children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14 → index 11.
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
  return (utime! + stime! + (children ? cutime! + cstime! : 0)) / CLK_TCK;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid} (did it exit?)`);
  return Number(m[1]) * 1024;
}

/**
 * VmRSS split as the kernel counts it: anonymous memory (heaps, stacks) and file-backed pages
 * (the executable and libraries mapped in), in bytes; VmRSS is their sum plus shared memory.
 */
export function rssParts(pid: number): { anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile') };
}

/** A loopback port the OS just handed out (for daemons that cannot bind port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface LoadResult {
  /** Tasks that completed (successfully or not) before the count or the time ran out. */
  done: number;
  failed: number;
  elapsedMs: number;
  firstError?: string;
}

/**
 * Runs `task` `count` times with at most `concurrency` in flight, stopping early when
 * `maxMs` has passed: every load in the suite is bounded in both count and time.
 * A task returns false (or throws) to count as failed.
 */
export async function boundedLoad(options: { count: number; concurrency: number; maxMs: number }, task: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const start = performance.now();
  const until = start + options.maxMs;
  let next = 0;
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async (): Promise<void> => {
    while (next < options.count && performance.now() < until) {
      const i = next++;
      try {
        if (!(await task(i))) {
          failed++;
          firstError ??= `task ${i} reported failure`;
        }
      } catch (e) {
        failed++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, lane));
  return { done, failed, elapsedMs: performance.now() - start, firstError };
}

/**
 * Runs `a` then `b`, `pairs` times (A B A B …), after `warmup` unrecorded pairs, and
 * returns each side's samples. Interleaving spreads the machine's noise over both sides.
 */
export async function interleave<T>(pairs: number, warmup: number, a: () => Promise<T>, b: () => Promise<T>): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < warmup + pairs; i++) {
    const ra = await a();
    const rb = await b();
    if (i >= warmup) {
      out.a.push(ra);
      out.b.push(rb);
    }
  }
  return out;
}
