import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { COLLECT_LIMITS, resultWireBytes } from '#rounds/common';
import { Status } from '#rounds/common/wire';
import { FileSpool } from '../../apps/agent/src/spool/file-spool.js';
import { collectorRows, freePort, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

const BACKLOG = 50_000;
/** About what an http or nagios check with a long output sends: makes the byte budget, not the count, end a page. */
const SUMMARY = 'HTTP 200 in 12 ms; '.padEnd(1000, 'x');

function sample(text: string, name: string): number {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  assert.ok(m, `no ${name} in /metrics`);
  return Number(m[1]);
}

/**
 * An agent that comes back with 50,000 results in its spool (the collector was away) is
 * drained by the collector in pages that each stay within the Collect answer's byte budget
 * and well inside the poll deadline: every result stored once, no failed poll.
 */
describe('a large backlog', { timeout: 240_000 }, () => {
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let checkId = '';
  let spooledFrom = 0;
  let drainMs = 0;

  before(async () => {
    collector = await startCollector({ ROUNDS_POLL_TIMEOUT_MS: '5000' });
    agent = await startAgent('backlog');
    assert.equal((await collector.api('POST', '/api/v1/agents', { name: 'backlog', enrol: agent.enrolment })).status, 201);
    const closed = await freePort();
    const created = await collector.api<{ id: string }>('POST', '/api/v1/checks', {
      agent: 'backlog',
      name: 'closed port',
      plugin: 'tcp',
      config: { host: '127.0.0.1', port: closed },
      intervalMs: 3_600_000,
      timeoutMs: 1000,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    checkId = created.body.id;
    await waitFor('the first result stored', async () => (await collector.api<unknown[]>('GET', `/api/v1/checks/${checkId}/results`)).body.length >= 1);
    await collector.proc.stop();
    await agent.proc.stop();

    // What the agent's checks would have spooled while the collector was away, written by the agent's own spool.
    const spool = await FileSpool.open({
      dir: join(agent.dir, 'spool'),
      configPath: agent.configPath,
      limits: { maxResults: 100_000, maxBytes: 64 * 1024 * 1024, maxAgeMs: 3600_000 },
      log: { debug: () => {}, log: () => {}, warn: (m) => assert.fail(m) },
      syncIntervalMs: 0,
    });
    spooledFrom = spool.lastSeq + 1;
    const now = Date.now();
    for (let i = 0; i < BACKLOG; i++) {
      spool.append({
        checkId,
        startedAtMs: now - BACKLOG + i,
        durationMs: 12,
        status: Status.STATUS_OK,
        reason: 'ok',
        summary: SUMMARY,
        metrics: [{ name: 'connect_seconds', value: 0.012, unit: 'seconds', labels: {} }],
      });
    }
    await spool.close();

    await agent.start();
    const started = Date.now();
    await collector.start();
    await waitFor(
      `all ${BACKLOG} spooled results stored`,
      async () => {
        const [row] = await collectorRows<{ n: unknown }>(collector, 'SELECT count(*) AS n FROM check_results WHERE check_id = ? AND seq BETWEEN ? AND ?', [
          checkId,
          spooledFrom,
          spooledFrom + BACKLOG - 1,
        ]);
        return Number(row!.n) >= BACKLOG;
      },
      120_000,
    );
    drainMs = Date.now() - started;
  });

  after(async () => {
    await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
  });

  test('is stored completely, each result once, in several pages without a failed poll, each well inside the deadline', async () => {
    // The check itself runs once more when the agent is back: its result comes after the backlog.
    const [row] = await collectorRows<Record<string, unknown>>(
      collector,
      'SELECT count(*) AS n, count(DISTINCT seq) AS d, min(seq) AS lo, max(seq) AS hi FROM check_results WHERE check_id = ? AND seq BETWEEN ? AND ?',
      [checkId, spooledFrom, spooledFrom + BACKLOG - 1],
    );
    assert.deepEqual(Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)])), {
      n: BACKLOG,
      d: BACKLOG,
      lo: spooledFrom,
      hi: spooledFrom + BACKLOG - 1,
    });
    const [dup] = await collectorRows<{ twice: unknown }>(
      collector,
      'SELECT count(*) AS twice FROM (SELECT seq FROM check_results WHERE check_id = ? GROUP BY seq HAVING count(*) > 1) AS d',
      [checkId],
    );
    assert.equal(Number(dup!.twice), 0, 'a result was stored twice');
    const text = await (await fetch(`${collector.url}/metrics`)).text();
    const polls = sample(text, 'rounds_collector_polls_total');
    const failed = [...text.matchAll(/^rounds_collector_poll_errors_total\{reason="[^"]+"\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const seconds = sample(text, 'rounds_collector_poll_duration_seconds_sum');
    const slowest = [...text.matchAll(/^rounds_collector_poll_duration_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].find((m) => Number(m[2]) === polls)![1];
    const perResult = resultWireBytes({ checkId, reason: 'ok', summary: SUMMARY, metrics: [{ name: 'connect_seconds', unit: 'seconds', labels: {} }] });
    const pageResults = Math.floor(COLLECT_LIMITS.resultBytes / perResult);
    console.log(
      `backlog of ${BACKLOG} results (${perResult} wire bytes each) drained in ${drainMs} ms: ${polls} polls, ${failed} failed, ` +
        `${(seconds / polls).toFixed(3)} s per poll on average, slowest ≤ ${slowest} s; pages of ≤ ${pageResults} results`,
    );
    assert.equal(failed, 0, 'a poll failed while draining');
    assert.ok(polls >= Math.ceil(BACKLOG / pageResults), `only ${polls} polls: pages were larger than the byte budget allows`);
    assert.ok(Number(slowest) <= 2.5, `a poll took up to ${slowest} s of its 5 s deadline`);
  });
});
