import type { CheckOutcome, CheckContext, Metric, Plugin, PluginLogger } from './plugin.js';
// The files themselves, not #rounds/common: a custom plugin's worker thread loads this runner, and the library's index
// would bring gRPC, TLS and the rest with it (about a second at every worker start).
import { boundResult, RESULT_LIMITS, truncate } from '../../common/src/limits.js';
import { isReason } from '../../common/src/reasons.js';
import { systemClock, type Clock } from '../../common/src/clock.js';
import { DeclaredMetrics } from './metrics.js';

export interface RunOptions {
  timeoutMs: number;
  clock?: Clock;
  log?: PluginLogger;
  /**
   * How long a plugin may take to return after its signal fired before the runner
   * stops waiting. Lets a plugin that honours the signal report what timed out.
   */
  graceMs?: number;
}

export interface RunReport {
  outcome: CheckOutcome;
  startedAt: number;
  durationMs: number;
  /** The plugin threw or returned something malformed. */
  pluginError: boolean;
  /** The plugin ignored its deadline and was cut off by the runner. */
  cutOff: boolean;
}

/**
 * A plugin run away from the agent's thread (a custom plugin in its workers): same options,
 * same report as {@link runPlugin}, and it never rejects either.
 */
export interface IsolatedRunner {
  run(config: unknown, options: RunOptions): Promise<RunReport>;
  /** Stops its workers; runs still going end as UNKNOWN. */
  close(): Promise<void>;
}

/** What {@link runRegistered} needs of a registry entry. */
export interface Runnable {
  plugin: Plugin;
  isolated?: IsolatedRunner;
}

/** Runs a registered plugin where it belongs: a built-in in-process, a custom one in its workers. */
export function runRegistered(entry: Runnable, config: unknown, options: RunOptions): Promise<RunReport> {
  return entry.isolated ? entry.isolated.run(config, options) : runPlugin(entry.plugin, config, options);
}

/** How long after the deadline a plugin may take to return what timed out (see {@link RunOptions.graceMs}). */
export function graceFor(options: Pick<RunOptions, 'timeoutMs' | 'graceMs'>): number {
  return options.graceMs ?? Math.min(1000, Math.max(50, options.timeoutMs * 0.1));
}

const silentLog: PluginLogger = { debug: () => {}, warn: () => {} };

function malformed(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'returned no outcome object';
  const o = value as Partial<CheckOutcome>;
  if (!['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'].includes(o.status as string)) return `returned status ${JSON.stringify(o.status)}`;
  if (typeof o.reason !== 'string' || !isReason(o.reason)) return `returned reason ${JSON.stringify(o.reason)} outside the closed set`;
  if (typeof o.summary !== 'string') return 'returned no summary';
  const badMetric = (m: Partial<Metric> | undefined) =>
    typeof m?.name !== 'string' || typeof m.value !== 'number' || typeof m.unit !== 'string' || !stringLabels(m.labels);
  if (!Array.isArray(o.metrics) || o.metrics.some(badMetric)) {
    return 'returned malformed metrics';
  }
  return undefined;
}

function stringLabels(labels: unknown): boolean {
  if (labels === undefined) return true;
  return typeof labels === 'object' && labels !== null && Object.values(labels).every((v) => typeof v === 'string');
}

/** Declarations indexed once per plugin object, not once per run. */
const declared = new WeakMap<Plugin, DeclaredMetrics>();
/** Problems already logged per plugin: a misdeclared metric is logged once, not on every run. */
const logged = new WeakMap<Plugin, Set<string>>();
/** Past this many distinct problems a plugin's further ones are not logged (each is still reported in its summary). */
const MAX_LOGGED_PROBLEMS = 100;
/** Problems quoted in a summary; the count says how many metrics were dropped in all. */
const QUOTED_PROBLEMS = 3;

/**
 * The metrics of `outcome` that are as the plugin declares them, and the note for its summary
 * when some are not. Each distinct problem is logged the first time it is seen.
 */
function keepDeclared(plugin: Plugin, metrics: Metric[], log: PluginLogger): { metrics: Metric[]; note: string } {
  if (metrics.length === 0) return { metrics, note: '' };
  let index = declared.get(plugin);
  if (!index) declared.set(plugin, (index = new DeclaredMetrics(plugin.metrics ?? [])));
  const kept: Metric[] = [];
  const problems = new Set<string>();
  let dropped = 0;
  for (const m of metrics) {
    const problem = index.problem(m);
    if (problem === undefined) kept.push(m);
    else {
      dropped++;
      problems.add(problem);
    }
  }
  if (dropped === 0) return { metrics, note: '' };
  let seen = logged.get(plugin);
  if (!seen) logged.set(plugin, (seen = new Set()));
  for (const problem of problems) {
    if (seen.has(problem) || seen.size > MAX_LOGGED_PROBLEMS) continue;
    seen.add(problem);
    log.warn(
      seen.size > MAX_LOGGED_PROBLEMS
        ? `plugin ${plugin.name} reports more than ${MAX_LOGGED_PROBLEMS} kinds of metrics that are not as it declares them; further ones are not logged`
        : `plugin ${plugin.name}: metric ${problem} — it is left out of results until the plugin's metrics declarations include it`,
    );
  }
  const quoted = [...problems].slice(0, QUOTED_PROBLEMS).join('; ') + (problems.size > QUOTED_PROBLEMS ? '; …' : '');
  return { metrics: kept, note: ` [${dropped.toLocaleString('en-US')} metrics dropped: not as the plugin declares them (${quoted})]` };
}

/**
 * Runs one plugin with a deadline. The runner owns time: it aborts `ctx.signal` at the
 * deadline and, if the plugin still has not returned after a short grace, reports
 * CRITICAL/timeout and moves on (the plugin's promise is left to settle on its own).
 * A throw or a malformed outcome becomes UNKNOWN/plugin_error; this never rejects. An
 * outcome over RESULT_LIMITS is cut to them, and its summary says what was cut. A metric
 * the plugin does not declare, or reports with another unit or an undeclared label, is
 * dropped; the summary says so and the problem is logged once per plugin.
 */
export async function runPlugin(plugin: Plugin, config: unknown, options: RunOptions): Promise<RunReport> {
  const clock = options.clock ?? systemClock;
  const grace = graceFor(options);
  const startedAt = clock.now();
  const controller = new AbortController();
  const deadline = startedAt + options.timeoutMs;
  // Sleeps still pending when the run ends are cleared with the runner's own timers.
  const sleeping = new Set<unknown>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (controller.signal.aborted) return resolve();
      const wake = () => {
        clock.clearTimeout(handle);
        sleeping.delete(handle);
        controller.signal.removeEventListener('abort', wake);
        resolve();
      };
      const handle = clock.setTimeout(wake, Math.max(0, ms));
      sleeping.add(handle);
      controller.signal.addEventListener('abort', wake, { once: true });
    });
  const ctx: CheckContext = { signal: controller.signal, deadline, now: () => clock.now(), sleep, log: options.log ?? silentLog };

  let abortTimer: unknown;
  let cutOffTimer: unknown;
  const cutOff = new Promise<'cut-off'>((resolve) => {
    abortTimer = clock.setTimeout(() => {
      controller.abort(new Error(`deadline of ${options.timeoutMs} ms reached`));
      cutOffTimer = clock.setTimeout(() => resolve('cut-off'), grace);
    }, options.timeoutMs);
  });

  let report: Omit<RunReport, 'startedAt' | 'durationMs'>;
  try {
    const ran = plugin.run(config, ctx);
    const result = await Promise.race([ran, cutOff]);
    if (result === 'cut-off') {
      ran.catch(() => {});
      report = {
        outcome: {
          status: 'CRITICAL',
          reason: 'timeout',
          summary: `no result within ${options.timeoutMs} ms (plugin ${plugin.name} did not stop at its deadline)`,
          metrics: [],
        },
        pluginError: false,
        cutOff: true,
      };
    } else {
      const problem = malformed(result);
      report = problem
        ? {
            outcome: { status: 'UNKNOWN', reason: 'plugin_error', summary: `plugin ${plugin.name} ${problem}`, metrics: [] },
            pluginError: true,
            cutOff: false,
          }
        : { outcome: result, pluginError: false, cutOff: false };
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    report = {
      outcome: { status: 'UNKNOWN', reason: 'plugin_error', summary: `plugin ${plugin.name} failed: ${message}`, metrics: [] },
      pluginError: true,
      cutOff: false,
    };
  } finally {
    clock.clearTimeout(abortTimer);
    if (cutOffTimer !== undefined) clock.clearTimeout(cutOffTimer);
    for (const handle of sleeping) clock.clearTimeout(handle);
  }
  const conforming = keepDeclared(plugin, report.outcome.metrics, options.log ?? silentLog);
  // Also a thrown message may be huge: every outcome leaves here within the limits. Bounded
  // with an empty summary, boundResult's summary is its note alone; the plugin's own text is
  // then cut to leave room for both notes, so neither is lost to the other's truncation.
  const bounded = boundResult({ ...report.outcome, summary: '', metrics: conforming.metrics }).result;
  const notes = bounded.summary + conforming.note;
  const summary = truncate(report.outcome.summary, RESULT_LIMITS.summaryChars, notes.length) + notes;
  const outcome = { ...bounded, summary };
  return { ...report, outcome, startedAt, durationMs: Math.max(0, Math.round(clock.now() - startedAt)) };
}
