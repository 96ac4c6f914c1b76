import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './process.js';

/** Debian's wine64 package puts its loader and server here (the `wine` wrapper is another package). */
export const WINE64 = '/usr/lib/wine/wine64';
const WINESERVER = '/usr/lib/wine/wineserver';

export interface WineRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * A fresh wine prefix set to Windows 10 (Node 20 refuses the Windows 7 a new prefix claims to
 * be) in its own temp dir, with its own wineserver, for running Windows executables such as
 * the single-file agent. Output goes to files: a Windows console program under wine writes to
 * files reliably, to pipes not.
 */
export class WinePrefix {
  /** How long making the prefix took (wine's first start). */
  createdInMs = 0;
  private runs = 0;

  private constructor(
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Throws, never skips, when wine64 is missing. */
  static async create(): Promise<WinePrefix> {
    if (!existsSync(WINE64)) throw new Error(`${WINE64} is missing: run \`apt-get install wine64\` (test/install-peers.sh does in CI)`);
    const dir = makeTempDir('wine');
    // No Mono or Gecko installers: there is nowhere to download them from, and nothing here needs them.
    const env = { ...process.env, WINEPREFIX: join(dir, 'prefix'), WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
    const prefix = new WinePrefix(dir, env);
    const made = await prefix.run('winecfg', ['-v', 'win10']);
    if (made.code !== 0) {
      await prefix.close();
      throw new Error(`could not make a wine prefix set to Windows 10 (exit ${made.code}): ${made.stdout}${made.stderr}`);
    }
    prefix.createdInMs = made.ms;
    return prefix;
  }

  /** Runs `exe` (a path, or a program in the prefix such as winecfg) in `cwd` to its end. */
  async run(exe: string, args: string[], cwd = this.dir): Promise<WineRun> {
    const id = ++this.runs;
    const outFile = join(this.dir, `stdout-${id}.txt`);
    const errFile = join(this.dir, `stderr-${id}.txt`);
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    const started = performance.now();
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(WINE64, [exe, ...args], { cwd, env: this.env, stdio: ['ignore', out, err] });
        child.once('error', reject);
        child.once('exit', (c) => resolve(c));
      });
      return { code, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8'), ms: performance.now() - started };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  /** Stops this prefix's wineserver (it lingers a few seconds after the last program) and removes the prefix. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) =>
      spawn(WINESERVER, ['-k'], { env: this.env, stdio: 'ignore' })
        .once('exit', () => resolve())
        .once('error', () => resolve()),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
