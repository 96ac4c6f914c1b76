import type { CheckOutcome, CheckContext, Metric, Plugin, PluginLogger } from './plugin.js';
import { boundResult, isReason, systemClock, type Clock } from '#rounds/common';

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

/**
 * Runs one plugin with a deadline. The runner owns time: it aborts `ctx.signal` at the
 * deadline and, if the plugin still has not returned after a short grace, reports
 * CRITICAL/timeout and moves on (the plugin's promise is left to settle on its own).
 * A throw or a malformed outcome becomes UNKNOWN/plugin_error; this never rejects. An
 * outcome over RESULT_LIMITS is cut to them, and its summary says what was cut.
 */
export async function runPlugin(plugin: Plugin, config: unknown, options: RunOptions): Promise<RunReport> {
  const clock = options.clock ?? systemClock;
  const grace = options.graceMs ?? Math.min(1000, Math.max(50, options.timeoutMs * 0.1));
  const startedAt = clock.now();
  const controller = new AbortController();
  const deadline = startedAt + options.timeoutMs;
  const ctx: CheckContext = { signal: controller.signal, deadline, now: () => clock.now(), log: options.log ?? silentLog };

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
  }
  // Also a thrown message may be huge: every outcome leaves here within the limits.
  const outcome = boundResult(report.outcome).result;
  return { ...report, outcome, startedAt, durationMs: Math.max(0, Math.round(clock.now() - startedAt)) };
}
