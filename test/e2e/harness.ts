import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { SQLITE_FILE_NAME } from '../../apps/collector/src/storage/data-source.js';

/** Repository root (compiled to dist/test/e2e/harness.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rounds-${prefix}-`));
}

// One implementation of these for every test that starts processes (test/peers has the details).
import { freePort, sleep } from '../peers/process.js';
import { makeTestDatabase, TEST_ON_POSTGRES } from '../../apps/collector/src/storage/testing.js';

export { freePort, sleep };

/** Polls `probe` until it returns a value that is not undefined/false, or fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(200);
  }
}

/** A process started from bin/ (or a single-file build), its output kept in memory and in a log file for post-mortems. */
export class Proc {
  output = '';
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    readonly logFile: string,
    command: string = process.execPath,
  ) {
    this.child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output += text;
      appendFileSync(logFile, text);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve(this.exitCode);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return waitFor(
      `${this.name} to print ${pattern}`,
      () => {
        if (!this.running && !pattern.test(this.output)) throw new Error(`${this.name} exited (${this.exitCode}): ${this.output.slice(-2000)}`);
        return this.output.match(pattern) ?? undefined;
      },
      timeoutMs,
    );
  }

  /** SIGTERM and wait; resolves to the exit code. */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function runBin(
  bin: 'rounds-agent' | 'rounds-collector',
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  return runProgram(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], env);
}

/** Runs `command` to its end: its exit code and its stdout and stderr together. */
export function runProgram(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

export interface AgentHandle {
  name: string;
  dir: string;
  configPath: string;
  port: number;
  enrolment: string;
  proc: Proc;
  start(env?: NodeJS.ProcessEnv): Promise<Proc>;
}

/**
 * `rounds-agent init` on a free loopback port, with the fixture plugin folder and any extra
 * agent config (YAML appended to the file, e.g. a `nagios:` allow-list), then `start`.
 * `executable` runs a single-file build (scripts/build-agent.mjs) instead of bin/rounds-agent.js.
 */
export async function startAgent(
  name: string,
  options: { pluginDir?: string; extraConfig?: string; initArgs?: string[]; executable?: string } = {},
): Promise<AgentHandle> {
  const dir = tempDir(`agent-${name}`);
  const port = await freePort();
  const configPath = join(dir, 'agent.yaml');
  const { command, bin } = options.executable
    ? { command: options.executable, bin: [] }
    : { command: process.execPath, bin: [join(ROOT, 'bin', 'rounds-agent.js')] };
  const initArgs = ['init', '--config', configPath, '--listen', `127.0.0.1:${port}`, ...(options.initArgs ?? [])];
  const init = await runProgram(command, [...bin, ...initArgs]);
  if (init.code !== 0) throw new Error(`rounds-agent init failed: ${init.output}`);
  const enrolment = init.output.trim().split('\n').pop()!;
  if (options.pluginDir) appendFileSync(configPath, `plugins:\n  dir: ${options.pluginDir}\n`);
  if (options.extraConfig) appendFileSync(configPath, `${options.extraConfig.trimEnd()}\n`);
  const handle: AgentHandle = {
    name,
    dir,
    configPath,
    port,
    enrolment,
    proc: undefined as unknown as Proc,
    async start(env = {}) {
      handle.proc = new Proc(`agent ${name}`, [...bin, 'start', '--config', configPath], env, join(dir, 'agent.log'), command);
      await handle.proc.waitForOutput(/listening on \S+:\d+ over TLS/);
      return handle.proc;
    },
  };
  await handle.start();
  return handle;
}

export interface CollectorHandle {
  dataDir: string;
  url: string;
  token: string;
  proc: Proc;
  env: NodeJS.ProcessEnv;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  start(): Promise<Proc>;
}

/**
 * The collector on an OS-assigned HTTP port with a fresh data dir and fast polling; under
 * ROUNDS_TEST_DATABASE=postgres on a fresh PostgreSQL database too (dropped with the test
 * server at the end of the run). `shareWith`: another collector on the same PostgreSQL database,
 * with the same secret key and API token (high availability), its data dir its own.
 */
export async function startCollector(extraEnv: NodeJS.ProcessEnv = {}, options: { shareWith?: CollectorHandle } = {}): Promise<CollectorHandle> {
  const shared = options.shareWith;
  const database = shared
    ? {
        ROUNDS_DATA_DIR: tempDir('collector'),
        ROUNDS_DATABASE_URL: shared.env['ROUNDS_DATABASE_URL']!,
        ROUNDS_SECRET_KEY_FILE: shared.env['ROUNDS_SECRET_KEY_FILE']!,
      }
    : TEST_ON_POSTGRES
      ? (await makeTestDatabase('rounds-e2e-')).env
      : { ROUNDS_DATA_DIR: tempDir('collector') };
  const dataDir = database.ROUNDS_DATA_DIR!;
  const token = shared?.token ?? `e2e-token-${Math.random().toString(36).slice(2)}-0123456789`;
  const env: NodeJS.ProcessEnv = {
    ...database,
    ROUNDS_HTTP_HOST: '127.0.0.1',
    ROUNDS_HTTP_PORT: '0',
    ROUNDS_POLL_INTERVAL_MS: '1000',
    ROUNDS_POLL_TIMEOUT_MS: '3000',
    ROUNDS_DOWN_AFTER: '2',
    ROUNDS_MAX_BACKOFF_MS: '2000',
    ROUNDS_API_TOKEN: token,
    ...extraEnv,
  };
  const handle: CollectorHandle = {
    dataDir,
    url: '',
    token,
    env,
    proc: undefined as unknown as Proc,
    async api<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${handle.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async start() {
      handle.proc = new Proc('collector', [join(ROOT, 'bin', 'rounds-collector.js'), 'start'], env, join(dataDir, 'collector.log'));
      const m = await handle.proc.waitForOutput(/ready: (https?:\/\/127\.0\.0\.1:\d+)\//);
      handle.url = m[1]!;
      return handle.proc;
    },
  };
  await handle.start();
  return handle;
}

/**
 * Rows of `sql` (`?` placeholders) read from the collector's own database, as an operator with
 * `psql` or `sqlite3` would: its PostgreSQL when it runs on one, else its SQLite file (read-only).
 * PostgreSQL returns counts and bigints as text: the caller converts with Number().
 */
export async function collectorRows<T = Record<string, unknown>>(collector: CollectorHandle, sql: string, params: unknown[] = []): Promise<T[]> {
  const url = collector.env['ROUNDS_DATABASE_URL'];
  if (url) {
    const db = await new DataSource({ type: 'postgres', url }).initialize();
    try {
      let n = 0;
      return await db.query<T[]>(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
    } finally {
      await db.destroy();
    }
  }
  const db = new Database(join(collector.dataDir, SQLITE_FILE_NAME), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value));
}
