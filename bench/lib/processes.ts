import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './measure.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rounds-bench-${prefix}-`));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A third-party daemon (an exporter) started by the bench, stopped by its own pid. */
export class Daemon {
  private readonly child: ChildProcess;
  private exited = false;
  readonly exit: Promise<void>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logFile: string,
    env: NodeJS.ProcessEnv = {},
  ) {
    const out = openSync(logFile, 'a');
    this.child = spawn(command, args, { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
    this.exit = new Promise((resolve) =>
      this.child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.exited) throw new Error(`${this.name} exited at start: ${readFileSync(this.logFile, 'utf8').slice(-1500)}`);
      if (await accepts(port)) return;
      await sleep(50);
    }
    throw new Error(`${this.name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms (log: ${this.logFile})`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exit;
    clearTimeout(timer);
  }
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/**
 * A bench worker (dist/bench/workers/<name>.js) in its own process, driven over IPC:
 * `call(cmd, args)` resolves with what the worker's handler returned. Keeping load
 * generators and servers in their own processes lets /proc tell their CPU apart.
 */
export class Worker {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;
  readonly exit: Promise<void>;

  constructor(
    readonly name: string,
    env: NodeJS.ProcessEnv = {},
    execArgv: string[] = [],
  ) {
    const file = fileURLToPath(new URL(`../workers/${name}.js`, import.meta.url));
    this.child = fork(file, [], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`${this.name}: ${m.error}`));
    });
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        for (const w of this.waiting.values()) w.reject(new Error(`worker ${this.name} exited (${code ?? signal})`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T>(cmd: string, args: unknown = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`worker ${this.name} has exited`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exit;
    clearTimeout(timer);
  }
}

export type Handlers = Record<string, (args: never) => unknown>;

/** The worker side of {@link Worker}: answers each IPC request with its handler's result. */
export function serveWorker(handlers: Handlers): void {
  process.on('message', (m: { id: number; cmd: string; args: unknown }) => {
    const handler = handlers[m.cmd];
    const reply = (r: Omit<Reply, 'id'>) => process.send!({ id: m.id, ...r });
    if (!handler) {
      reply({ ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(m.args as never))
      .then(
        (result) => reply({ ok: true, result }),
        (e: unknown) => reply({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
      );
  });
  process.once('SIGTERM', () => process.exit(0));
  process.once('disconnect', () => process.exit(0));
}
