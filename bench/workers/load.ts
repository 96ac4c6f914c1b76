import http from 'node:http';
import { PluginRegistry, runRegistered, type RegisteredPlugin } from '#rounds/plugins';
import { boundedLoad, type LoadResult } from '../lib/measure.js';
import { serveWorker } from '../lib/processes.js';

/**
 * A load generator in its own process. As "rounds" it runs a built-in plugin from the
 * registry through runRegistered, exactly as the agent's check loop does (a built-in runs
 * in-process, a custom one would go to its workers), so this process's CPU
 * is Rounds' CPU per check. As "driver" it sends keep-alive HTTP GETs (to an exporter's
 * /probe or /metrics); its own CPU is then not charged to the exporter.
 */
let entry: RegisteredPlugin | undefined;
let config: unknown;
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });

function get(url: string, expect: string | undefined, headers: Record<string, string> = {}): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: keepAlive, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(false);
        resolve(expect === undefined || Buffer.concat(chunks).toString('utf8').includes(expect));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

serveWorker({
  init(args: { plugin: string; config: unknown }) {
    const registry = PluginRegistry.withBuiltins();
    entry = registry.get(args.plugin);
    if (!entry) throw new Error(`no built-in plugin ${args.plugin}`);
    // Validated once, as the agent does when a check is assigned, not per run.
    config = registry.parseConfig(args.plugin, args.config);
    return { ok: true };
  },
  async run(args: { count: number; concurrency: number; maxMs: number; timeoutMs: number }): Promise<LoadResult> {
    const e = entry!;
    let firstSummary: string | undefined;
    const r = await boundedLoad(args, async () => {
      const report = await runRegistered(e, config, { timeoutMs: args.timeoutMs });
      if (report.outcome.status !== 'OK') firstSummary ??= `${report.outcome.status}/${report.outcome.reason}: ${report.outcome.summary}`;
      return report.outcome.status === 'OK';
    });
    return { ...r, firstError: r.firstError && firstSummary ? firstSummary : r.firstError };
  },
  async get(args: { url: string; expect?: string; headers?: Record<string, string>; count: number; concurrency: number; maxMs: number }): Promise<LoadResult> {
    return boundedLoad(args, () => get(args.url, args.expect, args.headers));
  },
});
