import { setFlagsFromString } from 'node:v8';
import { agentHeapFromEnv } from './config/env.js';

/**
 * V8 flags the agent sets for itself, in both builds (a single executable takes no node
 * options), as its first import so they apply while the modules load too. V8 reads both each
 * time it sizes the heap, so setting them at run time works (heap.spec.ts holds V8 to that).
 *
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial 1 MiB semi-spaces
 *   instead of growing to 16 MiB each under load; at 1,000 checks V8 kept about 30 MiB of
 *   mostly empty young pages resident. Objects that outlive a scavenge are promoted sooner,
 *   which the agent pays for only if it keeps much alive across one: it does not (the Collect
 *   answer is encoded by generated code, see agent-service.ts).
 * - `--heap-growing-percent=30`: the old generation is collected again once it has grown 30 %
 *   past what the last full collection kept, instead of V8's 1.1–4× chosen from its speed
 *   estimates; a full collection of this ~25 MiB heap takes a few ms. Without it the old
 *   generation swung between 25 and 55 MiB at 1,000 checks.
 *
 * The bench's `footprint` measures the agent with and without them, RSS and CPU per result
 * side by side. `ROUNDS_AGENT_HEAP=node` leaves V8's sizing alone.
 */
export const SMALL_HEAP_V8_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=30'] as const;

if (agentHeapFromEnv() !== 'node') setFlagsFromString(SMALL_HEAP_V8_FLAGS.join(' '));
