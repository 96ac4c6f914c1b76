import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** How one OS starts a plugin and kills it with everything it started. */
export interface ProcessControl {
  /** Spawn options that make the child killable as a tree. */
  readonly spawnOptions: SpawnOptions;
  /** The child's environment: a small fixed one plus the command's own `env`. */
  environment(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv | undefined;
  /** Kills the child and its descendants; must not throw. */
  killTree(child: ChildProcess): void;
}

export interface ProcessRequest {
  path: string;
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  signal: AbortSignal;
  /** stdout beyond this is discarded and the pipe closed (the plugin then gets EPIPE). */
  maxOutputBytes: number;
}

export type ProcessResult =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; truncated: boolean }
  | { kind: 'timeout'; stdout: string; stderr: string; truncated: boolean }
  | { kind: 'spawn_error'; error: NodeJS.ErrnoException };

const MAX_STDERR_BYTES = 8 * 1024;

/**
 * How long output is still read after the plugin has exited. A descendant it left running
 * (`cmd &`) can hold stdout open for as long as it lives; what the plugin itself printed is
 * in the pipe by the time it exits, so a short wait reads it all.
 */
export const EXIT_GRACE_MS = 100;

class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  /** False once the limit is reached. */
  push(chunk: Buffer): boolean {
    const room = this.limit - this.size;
    if (chunk.length > room) {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.size = this.limit;
      this.truncated = true;
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Runs one plugin without a shell. At `signal` the whole process tree is killed and the
 * promise settles at once (the runner's grace after the deadline is short). The check ends
 * when the plugin exits: its output is read for {@link EXIT_GRACE_MS} more at most, then
 * everything it started is killed — no descendant outlives its check, and one that holds
 * stdout open does not keep the check waiting until its deadline.
 */
export function runProcess(control: ProcessControl, request: ProcessRequest): Promise<ProcessResult> {
  return new Promise<ProcessResult>((resolve) => {
    const { signal } = request;
    if (signal.aborted) {
      resolve({ kind: 'timeout', stdout: '', stderr: '', truncated: false });
      return;
    }
    const stdout = new CappedBuffer(request.maxOutputBytes);
    const stderr = new CappedBuffer(MAX_STDERR_BYTES);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let child: ChildProcess;
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = (result: ProcessResult) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      clearTimeout(graceTimer);
      if (result.kind !== 'spawn_error') control.killTree(child);
      resolve(result);
    };
    const onAbort = () => {
      control.killTree(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      const captured = { stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated };
      finish(exit ? { kind: 'exited', ...exit, ...captured } : { kind: 'timeout', ...captured });
    };

    try {
      child = spawn(request.path, [...request.argv], {
        ...control.spawnOptions,
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
        env: control.environment(request.env),
      });
    } catch (e) {
      finish({ kind: 'spawn_error', error: e as NodeJS.ErrnoException });
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'spawn_error', error }));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!stdout.push(chunk)) child.stdout!.destroy();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (!stderr.push(chunk)) child.stderr!.destroy();
    });
    child.on('exit', (code, sig) => {
      exit = { code, signal: sig };
      // Not a runner timer: the deadline stays the runner's; this only stops waiting for a
      // pipe that a left-over descendant holds, after the plugin itself is gone.
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ kind: 'exited', code, signal: sig, stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated });
      }, EXIT_GRACE_MS);
    });
    child.on('close', (code, sig) => {
      // a failed spawn also closes; its 'error' has already settled the promise
      if (child.pid === undefined) return;
      finish({ kind: 'exited', code, signal: sig, stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated });
    });
  });
}
