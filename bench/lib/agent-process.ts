import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseEnrolment } from '#rounds/common';
import { Status, type CheckSpec, type CollectResponse } from '#rounds/common/wire';
import { AgentClientPool, type AgentEndpoint } from '../../apps/collector/src/inventory/agent-client.pool.js';
import type { BenchContext } from './figure.js';
import { cpuSeconds, freePort, ROOT, rssBytes, rssParts, sleep } from './measure.js';
import { Daemon } from './processes.js';

export const AGENT_JS = join(ROOT, 'bin', 'rounds-agent.js');
export const LINUX_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-linux-x64');
/** The collector's default ROUNDS_POLL_INTERVAL_MS: the benches poll agents as often as it does. */
export const COLLECTOR_POLL_MS = 15_000;

/** How one build of the agent is started: `command ...args start --config <file>`. */
export interface AgentBuild {
  name: string;
  command: string;
  args: string[];
}

export const NODE_BUILD: AgentBuild = { name: 'node build', command: process.execPath, args: [AGENT_JS] };
export const SINGLE_FILE_BUILD: AgentBuild = { name: 'single-file build', command: LINUX_BINARY, args: [] };

/**
 * Drops the pages of `file` that no process maps from the page cache (GNU dd's `nocache`), so
 * an agent starts from its executable as after a reboot. A file just written or copied — a fresh
 * single-file build — sits whole in the page cache, and the kernel then maps up to 16 cached pages
 * around each one a process touches: a trivial script built as a single executable measured
 * 51 MiB RSS so and 36 MiB with its pages dropped first (node running it: 40 MiB). Those are
 * clean file pages the kernel takes back when it needs the memory, but RSS counts them.
 */
export function dropFromPageCache(file: string): void {
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** Makes build/agent/ (scripts/build-agent.mjs) when it is missing or older than dist/. */
export function ensureSingleFileAgent(ctx: BenchContext): void {
  ctx.log('building the single-file agent if it is missing or stale (scripts/build-agent.mjs --if-changed)');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-agent.mjs'), '--if-changed'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function initAgent(ctx: BenchContext, dir: string): Promise<{ configPath: string; enrolment: string }> {
  const port = await freePort();
  const configPath = join(dir, 'agent.yaml');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT_JS, 'init', '--config', configPath, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`rounds-agent init failed: ${out}`))));
  });
  ctx.log(`agent initialised on 127.0.0.1:${port}`);
  return { configPath, enrolment: output.trim().split('\n').pop()! };
}

/** What the agent had done at one poll: its CPU so far (children included) and the last seq it spooled. */
export interface PollMark {
  at: number;
  cpu: number;
  lastSeq: number;
}

/**
 * A real agent process (one build, its own config and spool in `dir`) and a poller that drives
 * it as the collector does: every {@link COLLECTOR_POLL_MS}, through AgentClientPool (one
 * pinned TLS channel, bearer token), handing over the check set on the first poll, acknowledging
 * what it received and draining a backlog at once while the agent says there is `more`.
 */
export class PolledAgent {
  readonly marks: PollMark[] = [];
  /** Results received per check, and those that were not OK (host-metrics may warn on a busy machine: not counted). */
  readonly perCheck = new Map<string, number>();
  problems = 0;
  firstProblem: string | undefined;
  private failure: Error | undefined;
  private readonly pool = new AgentClientPool();
  private ack = 0;
  private epoch = '';
  private assigned = false;
  private stopped = false;
  private loop: Promise<void> | undefined;

  private constructor(
    readonly label: string,
    readonly daemon: Daemon,
    private readonly endpoint: AgentEndpoint,
    private readonly checks: CheckSpec[],
    private readonly pollMs: number,
  ) {}

  static async start(
    ctx: BenchContext,
    options: {
      label: string;
      build: AgentBuild;
      dir: string;
      checks: CheckSpec[];
      env?: NodeJS.ProcessEnv;
      pollMs?: number;
      /** Start with the executable's unmapped pages in the page cache as they are (default: dropped, see dropFromPageCache). */
      keepPageCache?: boolean;
    },
  ): Promise<PolledAgent> {
    const { configPath, enrolment } = await initAgent(ctx, options.dir);
    const e = parseEnrolment(enrolment);
    if (!options.keepPageCache) dropFromPageCache(options.build.command);
    const daemon = new Daemon(
      `rounds-agent (${options.label})`,
      options.build.command,
      [...options.build.args, 'start', '--config', configPath],
      join(options.dir, 'agent.log'),
      { ROUNDS_AGENT_LOG_LEVEL: 'warn', ...options.env },
    );
    ctx.defer(() => daemon.stop());
    await daemon.waitForPort(e.port, 30_000);
    const agent = new PolledAgent(options.label, daemon, { id: options.label, name: options.label, ...e }, options.checks, options.pollMs ?? COLLECTOR_POLL_MS);
    ctx.defer(() => agent.stop());
    return agent;
  }

  get pid(): number {
    return this.daemon.pid;
  }

  rss(): number {
    return rssBytes(this.daemon.pid);
  }

  rssParts(): { anon: number; file: number } {
    return rssParts(this.daemon.pid);
  }

  /** Starts polling: at once (which assigns the checks), then every poll interval until stop(). */
  begin(): void {
    this.loop ??= (async () => {
      const start = Date.now();
      for (let k = 0; !this.stopped; k++) {
        // A failed poll is retried at the next interval, as the collector does; assertHealthy() reports it.
        await this.pollOnce().catch((e: unknown) => (this.failure ??= e instanceof Error ? e : new Error(String(e))));
        const next = start + (k + 1) * this.pollMs;
        while (!this.stopped && Date.now() < next) await sleep(Math.min(250, next - Date.now()));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.pool.closeAll();
  }

  /** Throws when a poll failed, a check never reported or more than `tolerated` (a share) of the results were not OK. */
  assertHealthy(tolerated = 0.01): void {
    if (this.failure) throw new Error(`${this.label}: a poll failed: ${this.failure.message} (agent log: ${this.daemon.logFile})`);
    const missing = this.checks.filter((c) => !this.perCheck.has(c.id));
    if (missing.length > 0) throw new Error(`${this.label}: ${missing.length} of ${this.checks.length} checks never reported (e.g. ${missing[0]!.id})`);
    const results = [...this.perCheck.values()].reduce((a, b) => a + b, 0);
    if (this.problems > results * tolerated) throw new Error(`${this.label}: ${this.problems} of ${results} results were not OK, e.g. ${this.firstProblem}`);
  }

  /** CPU seconds per spooled result between the first and the last poll in [from, to). */
  cpuPerResult(from: number, to: number): { seconds: number; results: number } {
    const inside = this.marks.filter((m) => m.at >= from && m.at < to);
    if (inside.length < 2) return { seconds: NaN, results: 0 };
    const first = inside[0]!;
    const last = inside.at(-1)!;
    const results = last.lastSeq - first.lastSeq;
    return { seconds: results > 0 ? (last.cpu - first.cpu) / results : NaN, results };
  }

  private async pollOnce(): Promise<void> {
    let res: CollectResponse;
    do {
      res = await this.pool.collect(
        this.endpoint,
        {
          ackSeq: this.ack,
          spoolEpoch: this.epoch,
          assignmentVersion: 'bench-1',
          hasChecks: !this.assigned,
          checks: this.assigned ? [] : this.checks,
          maxResults: 5000,
        },
        30_000,
      );
      if (res.rejected.length > 0) throw new Error(`${this.label}: the agent refused ${res.rejected.map((r) => `${r.checkId}: ${r.error}`).join('; ')}`);
      this.assigned = res.assignmentVersion === 'bench-1';
      this.epoch = res.spoolEpoch;
      if (res.results.length > 0) this.ack = res.results.at(-1)!.seq;
      for (const r of res.results) {
        this.perCheck.set(r.checkId, (this.perCheck.get(r.checkId) ?? 0) + 1);
        if (r.status !== Status.STATUS_OK && !r.checkId.startsWith('host')) {
          this.problems++;
          this.firstProblem ??= `${r.checkId}: ${r.reason} ${r.summary}`;
        }
      }
    } while (res.more && !this.stopped);
    this.marks.push({ at: Date.now(), cpu: cpuSeconds(this.daemon.pid, true), lastSeq: res.lastSeq });
  }
}

/** `count` http checks against the local target, every `intervalMs`, each on its own path. */
export function httpChecks(count: number, httpPort: number, intervalMs: number, timeoutMs: number): CheckSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `http-${i}`,
    plugin: 'http',
    configJson: JSON.stringify({ url: `http://127.0.0.1:${httpPort}/page-${i}` }),
    intervalMs,
    timeoutMs,
  }));
}
