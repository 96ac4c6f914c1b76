import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ManualClock, RESULT_LIMITS } from '#rounds/common';
import { runPlugin, type RunReport } from './runner.js';
import type { CheckContext, CheckOutcome, Metric, MetricDeclaration, Plugin, PluginLogger } from './plugin.js';

const connectSeconds: MetricDeclaration = { name: 'connect_seconds', unit: 'seconds', help: 'Time to connect.' };

function fakePlugin(run: (config: unknown, ctx: CheckContext) => Promise<unknown>, metrics: readonly MetricDeclaration[] = [connectSeconds]): Plugin {
  return {
    name: 'fake',
    version: '1.0.0',
    description: 'A plugin whose behaviour each test chooses.',
    configSchema: z.strictObject({}),
    metrics,
    run: run as Plugin['run'],
  };
}

const ok: CheckOutcome = { status: 'OK', reason: 'ok', summary: 'all good', metrics: [{ name: 'connect_seconds', value: 0.01, unit: 'seconds' }] };

/** Whether a promise has settled, without waiting for it. */
async function settledYet(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return settled;
}

describe('runPlugin', () => {
  it("returns the plugin's outcome unchanged when it is well formed", async () => {
    const report = await runPlugin(
      fakePlugin(async () => ok),
      {},
      { timeoutMs: 1000 },
    );
    assert.deepEqual(report.outcome, ok);
    assert.equal(report.pluginError, false);
    assert.equal(report.cutOff, false);
  });

  it('reports UNKNOWN/plugin_error with the message when the plugin throws', async () => {
    const report = await runPlugin(
      fakePlugin(async () => {
        throw new Error('cannot read properties of undefined');
      }),
      {},
      { timeoutMs: 1000 },
    );
    assert.deepEqual(report.outcome, {
      status: 'UNKNOWN',
      reason: 'plugin_error',
      summary: 'plugin fake failed: cannot read properties of undefined',
      metrics: [],
    });
    assert.equal(report.pluginError, true);
    assert.equal(report.cutOff, false);
  });

  it('reports UNKNOWN/plugin_error when the plugin throws before returning a promise, or throws a non-Error', async () => {
    const sync = await runPlugin(
      fakePlugin(() => {
        throw new TypeError('sync bug');
      }),
      {},
      { timeoutMs: 1000 },
    );
    assert.equal(sync.outcome.summary, 'plugin fake failed: sync bug');
    assert.equal(sync.pluginError, true);

    const thrownString = await runPlugin(
      fakePlugin(async () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the runner's handling of a non-Error throw is what this checks
        throw 'just a string';
      }),
      {},
      { timeoutMs: 1000 },
    );
    assert.equal(thrownString.outcome.summary, 'plugin fake failed: just a string');
    assert.equal(thrownString.outcome.reason, 'plugin_error');
  });

  const malformed: [string, unknown, string][] = [
    ['nothing', undefined, 'plugin fake returned no outcome object'],
    ['null', null, 'plugin fake returned no outcome object'],
    ['a status outside OK/WARNING/CRITICAL/UNKNOWN', { ...ok, status: 'DOWN' }, 'plugin fake returned status "DOWN"'],
    ['a reason outside the closed set', { ...ok, reason: 'it_broke' }, 'plugin fake returned reason "it_broke" outside the closed set'],
    ['no summary', { status: 'OK', reason: 'ok', metrics: [] }, 'plugin fake returned no summary'],
    ['no metrics array', { status: 'OK', reason: 'ok', summary: 's' }, 'plugin fake returned malformed metrics'],
    ['a metric whose value is not a number', { ...ok, metrics: [{ name: 'x', value: '1', unit: 'count' }] }, 'plugin fake returned malformed metrics'],
    ['a metric without a unit', { ...ok, metrics: [{ name: 'x', value: 1 }] }, 'plugin fake returned malformed metrics'],
    [
      'a metric with a label value that is not a string',
      { ...ok, metrics: [{ name: 'x', value: 1, unit: '', labels: { a: 1 } }] },
      'plugin fake returned malformed metrics',
    ],
  ];
  for (const [what, value, summary] of malformed) {
    it(`reports UNKNOWN/plugin_error when the plugin returns ${what}`, async () => {
      const report = await runPlugin(
        fakePlugin(async () => value),
        {},
        { timeoutMs: 1000 },
      );
      assert.deepEqual(report.outcome, { status: 'UNKNOWN', reason: 'plugin_error', summary, metrics: [] });
      assert.equal(report.pluginError, true);
      assert.equal(report.cutOff, false);
    });
  }

  it('gives the plugin a deadline of start + timeout and a now() from the injected clock', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    let seen: { deadline: number; now: number; aborted: boolean } | undefined;
    const report = await runPlugin(
      fakePlugin(async (_config, ctx) => {
        seen = { deadline: ctx.deadline, now: ctx.now(), aborted: ctx.signal.aborted };
        return ok;
      }),
      {},
      { timeoutMs: 2500, clock },
    );
    assert.deepEqual(seen, { deadline: 1_700_000_002_500, now: 1_700_000_000_000, aborted: false });
    assert.equal(report.startedAt, 1_700_000_000_000);
    assert.equal(report.durationMs, 0);
  });

  it('passes the config and the logger it was given to the plugin', async () => {
    const lines: string[] = [];
    let seenConfig: unknown;
    await runPlugin(
      fakePlugin(async (config, ctx) => {
        seenConfig = config;
        ctx.log.warn('slow answer');
        return ok;
      }),
      { host: 'pacs' },
      { timeoutMs: 1000, log: { debug: () => {}, warn: (m) => lines.push(m) } },
    );
    assert.deepEqual(seenConfig, { host: 'pacs' });
    assert.deepEqual(lines, ['slow answer']);
  });

  it('aborts the signal at the deadline and cuts off a plugin that ignores it after the grace, as CRITICAL/timeout', async () => {
    const clock = new ManualClock(0);
    let signal: AbortSignal | undefined;
    const running = runPlugin(
      fakePlugin((_config, ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      }),
      {},
      { timeoutMs: 100, graceMs: 50, clock },
    );

    await clock.advance(99);
    assert.equal(signal!.aborted, false);
    assert.equal(await settledYet(running), false);

    await clock.advance(1);
    assert.equal(signal!.aborted, true);
    assert.equal((signal!.reason as Error).message, 'deadline of 100 ms reached');
    assert.equal(await settledYet(running), false, 'cut off before the grace ran out');

    await clock.advance(50);
    const report = await running;
    assert.deepEqual(report.outcome, {
      status: 'CRITICAL',
      reason: 'timeout',
      summary: 'no result within 100 ms (plugin fake did not stop at its deadline)',
      metrics: [],
    });
    assert.equal(report.cutOff, true);
    assert.equal(report.pluginError, false);
    assert.equal(report.durationMs, 150);
    assert.equal(clock.pendingTimers, 0);
  });

  it('uses the outcome of a plugin that honours its signal, not a cut-off', async () => {
    const clock = new ManualClock(0);
    const running = runPlugin(
      fakePlugin(
        (_config, ctx) =>
          new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () =>
              resolve({ status: 'CRITICAL', reason: 'timeout', summary: 'no C-ECHO response within 100 ms', metrics: [] }),
            ),
          ),
      ),
      {},
      { timeoutMs: 100, graceMs: 50, clock },
    );

    await clock.advance(100);
    const report = await running;

    assert.equal(report.outcome.summary, 'no C-ECHO response within 100 ms');
    assert.equal(report.cutOff, false);
    assert.equal(report.pluginError, false);
    assert.equal(report.durationMs, 100);
    assert.equal(clock.pendingTimers, 0, 'the cut-off timer was left armed');
  });

  it("lets a plugin sleep by the runner's clock between attempts", async () => {
    const clock = new ManualClock(0);
    const woke: number[] = [];
    const running = runPlugin(
      fakePlugin(async (_config, ctx) => {
        await ctx.sleep(30);
        woke.push(ctx.now());
        await ctx.sleep(20);
        woke.push(ctx.now());
        return ok;
      }),
      {},
      { timeoutMs: 1000, clock },
    );
    await clock.advance(29);
    assert.deepEqual(woke, []);
    await clock.advance(1);
    assert.deepEqual(woke, [30]);
    await clock.advance(20);
    const report = await running;
    assert.deepEqual(woke, [30, 50]);
    assert.equal(report.outcome.status, 'OK');
    assert.equal(clock.pendingTimers, 0);
  });

  it('wakes a sleeping plugin at its deadline, so a sleep never outlasts the run', async () => {
    const clock = new ManualClock(0);
    const running = runPlugin(
      fakePlugin(async (_config, ctx) => {
        await ctx.sleep(10_000);
        const aborted = ctx.signal.aborted;
        await ctx.sleep(10_000); // already past the deadline: returns at once
        return { ...ok, summary: `woke at ${ctx.now()} ms, aborted: ${aborted}` };
      }),
      {},
      { timeoutMs: 100, graceMs: 50, clock },
    );
    await clock.advance(100);
    const report = await running;
    assert.equal(report.outcome.summary, 'woke at 100 ms, aborted: true');
    assert.equal(report.cutOff, false);
    assert.equal(clock.pendingTimers, 0, 'the sleep left its timer armed');
  });

  it('clears a sleep the plugin left pending when it returned', async () => {
    const clock = new ManualClock(0);
    await runPlugin(
      fakePlugin(async (_config, ctx) => {
        void ctx.sleep(500);
        return ok;
      }),
      {},
      { timeoutMs: 1000, clock },
    );
    assert.equal(clock.pendingTimers, 0);
  });

  it('leaves no timer behind when the plugin returns before its deadline', async () => {
    const clock = new ManualClock(0);
    await runPlugin(
      fakePlugin(async () => ok),
      {},
      { timeoutMs: 100, clock },
    );
    assert.equal(clock.pendingTimers, 0);
  });

  it('defaults the grace to 10% of the timeout, at least 50 ms and at most 1 s', async () => {
    const graceFor = async (timeoutMs: number): Promise<number> => {
      const clock = new ManualClock(0);
      const running = runPlugin(
        fakePlugin(() => new Promise(() => {})),
        {},
        { timeoutMs, clock },
      );
      await clock.advance(timeoutMs);
      let report: RunReport | undefined;
      void running.then((r) => (report = r));
      let waited = 0;
      while (!report) {
        await clock.advance(1);
        await new Promise<void>((resolve) => setImmediate(resolve));
        waited++;
      }
      return waited;
    };
    assert.equal(await graceFor(100), 50);
    assert.equal(await graceFor(3000), 300);
    assert.equal(await graceFor(60_000), 1000);
  });

  it('with the real clock, returns CRITICAL/timeout for a hung plugin only after aborting its signal', async () => {
    let signal: AbortSignal | undefined;
    const events: string[] = [];
    const report = await runPlugin(
      fakePlugin((_config, ctx) => {
        signal = ctx.signal;
        ctx.signal.addEventListener('abort', () => events.push('aborted'));
        return new Promise(() => {});
      }),
      {},
      { timeoutMs: 100, graceMs: 30 },
    );
    events.push('reported');

    assert.deepEqual(events, ['aborted', 'reported']);
    assert.equal(signal!.aborted, true);
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.cutOff, true);
  });

  it('with the real clock, does not wait for the grace when a plugin stops at its signal', async () => {
    const events: string[] = [];
    const report = await runPlugin(
      fakePlugin(
        (_config, ctx) =>
          new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              events.push('aborted');
              resolve({ status: 'CRITICAL', reason: 'timeout', summary: 'stopped at the deadline', metrics: [] });
            }),
          ),
      ),
      {},
      { timeoutMs: 100, graceMs: 60_000 },
    );
    events.push('reported');

    assert.deepEqual(events, ['aborted', 'reported']);
    assert.equal(report.outcome.summary, 'stopped at the deadline');
    assert.equal(report.cutOff, false);
    assert.ok(report.durationMs < 30_000, `waited ${report.durationMs} ms, as if for the grace`);
  });

  it('cuts a 2,000,000-character summary and 20,000 metrics to the limits and says so in the summary', async () => {
    const metrics = Array.from({ length: 20_000 }, (_, i) => ({ name: `m_${i}`, value: i, unit: 'count' as const }));
    const declarations = metrics.map((m) => ({ name: m.name, unit: m.unit, help: 'A made-up gauge.' }));
    const report = await runPlugin(
      fakePlugin(async () => ({ ...ok, summary: 'x'.repeat(2_000_000), metrics }), declarations),
      {},
      { timeoutMs: 1000 },
    );

    const note = '… [truncated: 2,000,000 characters, limit 4096] [19,744 of 20,000 metrics dropped: limit 256 per result]';
    assert.equal(report.outcome.summary.length, RESULT_LIMITS.summaryChars);
    assert.ok(report.outcome.summary.endsWith(note), report.outcome.summary.slice(-200));
    assert.equal(report.outcome.summary, 'x'.repeat(4096 - note.length) + note);
    assert.equal(report.outcome.metrics.length, 256);
    assert.deepEqual(report.outcome.metrics.at(-1), { name: 'm_255', value: 255, unit: 'count' });
    assert.equal(report.outcome.status, 'OK');
    assert.equal(report.pluginError, false);
  });

  it('cuts the message of a plugin that throws a huge error to the summary limit', async () => {
    const report = await runPlugin(
      fakePlugin(async () => {
        throw new Error('y'.repeat(100_000));
      }),
      {},
      { timeoutMs: 1000 },
    );
    assert.equal(report.outcome.reason, 'plugin_error');
    assert.equal(report.outcome.summary.length, RESULT_LIMITS.summaryChars);
    assert.match(report.outcome.summary, /^plugin fake failed: y+… \[truncated: 100,020 characters, limit 4096\]$/);
  });
});

describe("runPlugin and the plugin's metric declarations", () => {
  const declarations: MetricDeclaration[] = [
    connectSeconds,
    { name: 'filesystem_free_bytes', unit: 'bytes', help: 'Free space.', labels: ['mount', 'fstype'] },
  ];
  const free = (labels: Record<string, string>): Metric => ({ name: 'filesystem_free_bytes', value: 5e9, unit: 'bytes', labels });

  function recorder(): { log: PluginLogger; lines: string[] } {
    const lines: string[] = [];
    return { log: { debug: () => {}, warn: (m) => lines.push(m) }, lines };
  }

  const returning = (metrics: Metric[], summary = 'all good') => fakePlugin(async () => ({ ...ok, summary, metrics }), declarations);

  it('keeps metrics as declared, with all, some or none of their declared labels, and logs nothing', async () => {
    const metrics = [ok.metrics[0]!, free({ mount: '/', fstype: 'ext4' }), free({ mount: '/srv' }), free({})];
    const { log, lines } = recorder();
    const report = await runPlugin(returning(metrics), {}, { timeoutMs: 1000, log });
    assert.deepEqual(report.outcome, { ...ok, metrics });
    assert.deepEqual(lines, []);
  });

  const problems: [string, Metric, string][] = [
    ['a metric that is not declared', { name: 'rtt_seconds', value: 0.2, unit: 'seconds' }, '"rtt_seconds" is not declared'],
    [
      'a metric with another unit than declared',
      { name: 'connect_seconds', value: 20, unit: 'count' },
      '"connect_seconds" has unit "count", declared "seconds"',
    ],
    ['a metric with an undeclared label', free({ mount: '/', device: '/dev/sda1' }), '"filesystem_free_bytes" carries label "device", not declared'],
  ];
  for (const [what, metric, problem] of problems) {
    it(`drops ${what}, keeps the rest and says so in the summary`, async () => {
      const { log, lines } = recorder();
      const report = await runPlugin(returning([ok.metrics[0]!, metric]), {}, { timeoutMs: 1000, log });
      assert.deepEqual(report.outcome, {
        ...ok,
        summary: `all good [1 metrics dropped: not as the plugin declares them (${problem})]`,
        metrics: [ok.metrics[0]],
      });
      assert.equal(report.pluginError, false);
      assert.deepEqual(lines, [`plugin fake: metric ${problem} — it is left out of results until the plugin's metrics declarations include it`]);
    });
  }

  it('logs each problem once per plugin, not once per run, and again for another plugin', async () => {
    const undeclared: Metric = { name: 'rtt_seconds', value: 0.2, unit: 'seconds' };
    const { log, lines } = recorder();
    const plugin = returning([undeclared]);
    for (let i = 0; i < 3; i++) {
      const report = await runPlugin(plugin, {}, { timeoutMs: 1000, log });
      assert.equal(report.outcome.summary, 'all good [1 metrics dropped: not as the plugin declares them ("rtt_seconds" is not declared)]');
    }
    assert.equal(lines.length, 1);
    await runPlugin(returning([undeclared, { ...undeclared, name: 'loss_ratio', unit: 'ratio' }]), {}, { timeoutMs: 1000, log });
    const line = (problem: string) => `plugin fake: metric ${problem} — it is left out of results until the plugin's metrics declarations include it`;
    assert.deepEqual(lines, [line('"rtt_seconds" is not declared'), line('"rtt_seconds" is not declared'), line('"loss_ratio" is not declared')]);
  });

  it('counts every dropped metric but quotes at most three problems, and logs at most 100 per plugin', async () => {
    const metrics = Array.from({ length: 150 }, (_, i): Metric => ({ name: `m_${i}`, value: i, unit: 'count' }));
    const { log, lines } = recorder();
    const report = await runPlugin(returning(metrics), {}, { timeoutMs: 1000, log });
    assert.equal(
      report.outcome.summary,
      'all good [150 metrics dropped: not as the plugin declares them ("m_0" is not declared; "m_1" is not declared; "m_2" is not declared; …)]',
    );
    assert.deepEqual(report.outcome.metrics, []);
    assert.equal(lines.length, 101);
    assert.equal(lines.at(-1), 'plugin fake reports more than 100 kinds of metrics that are not as it declares them; further ones are not logged');
  });

  it('quotes a huge undeclared name cut short', async () => {
    const report = await runPlugin(returning([{ name: 'n'.repeat(100_000), value: 1, unit: '' }]), {}, { timeoutMs: 1000 });
    assert.equal(report.outcome.summary, `all good [1 metrics dropped: not as the plugin declares them ("${'n'.repeat(63)}…" is not declared)]`);
  });

  it('keeps both notes within the summary limit when a huge summary, too many metrics and undeclared ones come together', async () => {
    const many = Array.from({ length: 300 }, (_, i): Metric => ({ name: 'filesystem_free_bytes', value: i, unit: 'bytes', labels: { mount: `/m${i}` } }));
    const report = await runPlugin(returning([...many, { name: 'rtt_seconds', value: 1, unit: 'seconds' }], 'x'.repeat(2_000_000)), {}, { timeoutMs: 1000 });
    const notes =
      '… [truncated: 2,000,000 characters, limit 4096] [44 of 300 metrics dropped: limit 256 per result]' +
      ' [1 metrics dropped: not as the plugin declares them ("rtt_seconds" is not declared)]';
    assert.equal(report.outcome.summary, 'x'.repeat(RESULT_LIMITS.summaryChars - notes.length) + notes);
    assert.equal(report.outcome.metrics.length, RESULT_LIMITS.metricsPerResult);
  });
});
