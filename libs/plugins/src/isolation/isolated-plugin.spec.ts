import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { definePlugin, outcome } from '../plugin.js';
import { runPlugin, type RunReport } from '../runner.js';
import { IsolatedPlugin, type IsolationLimits } from './isolated-plugin.js';

/** This file runs as dist/libs/plugins/src/isolation/isolated-plugin.spec.js; the fixtures live under the repo root. */
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const badPlugin = (name: string) => pathToFileURL(`${repoRoot}test/fixtures/bad-plugins/${name}.mjs`).href;
const queuePlugin = pathToFileURL(`${repoRoot}test/fixtures/plugins/fixture-queue/index.js`).href;

const warnings: string[] = [];
const opened: IsolatedPlugin[] = [];
function isolate(name: string, moduleUrl: string, limits: IsolationLimits = { concurrency: 1, memoryMb: 32 }): IsolatedPlugin {
  const isolated = new IsolatedPlugin(name, moduleUrl, limits, { debug: () => {}, warn: (m) => warnings.push(m) });
  opened.push(isolated);
  return isolated;
}
after(() => Promise.all(opened.map((p) => p.close())));

const tick = definePlugin({
  name: 'tick',
  version: '1.0.0',
  description: 'an in-process check as cheap as they come',
  configSchema: z.strictObject({}),
  metrics: [],
  run: async () => outcome('OK', 'ok', 'tick'),
});

/**
 * Runs an in-process check every 20 ms through the real runner while `during` lasts — the
 * agent's thread, which the built-ins and Collect share — and measures the longest gap
 * between two of its results.
 */
async function alongsideInProcessChecks<T>(during: Promise<T>): Promise<{ value: T; worstGapMs: number; results: number }> {
  let done = false;
  let last = Date.now();
  let worstGapMs = 0;
  let results = 0;
  const loop = (async () => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const report = await runPlugin(tick, {}, { timeoutMs: 1000 });
      assert.equal(report.outcome.status, 'OK');
      const now = Date.now();
      worstGapMs = Math.max(worstGapMs, now - last);
      last = now;
      results++;
    }
  })();
  const value = await during;
  done = true;
  await loop;
  return { value, worstGapMs, results };
}

/** The longest an in-process check may wait while a custom plugin misbehaves: a few of its 20 ms periods on a busy machine. */
const ON_TIME_MS = 300;

/** Each run's deadline is 500 ms, but for the leak: filling its heap takes about a second here, and it must fill it before its deadline. */
const misbehaviours: { fixture: string; does: string; config?: Record<string, unknown>; timeoutMs?: number; says: RegExp }[] = [
  { fixture: 'throws', does: 'throws', says: /^plugin fixture-throws failed: fixture plugin threw$/ },
  { fixture: 'rejects', does: 'rejects', says: /^plugin fixture-rejects failed: fixture plugin rejected$/ },
  {
    fixture: 'never-resolves',
    does: 'never resolves',
    says: /^plugin fixture-never-resolves was terminated after its 0\.5 s deadline: it did not return when its signal fired$/,
  },
  {
    fixture: 'ignores-signal',
    does: 'ignores its AbortSignal',
    says: /^plugin fixture-ignores-signal was terminated after its 0\.5 s deadline: it did not return when its signal fired$/,
  },
  {
    fixture: 'busy-loop',
    does: 'busy-loops',
    says: /^plugin fixture-busy-loop was terminated after its 0\.5 s deadline: its worker did not answer \(a busy loop or a blocked thread\)$/,
  },
  {
    fixture: 'leaks-memory',
    does: 'leaks memory',
    timeoutMs: 10_000,
    says: /^plugin fixture-leaks-memory exceeded its 32 MiB memory limit \(plugins\.limits\.fixture-leaks-memory\.memoryMb\); its worker was stopped$/,
  },
  {
    fixture: 'exits',
    does: 'calls process.exit',
    config: { exit: true, code: 3 },
    says: /^plugin fixture-exits ended its worker: the worker exited with code 3 before reporting$/,
  },
  { fixture: 'aborts', does: 'calls process.abort', says: /^plugin fixture-aborts failed: process\.abort\(\) is not supported in workers$/ },
  { fixture: 'crashes', does: 'throws outside its promise', says: /^plugin fixture-crashes crashed its worker: fixture plugin crashed outside its promise$/ },
];

describe('IsolatedPlugin: a custom plugin that misbehaves in its worker', { timeout: 60_000 }, () => {
  for (const { fixture, does, config, timeoutMs = 500, says } of misbehaviours) {
    it(`ends UNKNOWN/plugin_error saying what happened when it ${does}, while in-process checks keep reporting on time`, async () => {
      const plugin = isolate(`fixture-${fixture}`, badPlugin(fixture));
      const started = Date.now();
      const { value: report, worstGapMs, results } = await alongsideInProcessChecks(plugin.run(config ?? {}, { timeoutMs }));
      const tookMs = Date.now() - started;
      assert.equal(report.outcome.status, 'UNKNOWN', report.outcome.summary);
      assert.equal(report.outcome.reason, 'plugin_error');
      assert.match(report.outcome.summary, says);
      assert.equal(report.pluginError, true);
      // Deadline, grace (50 ms at 500 ms), then 500 ms for the worker to answer before it is terminated; and a loaded machine.
      assert.ok(tookMs < timeoutMs + 2000, `the run took ${tookMs} ms`);
      assert.ok(report.durationMs <= tookMs + 5, `durationMs ${report.durationMs} vs ${tookMs} ms measured`);
      assert.ok(worstGapMs < ON_TIME_MS, `an in-process check waited ${worstGapMs} ms for its turn`);
      assert.ok(results >= Math.floor(tookMs / 100), `only ${results} in-process results in ${tookMs} ms`);
    });
  }

  it('starts a fresh worker for the next run after one exited, and that run reports normally', async () => {
    const plugin = isolate('fixture-exits', badPlugin('exits'));
    const first = await plugin.run({ exit: true, code: 1 }, { timeoutMs: 2000 });
    assert.match(first.outcome.summary, /the worker exited with code 1 before reporting/);
    const second = await plugin.run({ exit: false, code: 1 }, { timeoutMs: 2000 });
    assert.deepEqual(second.outcome, { status: 'OK', reason: 'ok', summary: 'did not exit', metrics: [] });
  });

  it('starts a fresh worker after one was terminated for a busy loop', async () => {
    const plugin = isolate('fixture-busy-loop', badPlugin('busy-loop'));
    const reports: RunReport[] = [];
    for (let i = 0; i < 2; i++) reports.push(await plugin.run({}, { timeoutMs: 300 }));
    for (const report of reports) assert.match(report.outcome.summary, /terminated after its 0\.3 s deadline: its worker did not answer/);
  });
});

describe('IsolatedPlugin: a worker that cannot load the plugin', { timeout: 60_000 }, () => {
  it('ends the run UNKNOWN saying the plugin could not be loaded, and tries a fresh worker next time', async () => {
    const plugin = isolate('fixture-gone', pathToFileURL(`${repoRoot}test/fixtures/bad-plugins/gone.mjs`).href);
    for (let i = 0; i < 2; i++) {
      const report = await plugin.run({}, { timeoutMs: 1000 });
      assert.equal(report.outcome.status, 'UNKNOWN');
      assert.match(report.outcome.summary, /^plugin fixture-gone could not be loaded in its worker: Cannot find module '.*gone\.mjs'/);
    }
  });
});

describe('IsolatedPlugin: a well-behaved custom plugin', { timeout: 60_000 }, () => {
  it("returns the plugin's outcome and metrics from its worker, as the in-process runner would", async () => {
    const plugin = isolate('fixture-queue', queuePlugin);
    const report = await plugin.run({ queue: 'inbound', depth: 7, oldestAgeSeconds: 1.5 }, { timeoutMs: 3000 });
    assert.equal(report.pluginError, false);
    assert.equal(report.outcome.summary, '7 messages waiting in inbound, the oldest for 1.5 s');
    assert.deepEqual(report.outcome.metrics, [
      { name: 'depth', value: 7, unit: 'count', labels: { queue: 'inbound' } },
      { name: 'oldest_message_age_seconds', value: 1.5, unit: 'seconds' },
    ]);
  });

  it('runs as many checks at once as its concurrency allows, in as many workers', async () => {
    const plugin = isolate('fixture-queue', queuePlugin, { concurrency: 3, memoryMb: 32 });
    const reports = await Promise.all([1, 2, 3, 4, 5].map((depth) => plugin.run({ queue: 'q', depth, oldestAgeSeconds: 0 }, { timeoutMs: 5000 })));
    assert.deepEqual(
      reports.map((r) => r.outcome.metrics[0]!.value),
      [1, 2, 3, 4, 5],
    );
  });
});

describe('IsolatedPlugin: its concurrency limit', { timeout: 60_000 }, () => {
  it('leaves a run that finds every worker busy for its whole deadline UNKNOWN, naming the setting to raise', async () => {
    const plugin = isolate('fixture-never-resolves', badPlugin('never-resolves'), { concurrency: 1, memoryMb: 32 });
    const [hung, waited] = await Promise.all([plugin.run({}, { timeoutMs: 1000 }), plugin.run({}, { timeoutMs: 200 })]);
    assert.match(hung.outcome.summary, /terminated after its 1 s deadline/);
    assert.equal(waited.outcome.status, 'UNKNOWN');
    assert.equal(
      waited.outcome.summary,
      'plugin fixture-never-resolves was not run: all 1 of its workers stayed busy for its whole 0.2 s deadline ' +
        '(raise plugins.limits.fixture-never-resolves.concurrency, or lengthen its interval)',
    );
    assert.ok(waited.durationMs >= 190 && waited.durationMs < 1000, `waited ${waited.durationMs} ms`);
  });

  it('gives a worker freed by a terminated run to the run waiting for one', async () => {
    const plugin = isolate('fixture-exits', badPlugin('exits'), { concurrency: 1, memoryMb: 32 });
    const [exited, next] = await Promise.all([
      plugin.run({ exit: true, code: 2 }, { timeoutMs: 3000 }),
      plugin.run({ exit: false, code: 0 }, { timeoutMs: 3000 }),
    ]);
    assert.match(exited.outcome.summary, /exited with code 2/);
    assert.equal(next.outcome.summary, 'did not exit');
  });
});
