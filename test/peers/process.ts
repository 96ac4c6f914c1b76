import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Shared plumbing for real test peers (Orthanc, storescp, smbd): each peer runs in its
 * own temp dir on ports the OS just handed out, and is stopped by the PID we spawned.
 */

const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];

/**
 * Absolute path of a peer binary. Throws (never skips) naming the apt package, because
 * CI must fail when a peer is missing rather than pass with fewer tests.
 */
export function requireBinary(name: string, aptPackage: string): string {
  for (const dir of SEARCH_PATH) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`test peer "${name}" is not installed: run \`apt-get install ${aptPackage}\` (the test script installs it in CI)`);
}

/**
 * A port nothing listens on right now. Binds the wildcard address because Orthanc and
 * storescp have no bind-address option and listen on every interface.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rounds-${prefix}-`));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves once `probe` returns true; throws with `describe()` after `timeoutMs`. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${describe()} (not ready after ${timeoutMs} ms)`);
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The socket inodes in /proc/net/tcp{,6} whose connection is ESTABLISHED to one of `ports` (the remote end), by port. */
function establishedTo(ports: ReadonlySet<number>): Map<string, number> {
  const byInode = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 in this namespace
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue;
      const port = parseInt(f[2]!.split(':')[1]!, 16);
      if (ports.has(port)) byInode.set(f[9]!, port);
    }
  }
  return byInode;
}

/**
 * Which of the processes `pids` hold an established TCP connection to each of `ports` (loopback
 * servers the test started), read from /proc as `ss -tnp` would: what a process really talks to,
 * whatever it says about itself. A process that has exited counts for nothing.
 */
export function connectionsTo(pids: readonly number[], ports: readonly number[]): Map<number, Set<number>> {
  const byInode = establishedTo(new Set(ports));
  const answer = new Map(ports.map((p) => [p, new Set<number>()]));
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      const port = byInode.get(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? '');
      if (port !== undefined) answer.get(port)!.add(pid);
    }
  }
  return answer;
}

export interface Daemon {
  readonly pid: number;
  readonly dir: string;
  /** Everything the daemon printed so far (for failure messages). */
  output(): string;
  /** SIGTERM by PID, SIGKILL if it is still there after the grace (3 s by default), then removes its temp dir. */
  stop(): Promise<void>;
}

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  dir: string;
  env?: NodeJS.ProcessEnv;
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const child: ChildProcess = spawn(spec.command, spec.args, {
    cwd: spec.dir,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: smbd signals its whole group on shutdown, which must not include the test runner.
    detached: true,
  });
  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited: { code: number | null; signal: string | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (e) => {
      log += `\nspawn error: ${e.message}`;
      exited = { code: null, signal: null };
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  const daemon: Daemon = {
    pid,
    dir: spec.dir,
    output: () => log,
    stop: async () => {
      if (!exited && pid > 0) {
        process.kill(pid, 'SIGTERM');
        const killed = await Promise.race([exit.then(() => true), sleep(spec.stopGraceMs ?? 3000).then(() => false)]);
        if (!killed && !exited) {
          process.kill(pid, 'SIGKILL');
          await exit;
        }
      }
      rmSync(spec.dir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(
      async () => exited !== undefined || spec.ready(),
      spec.readyTimeoutMs ?? 10_000,
      () => `${spec.name} did not start${exited ? ` (exit ${exited.code ?? exited.signal})` : ''}; its output:\n${log}`,
    );
    if (exited) throw new Error(`${spec.name} exited during start-up; its output:\n${log}`);
  } catch (e) {
    await daemon.stop();
    throw e;
  }
  return daemon;
}
