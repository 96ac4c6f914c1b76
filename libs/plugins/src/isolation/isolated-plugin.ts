import { Worker } from 'node:worker_threads';
import { embeddedFile, systemClock, type Clock } from '#rounds/common';
import type { CheckOutcome, PluginLogger } from '../plugin.js';
import { graceFor, type IsolatedRunner, type RunOptions, type RunReport } from '../runner.js';

/** What one custom plugin may use; `plugins.limits` in the agent's config. */
export interface IsolationLimits {
  /** Runs at once, each in a worker of its own; more wait for a free worker within their deadline. */
  concurrency: number;
  /** Heap (V8 old generation) of each worker, in MiB. */
  memoryMb: number;
}

/** The name scripts/build-agent.mjs embeds plugin-worker.js under, bundled, in the single-file agent. */
export const EMBEDDED_WORKER = 'plugin-worker.cjs';

export const DEFAULT_ISOLATION_LIMITS: Readonly<IsolationLimits> = Object.freeze({ concurrency: 2, memoryMb: 64 });

/** Handed to a plugin's worker at its start. */
export interface WorkerData {
  moduleUrl: string;
  /** Left out to only load the module and say so ({@link probePluginModule}). */
  pluginName?: string;
}
export interface ToWorker {
  id: number;
  config: unknown;
  /**
   * Epoch ms (`Date.now()`, the one clock both threads read) at which the plugin's signal fires:
   * a worker started for this run loads the plugin's module on the run's time, not on top of it.
   */
  deadline: number;
  graceMs: number;
}
export type FromWorker =
  { type: 'ready' } | { type: 'report'; id: number; report: RunReport } | { type: 'log'; id: number; level: 'debug' | 'warn'; text: string };

/**
 * Past the plugin's deadline and grace, how long the worker's own runner has to post its report
 * before the worker is terminated. A worker whose thread is busy never posts: this is what ends a
 * busy loop.
 */
const TERMINATE_MARGIN_MS = 500;

/**
 * How long a new worker may take to load the plugin's module. Loading is not counted against a
 * run's deadline: on a busy host it takes longer than many deadlines (zod alone is ~0.2–0.5 s
 * here), and every run after a terminated worker would then fail for the loading, not the plugin.
 */
const LOAD_TIMEOUT_MS = 10_000;

/** The agent's own settings (the token above all) are not a plugin's business. */
function pluginEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('ROUNDS_')));
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

/** What a worker's 'error' event means, for a summary. */
function workerFailure(e: Error & { code?: string }, memoryMb: number, pluginName: string): string {
  return e.code === 'ERR_WORKER_OUT_OF_MEMORY'
    ? `exceeded its ${memoryMb} MiB memory limit (plugins.limits.${pluginName}.memoryMb); its worker was stopped`
    : `crashed its worker: ${e.message}`;
}

interface Waiter {
  give(worker: Worker | undefined): void;
}

/**
 * Runs one custom plugin in worker threads: at most `concurrency` workers, each with a heap
 * limit, started on demand and kept for the next run. A run that is not back by its deadline
 * (plus grace) has its worker terminated; a worker that dies — out of memory, `process.exit`,
 * an uncaught error — is forgotten; either way the run ends UNKNOWN/plugin_error with a summary
 * saying what happened, and the next run gets a fresh worker. Nothing here blocks the agent's
 * thread, so the other checks and Collect carry on.
 */
export class IsolatedPlugin implements IsolatedRunner {
  private readonly idle: Worker[] = [];
  private readonly live = new Set<Worker>();
  private readonly waiting: Waiter[] = [];
  /** Per worker: resolves when it has loaded the plugin (undefined) or failed to (what happened). */
  private readonly loading = new WeakMap<Worker, Promise<string | undefined>>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly pluginName: string,
    private readonly moduleUrl: string,
    private readonly limits: IsolationLimits,
    /** For what happens to workers outside any run (a worker that dies while idle). */
    private readonly log: PluginLogger,
  ) {}

  async run(config: unknown, options: RunOptions): Promise<RunReport> {
    const clock = options.clock ?? systemClock;
    const startedAt = clock.now();
    const failed = (summary: string) => this.report(startedAt, clock, { status: 'UNKNOWN', reason: 'plugin_error', summary, metrics: [] }, true);
    const worker = await this.acquire(clock, options.timeoutMs);
    if (!worker) {
      return failed(
        this.closed
          ? `plugin ${this.pluginName} was not run: the agent is stopping`
          : `plugin ${this.pluginName} was not run: all ${this.limits.concurrency} of its workers stayed busy for its whole ${seconds(options.timeoutMs)} deadline ` +
              `(raise plugins.limits.${this.pluginName}.concurrency, or lengthen its interval)`,
      );
    }
    const waitedMs = clock.now() - startedAt;
    const loadProblem = await this.loading.get(worker);
    if (loadProblem !== undefined) {
      this.discard(worker);
      return failed(`plugin ${this.pluginName} ${loadProblem}`);
    }
    const timeoutMs = Math.max(1, options.timeoutMs - waitedMs);
    const graceMs = graceFor(options);
    const id = this.nextId++;
    return new Promise<RunReport>((resolve) => {
      const end = (report: RunReport, keep: boolean) => {
        clock.clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (keep) this.release(worker);
        else this.discard(worker);
        resolve(report);
      };
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready' || message.id !== id) return;
        if (message.type === 'log') {
          options.log?.[message.level](message.text);
          return;
        }
        const { report } = message;
        if (report.cutOff) {
          // Its promise is still pending in there, with whatever it holds open: a fresh worker is cheaper than finding out.
          end(
            failed(`plugin ${this.pluginName} was terminated after its ${seconds(options.timeoutMs)} deadline: it did not return when its signal fired`),
            false,
          );
        } else {
          end(this.report(startedAt, clock, report.outcome, report.pluginError), true);
        }
      };
      const onError = (e: Error) => end(failed(`plugin ${this.pluginName} ${workerFailure(e, this.limits.memoryMb, this.pluginName)}`), false);
      const onExit = (code: number) => end(failed(`plugin ${this.pluginName} ended its worker: the worker exited with code ${code} before reporting`), false);
      const timer = clock.setTimeout(
        () => {
          end(
            failed(
              `plugin ${this.pluginName} was terminated after its ${seconds(options.timeoutMs)} deadline: its worker did not answer (a busy loop or a blocked thread)`,
            ),
            false,
          );
        },
        timeoutMs + graceMs + TERMINATE_MARGIN_MS,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      const message: ToWorker = { id, config, deadline: Date.now() + timeoutMs, graceMs };
      worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.give(undefined);
    await Promise.all([...this.live].map((worker) => worker.terminate()));
  }

  private report(startedAt: number, clock: Clock, outcome: CheckOutcome, pluginError: boolean): RunReport {
    return { outcome, startedAt, durationMs: Math.max(0, Math.round(clock.now() - startedAt)), pluginError, cutOff: false };
  }

  /** An idle worker, a new one while under the limit, or the first one freed before `waitMs` passes. */
  private acquire(clock: Clock, waitMs: number): Promise<Worker | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const ready = this.idle.pop() ?? (this.live.size < this.limits.concurrency ? this.spawn() : undefined);
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        give: (worker) => {
          clock.clearTimeout(timer);
          resolve(worker);
        },
      };
      const timer = clock.setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        resolve(undefined);
      }, waitMs);
      this.waiting.push(waiter);
    });
  }

  private release(worker: Worker): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter.give(worker);
    else this.idle.push(worker);
  }

  private discard(worker: Worker): void {
    this.forget(worker);
    void worker.terminate();
    const waiter = this.waiting.shift();
    if (waiter) waiter.give(this.spawn());
  }

  private forget(worker: Worker): void {
    this.live.delete(worker);
    const i = this.idle.indexOf(worker);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private spawn(): Worker {
    const worker = startWorker({ moduleUrl: this.moduleUrl, pluginName: this.pluginName }, this.limits.memoryMb);
    // Idle workers must not keep a stopping agent alive; a run's own timer does while it lasts.
    worker.unref();
    // A listener always: an 'error' event nobody listens to would throw in the agent's thread.
    worker.on('error', (e) => {
      if (this.idle.includes(worker)) this.log.warn(`plugin ${this.pluginName}: an idle worker failed (${e.message}); the next run starts a new one`);
    });
    worker.once('exit', () => this.forget(worker));
    this.live.add(worker);
    this.loading.set(worker, whenLoaded(worker, this.limits.memoryMb, this.pluginName));
    return worker;
  }
}

/**
 * The worker's script: plugin-worker.js beside this file, or in the single-file agent, which has
 * no files beside it, the copy its build embeds (bundled as CommonJS, run with `eval`).
 */
let embeddedWorker: string | undefined | null = null;
function workerScript(): { script: string | URL; eval: boolean } {
  embeddedWorker ??= embeddedFile(EMBEDDED_WORKER);
  return embeddedWorker === undefined ? { script: new URL('./plugin-worker.js', import.meta.url), eval: false } : { script: embeddedWorker, eval: true };
}

function startWorker(data: WorkerData, memoryMb: number): Worker {
  const { script, eval: isCode } = workerScript();
  return new Worker(script, {
    eval: isCode,
    workerData: data,
    env: pluginEnv(process.env),
    resourceLimits: { maxOldGenerationSizeMb: memoryMb },
  });
}

/** Resolves when `worker` has loaded its plugin module (undefined), or failed to (what happened). */
function whenLoaded(worker: Worker, memoryMb: number, pluginName: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const done = (problem: string | undefined) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve(problem);
    };
    const onMessage = (message: FromWorker) => message.type === 'ready' && done(undefined);
    const onError = (e: Error & { code?: string }) =>
      done(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? workerFailure(e, memoryMb, pluginName) : `could not be loaded in its worker: ${e.message}`);
    const onExit = (code: number) => done(`could not be loaded in its worker: the worker exited with code ${code}`);
    const timer = setTimeout(() => done(`could not be loaded in its worker within ${seconds(LOAD_TIMEOUT_MS)}`), LOAD_TIMEOUT_MS);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/**
 * Loads a plugin module once in a throwaway worker: what the module does at import — exit the
 * process, spin, fill the heap, throw — happens there, before the agent imports it into its own
 * thread for the plugin's schema. Resolves to what went wrong, or undefined.
 */
export async function probePluginModule(moduleUrl: string, memoryMb: number): Promise<string | undefined> {
  const worker = startWorker({ moduleUrl }, memoryMb);
  worker.on('error', () => {});
  try {
    return await whenLoaded(worker, memoryMb, '<name>');
  } finally {
    await worker.terminate();
  }
}
