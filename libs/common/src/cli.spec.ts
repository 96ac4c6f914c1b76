import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const CLI_MODULE = new URL('./cli.js', import.meta.url).href;

/**
 * A process that waits in untilStopped() with a slow stop (it finishes when told on stdin),
 * signalled by the spec: what it prints and how it exits.
 */
async function signalled(signals: NodeJS.Signals[]): Promise<{ code: number | null; output: string }> {
  const script = `
    const { untilStopped } = await import(${JSON.stringify(CLI_MODULE)});
    const log = { log: (m) => console.log(m), warn: (m) => console.log(m) };
    // A server would keep the process alive while it waits; signal handlers alone do not.
    const alive = setInterval(() => {}, 1000);
    const stopped = untilStopped(log, async (signal) => {
      console.log('stopping on ' + signal);
      await new Promise((resolve) => process.stdin.once('data', resolve));
      console.log('flushed');
    });
    // Only now: the handlers are in place (a signal sent on an earlier "ready" could beat them).
    console.log('ready');
    await stopped;
    console.log('stopped');
    clearInterval(alive);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  const seen = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => (output.includes(text) ? resolve() : child.stdout.once('data', check));
      check();
    });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await seen('ready');
  for (const [i, signal] of signals.entries()) {
    child.kill(signal);
    await seen(i === 0 ? 'stopping on' : 'again');
  }
  child.stdin.end('go\n');
  return { code: await exit, output };
}

describe('untilStopped', () => {
  it('finishes the shutdown when SIGTERM comes twice (service manager and process group)', async () => {
    const { code, output } = await signalled(['SIGTERM', 'SIGTERM']);
    assert.equal(code, 0, output);
    assert.match(output, /stopping on SIGTERM\nSIGTERM again: still stopping\nflushed\nstopped/);
  });

  it('exits at once, 130, when Ctrl-C is pressed a second time', async () => {
    const { code, output } = await signalled(['SIGINT', 'SIGINT']);
    assert.equal(code, 130, output);
    assert.match(output, /SIGINT again: exiting without finishing the shutdown/);
    assert.doesNotMatch(output, /flushed/);
  });
});

describe('runCommand', () => {
  /** Runs a handler that throws `error` through runCommand; its exit code and what it printed. */
  async function exitOf(error: string): Promise<{ code: number | null; output: string }> {
    const script = `
      const { runCommand, UsageError } = await import(${JSON.stringify(CLI_MODULE)});
      runCommand('prog', 'usage: prog thing', 'thing', { thing: async () => { throw ${error}; } });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return { code: await new Promise<number | null>((resolve) => child.once('exit', resolve)), output };
  }

  it('exits 64 (EX_USAGE) with the message for a command called wrongly, and 1 for one that failed', async () => {
    assert.deepEqual(await exitOf(`new UsageError('missing --name')`), { code: 64, output: 'prog: missing --name\n' });
    assert.deepEqual(await exitOf(`new Error('no collector answers')`), { code: 1, output: 'prog: no collector answers\n' });
  });
});
