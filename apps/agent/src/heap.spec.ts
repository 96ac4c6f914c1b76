import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SMALL_HEAP_V8_FLAGS } from './heap.js';

const HEAP_JS = fileURLToPath(new URL('./heap.js', import.meta.url));

/**
 * A fresh node that takes V8 flags the way the agent does — at run time, after start-up:
 * `setup` is heap.js itself or an explicit list — then keeps 200,000 small objects alive and
 * churns through 3 million more that live across a few scavenges (a ring of 30,000, like results
 * waiting for a poll), and reports the largest young and old generations it saw, in MiB. It fails
 * when a Node or V8 upgrade stops honouring the flags set at run time.
 */
async function heapUnderChurn(setup: { heapJs: true; env?: NodeJS.ProcessEnv } | { flags: readonly string[] }): Promise<{ young: number; old: number }> {
  const first =
    'heapJs' in setup ? `await import(${JSON.stringify(HEAP_JS)});` : `(await import('node:v8')).setFlagsFromString(${JSON.stringify(setup.flags.join(' '))});`;
  const script = `
    ${first}
    const { getHeapSpaceStatistics } = await import('node:v8');
    const size = (name) => getHeapSpaceStatistics().find((s) => s.space_name === name).space_size / 2 ** 20;
    const live = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'live-' + i }));
    const ring = new Array(30000);
    let young = 0, old = 0;
    for (let i = 0; i < 3e6; i++) {
      ring[i % ring.length] = { i, s: 'x' + i, a: [i, i + 1] };
      if (i % 10000 === 0) { young = Math.max(young, size('new_space')); old = Math.max(old, size('old_space')); }
    }
    console.log(JSON.stringify({ young, old, kept: live.length + ring.length }));`;
  const env = { ...process.env, ROUNDS_AGENT_HEAP: '', ...('env' in setup ? setup.env : {}) };
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
  return JSON.parse(stdout) as { young: number; old: number };
}

describe('the heap settings the agent gives itself (heap.ts)', () => {
  it('keep the young generation at its initial two 1 MiB semi-spaces under load', async () => {
    assert.ok((await heapUnderChurn({ heapJs: true })).young <= 2, 'the young generation grew past 2 MiB');
  });

  it("are left out with ROUNDS_AGENT_HEAP=node: V8's own sizing grows the young generation under the same load", async () => {
    assert.ok(
      (await heapUnderChurn({ heapJs: true, env: { ROUNDS_AGENT_HEAP: 'node' } })).young > 2,
      'the young generation did not grow: the test above proves nothing',
    );
  });

  it('collect the old generation before it grows far past what stays alive, which a small young generation alone does not', async () => {
    const agent = await heapUnderChurn({ heapJs: true });
    const youngOnly = await heapUnderChurn({ flags: SMALL_HEAP_V8_FLAGS.filter((f) => f.startsWith('--semi-space')) });

    // About 17 MiB stay alive; promoted garbage grows the old generation past 60 MiB without the growth limit.
    assert.ok(agent.old < 45, `the old generation reached ${agent.old.toFixed(1)} MiB with the agent's settings`);
    assert.ok(
      youngOnly.old > agent.old * 1.3,
      `without --heap-growing-percent it reached only ${youngOnly.old.toFixed(1)} MiB: the assertion above proves nothing`,
    );
  });
});
