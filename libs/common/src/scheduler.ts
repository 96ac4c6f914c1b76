import type { Clock } from './clock.js';

/**
 * A task run by the {@link Scheduler}. It receives how late it started (ms after its
 * due time) and returns when it should run next (epoch ms), or `undefined` to stop.
 */
export type ScheduledTask = (lateByMs: number) => Promise<number | undefined>;

interface Entry {
  key: string;
  due: number;
  generation: number;
  /** Insertion order: entries due at the same moment run first come, first served. */
  order?: number;
}

/**
 * One loop over a time-ordered queue: a binary heap of due times and a single timer
 * armed for the earliest, instead of a timer per job. Due jobs wait in FIFO order for
 * one of `concurrency` slots, so a burst never runs more than that at once. The clock
 * is injected, so tests drive time by hand. Used by the collector's poll loop and the
 * agent's check loop.
 */
export class Scheduler {
  private readonly heap: Entry[] = [];
  private readonly jobs = new Map<string, { task: ScheduledTask; generation: number; running: boolean }>();
  private readonly ready: Entry[] = [];
  private timer: unknown;
  private timerDue = Infinity;
  private running = 0;
  private stopped = false;
  private generationSeq = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly concurrency: number,
    private readonly onLag: (lateByMs: number) => void = () => {},
  ) {
    if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, got ${concurrency}`);
  }

  /** Adds or replaces the job `key`, first due at `firstDue` (epoch ms). */
  add(key: string, firstDue: number, task: ScheduledTask): void {
    const generation = ++this.generationSeq;
    const existing = this.jobs.get(key);
    if (existing) {
      // Same object, so a run still in flight for the old definition keeps `running` honest.
      existing.task = task;
      existing.generation = generation;
    } else {
      this.jobs.set(key, { task, generation, running: false });
    }
    this.push({ key, due: firstDue, generation });
  }

  /** Removes the job; a run already in progress finishes but is not rescheduled. */
  remove(key: string): void {
    this.jobs.delete(key);
  }

  has(key: string): boolean {
    return this.jobs.has(key);
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Jobs due but waiting for a free slot. */
  get backlog(): number {
    return this.ready.length;
  }

  get active(): number {
    return this.running;
  }

  /** Stops firing; resolves when the runs in progress have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private insertions = 0;

  private before(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.order! < b.order!);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    entry.order = this.insertions++;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
    this.arm();
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }

  private isCurrent(entry: Entry): boolean {
    return this.jobs.get(entry.key)?.generation === entry.generation;
  }

  private arm(): void {
    if (this.stopped) return;
    while (this.heap.length > 0 && !this.isCurrent(this.heap[0]!)) this.pop();
    const next = this.heap[0];
    if (!next) return;
    if (this.timer !== undefined && this.timerDue <= next.due) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDue = next.due;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, next.due - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const entry = this.pop()!;
      if (this.isCurrent(entry)) this.ready.push(entry);
    }
    this.drain();
    this.arm();
  }

  private drain(): void {
    while (!this.stopped && this.running < this.concurrency && this.ready.length > 0) {
      const entry = this.ready.shift()!;
      const job = this.jobs.get(entry.key);
      if (!job || job.generation !== entry.generation) continue;
      if (job.running) {
        // The previous run overran its interval: run again as soon as it ends, never twice at once.
        entry.due = this.clock.now();
        this.ready.push(entry);
        if (this.ready.every((e) => this.jobs.get(e.key)?.running)) break;
        continue;
      }
      void this.run(entry, job);
    }
  }

  private async run(entry: Entry, job: { task: ScheduledTask; generation: number; running: boolean }): Promise<void> {
    this.running++;
    job.running = true;
    const lateBy = Math.max(0, this.clock.now() - entry.due);
    this.onLag(lateBy);
    let next: number | undefined;
    try {
      next = await job.task(lateBy);
    } catch {
      // A task reports its own failures; a throw here must not kill the loop.
      next = undefined;
    } finally {
      job.running = false;
      this.running--;
    }
    const current = this.jobs.get(entry.key);
    if (next !== undefined && current && current.generation === entry.generation && !this.stopped) {
      this.push({ key: entry.key, due: next, generation: entry.generation });
    }
    if (this.stopped && this.running === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
    this.drain();
  }
}

/**
 * The next due time of a job that keeps a fixed cadence: one interval after the run was
 * planned (not after it started, so lateness does not accumulate). If runs were missed,
 * the next one lands on the cadence after `now` instead of bunching up.
 */
export function nextOnCadence(plannedAt: number, intervalMs: number, now: number): number {
  const next = plannedAt + intervalMs;
  if (next > now) return next;
  return now + (intervalMs - ((now - plannedAt) % intervalMs));
}
