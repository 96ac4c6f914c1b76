import type { AddressInfo, Server } from 'node:net';
import type { Clock } from '#rounds/common';
import type { Plugin, PluginLogger } from '../plugin.js';
import { formatFieldErrors, validateWith } from '../schema.js';
import { runPlugin, type RunReport } from '../runner.js';

export interface RunCheckOptions {
  /** The check's timeout: `ctx.signal` fires this long after the start (default 5 s). */
  timeoutMs?: number;
  /**
   * The runner's clock: a `ManualClock` lets a test move time (`await clock.advance(ms)`) to
   * reach the deadline or wake `ctx.sleep` without waiting for it.
   */
  clock?: Clock;
  /** Where `ctx.log` goes; {@link recordingLog} keeps the lines for assertions. */
  log?: PluginLogger;
}

/**
 * Validates `config` with the plugin's schema (throwing with field errors, as the
 * agent would refuse it) and runs the plugin through the real runner.
 * The test harness plugin authors use: `await runCheck(myPlugin, { ... })`.
 */
export async function runCheck(plugin: Plugin, config: unknown, options: RunCheckOptions = {}): Promise<RunReport> {
  const v = validateWith(plugin.configSchema, config);
  if (!v.ok) throw new Error(`invalid ${plugin.name} config: ${formatFieldErrors(v.errors)}`);
  return runPlugin(plugin, v.value, { timeoutMs: options.timeoutMs ?? 5000, clock: options.clock, log: options.log });
}

/** A `ctx.log` that keeps what a plugin logged, as "debug: …" and "warn: …" lines. */
export function recordingLog(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: (message) => lines.push(`debug: ${message}`), warn: (message) => lines.push(`warn: ${message}`) };
}

/** Field errors for a config that should be refused ("" when it is valid). */
export function configErrors(plugin: Plugin, config: unknown): string {
  const v = validateWith(plugin.configSchema, config);
  return v.ok ? '' : formatFieldErrors(v.errors);
}

/** Listens on 127.0.0.1 with an OS-assigned port; resolves to the port. */
export async function listenLocal(server: Server | import('node:http').Server | import('node:tls').Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every socket still open on it. */
export async function closeServer(server: Server | import('node:http').Server): Promise<void> {
  const s = server as import('node:http').Server;
  s.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port that was free a moment ago and now has nothing listening (for "refused"). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const server = net.createServer();
  const port = await listenLocal(server);
  await closeServer(server);
  return port;
}

/** Finds a metric by name (and optional labels) or throws with the names there are. */
export function metric(report: RunReport, name: string, labels?: Record<string, string>): number {
  const found = report.outcome.metrics.find((m) => m.name === name && (!labels || Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)));
  if (!found) throw new Error(`no metric ${name}; have: ${report.outcome.metrics.map((m) => m.name).join(', ')}`);
  return found.value;
}
