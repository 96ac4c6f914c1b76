import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RESULT_LIMITS } from '#rounds/common';
import { collectorRows, FIXTURES, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from '../e2e/harness.js';
import { startWebhookReceiver } from '../peers/webhook.js';

interface CheckView {
  id: string;
  state: { status: string; reason: string; summary: string } | null;
}
interface ResultView {
  seq: number;
  summary: string;
  metrics: { name: string; labels?: Record<string, string> }[];
}

/**
 * A custom plugin that returns a 2,000,000-character summary and 20,000 metrics per result,
 * run by a real agent every second and polled by a real collector: what the collector
 * stores, shows and exports stays within the documented result limits.
 */
describe('a hostile plugin', { timeout: 180_000 }, () => {
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let checkId = '';

  before(async () => {
    receiver = await startWebhookReceiver();
    collector = await startCollector();
    const channel = await collector.api('POST', '/api/v1/channels', { name: 'on-call hook', type: 'webhook', config: { url: receiver.url } });
    assert.equal(channel.status, 201, JSON.stringify(channel.body));
    agent = await startAgent('hostile', { pluginDir: join(FIXTURES, 'hostile-plugins') });
    const added = await collector.api('POST', '/api/v1/agents', { name: 'hostile', enrol: agent.enrolment });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    await waitFor('the hostile plugin described', async () => {
      const a = await collector.api<{ agent: { plugins: { name: string }[] } | null }>('GET', '/api/v1/agents/hostile');
      return a.body.agent?.plugins.some((p) => p.name === 'fixture-hostile');
    });
    const created = await collector.api<CheckView>('POST', '/api/v1/checks', {
      agent: 'hostile',
      name: 'hostile',
      plugin: 'fixture-hostile',
      config: {},
      intervalMs: 1000,
      timeoutMs: 1000,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    checkId = created.body.id;
    await waitFor(
      'five hostile results stored',
      async () => {
        const r = await collector.api<ResultView[]>('GET', `/api/v1/checks/${checkId}/results?limit=100`);
        return r.body.length >= 5;
      },
      60_000,
    );
  });

  after(async () => {
    await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
    await receiver?.close();
  });

  const note = '… [truncated: 2,000,000 characters, limit 4096] [19,743 of 20,000 metrics dropped: limit 256 per result; 1 metrics dropped:';

  test('the database holds every result cut to the limits, with the summary saying what was cut', async () => {
    const rows = await collectorRows<{ summary: string; reason: string; metrics: string }>(
      collector,
      'SELECT summary, reason, metrics_json AS metrics FROM check_results WHERE check_id = ?',
      [checkId],
    );
    assert.ok(rows.length >= 5, `${rows.length} rows`);
    for (const row of rows) {
      assert.equal(row.summary.length, RESULT_LIMITS.summaryChars);
      assert.ok(row.summary.includes(note), row.summary.slice(-300));
      const metrics = JSON.parse(row.metrics) as { name: string; labels: Record<string, string> }[];
      assert.equal(metrics.length, RESULT_LIMITS.metricsPerResult);
      assert.equal(metrics[0]!.name, 'hostile_1', 'the metric with a 100,000-character label value was dropped');
      assert.ok(row.metrics.length < 40_000, `${row.metrics.length} characters of metrics in one row`);
    }
    const [state] = await collectorRows<{ summary: string; metrics: string }>(
      collector,
      'SELECT summary, metrics_json AS metrics FROM check_state WHERE check_id = ?',
      [checkId],
    );
    assert.equal(state!.summary.length, RESULT_LIMITS.summaryChars);
    assert.ok(state!.metrics.length < 40_000);
    const [largest] = await collectorRows<{ s: unknown; m: unknown }>(
      collector,
      'SELECT max(length(summary)) AS s, max(length(metrics_json)) AS m FROM check_results',
    );
    assert.ok(Number(largest!.s) <= RESULT_LIMITS.summaryChars && Number(largest!.m) < 40_000, JSON.stringify(largest));
  });

  test("the API's check view and results carry the cut summary and at most 256 metrics", async () => {
    const check = await collector.api<CheckView>('GET', `/api/v1/checks/${checkId}`);
    assert.equal(check.body.state?.status, 'CRITICAL');
    assert.equal(check.body.state?.summary.length, RESULT_LIMITS.summaryChars);
    assert.ok(check.body.state?.summary.includes(note));
    const results = await collector.api<ResultView[]>('GET', `/api/v1/checks/${checkId}/results?limit=5`);
    for (const r of results.body) assert.ok(r.summary.length <= RESULT_LIMITS.summaryChars && r.metrics.length <= RESULT_LIMITS.metricsPerResult);
    assert.ok(JSON.stringify(results.body).length < 5 * 60_000, `${JSON.stringify(results.body).length} characters for five results`);
  });

  test('the status page shows the check without the whole summary', async () => {
    const page = await (await fetch(`${collector.url}/`, { headers: { authorization: `Bearer ${collector.token}` } })).text();
    assert.ok(page.includes('hostile'));
    assert.ok(page.length < 200_000, `status page is ${page.length} characters`);
    assert.ok(!page.includes('h'.repeat(RESULT_LIMITS.summaryChars + 1)));
  });

  test('/metrics exports at most 256 of its metrics, and the collector had nothing left to cut', async () => {
    const text = await (await fetch(`${collector.url}/metrics`)).text();
    const hostile = text.split('\n').filter((l) => l.startsWith('rounds_fixture_hostile_hostile_'));
    assert.ok(hostile.length > 0 && hostile.length <= RESULT_LIMITS.metricsPerResult, `${hostile.length} hostile samples`);
    assert.ok(!text.includes('v'.repeat(RESULT_LIMITS.labelValueChars + 1)));
    assert.ok(text.length < 500_000, `/metrics is ${text.length} characters`);
    // The agent's runner cut every result already: the collector's own cut counts nothing.
    assert.match(text, /^rounds_collector_results_truncated_total\{field="summary"\} 0$/m);
    assert.match(text, /^rounds_collector_results_truncated_total\{field="metrics"\} 0$/m);
  });

  test('the webhook that the check fires carries the cut summary, not the whole one', async () => {
    const firing = await waitFor(
      'a "firing" for the hostile check',
      () => receiver.deliveries.find((d) => d.kind === 'firing' && d.check === 'hostile'),
      60_000,
    );
    const size = JSON.stringify(firing).length;
    assert.ok(size < 20_000, `one webhook delivery is ${size} characters`);
    assert.ok(firing.text.includes('[truncated: 2,000,000 characters, limit 4096]'), firing.text.slice(-600));
    assert.ok(!firing.text.includes('h'.repeat(RESULT_LIMITS.summaryChars)));
  });
});
