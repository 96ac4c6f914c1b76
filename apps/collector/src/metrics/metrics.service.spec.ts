import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { ROUNDS_VERSION } from '#rounds/common';
import { describePlugin, PluginRegistry } from '#rounds/plugins';
import { sampleOutcome } from '#rounds/plugins/testing';
import { render } from './exposition.js';
import { metricsFixture, NOW, PLUGIN_METRICS } from './metrics.testing.js';

/** The value the fixture's `plugin` check reports for `metric` (derived from the plugin's declarations). */
function sampleValue(plugin: string, metric: string): number {
  const found = PLUGIN_METRICS[plugin]?.find((m) => m.name === metric);
  assert.ok(found, `${plugin} declares no ${metric}`);
  return found.value;
}

// The spec runs from dist/; the golden files live in the source tree's test/fixtures.
const ROOT = join(dirname(fileURLToPath(import.meta.url)).replace(`${sep}dist${sep}`, sep), '..', '..', '..', '..');
const GOLDEN = join(ROOT, 'test', 'fixtures', 'metrics');
const UPDATE = process.env.ROUNDS_UPDATE_GOLDEN === '1';

/** `promtool check metrics` on an exposition: its exit code and complaints. */
export function promtoolCheckMetrics(exposition: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is not installed (apt-get install prometheus): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** The version is masked so that a release does not rewrite the golden files. */
function golden(name: string, exposition: string): void {
  const actual = exposition.replace(`version="${ROUNDS_VERSION}"`, 'version="<version>"');
  const path = join(GOLDEN, name);
  if (UPDATE) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `${name} differs; if the change is intended, rerun with ROUNDS_UPDATE_GOLDEN=1 and review the diff`);
}

describe('MetricsService', () => {
  let fixture: Awaited<ReturnType<typeof metricsFixture>> | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('renders the pinned text exposition for agents and checks of every built-in plugin', async () => {
    fixture = await metricsFixture();
    golden('collector.prom', await fixture.service.scrape('text'));
  });

  it('renders the pinned OpenMetrics exposition, counters without _total in TYPE and ending in # EOF', async () => {
    fixture = await metricsFixture();
    const text = await fixture.service.scrape('openmetrics');
    golden('collector.openmetrics', text);
    assert.match(text, /^# TYPE rounds_collector_polls counter$/m);
    assert.match(text, /^rounds_collector_polls_total 3$/m);
    assert.ok(text.endsWith('# EOF\n'));
  });

  it('passes promtool check metrics, process metrics included', async () => {
    fixture = await metricsFixture({ processMetrics: true });
    const text = await fixture.service.scrape('text');
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.doesNotMatch(text, /^nodejs_active_handles_total/m);
    const lint = promtoolCheckMetrics(text);
    assert.equal(lint.status, 0, lint.output);
  });

  it('exports one status series per state, 1 for the current one and PENDING before the first result', async () => {
    fixture = await metricsFixture();
    const text = await fixture.service.scrape('text');
    const status = (check: string, agent = 'pacs-01') =>
      Object.fromEntries(
        [...text.matchAll(new RegExp(`^rounds_check_status\\{agent="${agent}",check="${check}",plugin="[^"]+",status="(\\w+)"\\} (\\d)$`, 'gm'))].map((x) => [
          x[1],
          Number(x[2]),
        ]),
      );
    assert.deepEqual(status('tcp check'), { OK: 0, WARNING: 0, CRITICAL: 1, UNKNOWN: 0, PENDING: 0 });
    assert.deepEqual(status('ward web', 'ward-02'), { OK: 0, WARNING: 0, CRITICAL: 0, UNKNOWN: 0, PENDING: 1 });
    assert.match(text, /^rounds_check_up\{agent="pacs-01",check="dicom-echo check",plugin="dicom-echo"\} 1$/m, 'WARNING counts as up');
    assert.match(text, /^rounds_check_up\{agent="pacs-01",check="tcp check",plugin="tcp"\} 0$/m);
    assert.match(text, /^rounds_check_consecutive_failures\{agent="pacs-01",check="tcp check",plugin="tcp"\} 2$/m);
    assert.match(
      text,
      new RegExp(`^rounds_check_last_success_timestamp_seconds\\{agent="pacs-01",check="tcp check",plugin="tcp"\\} ${(NOW - 120_000) / 1000}$`, 'm'),
    );
    assert.doesNotMatch(text, /switched off/, 'a disabled check is not exported');
  });

  it('converts plugin units to base units: days to seconds, percent to a ratio', async () => {
    fixture = await metricsFixture();
    const text = await fixture.service.scrape('text');
    const line = (name: string, labels: string, value: number) =>
      assert.ok(text.split('\n').includes(`${name}{${labels}} ${value}`), `${name}{${labels}} ${value}`);
    line('rounds_http_tls_cert_expiry_seconds', 'agent="pacs-01",check="http check"', sampleValue('http', 'tls_cert_expiry_days') * 86_400);
    line('rounds_nagios_perfdata_ratio', 'agent="pacs-01",check="nagios check",label="sample-label"', sampleValue('nagios', 'perfdata_percent') / 100);
    assert.match(text, /^# TYPE rounds_nagios_perfdata_total counter$/m);
    line(
      'rounds_host_metrics_filesystem_free_bytes',
      'agent="pacs-01",check="host-metrics check",mount="sample-mount",fstype="sample-fstype"',
      sampleValue('host-metrics', 'filesystem_free_bytes'),
    );
  });

  it('leaves out plugin metrics with labels outside the allow-list, bad names or units, and duplicate series, and counts them', async () => {
    fixture = await metricsFixture();
    const text = await fixture.service.scrape('text');
    assert.match(text, /^rounds_site_custom_queue_depth\{agent="pacs-01",check="site-custom check"\} 4$/m);
    assert.doesNotMatch(text, /a-very-specific-file|rounds_site_custom_files|Bad|rounds_site_custom_latency/);
    assert.match(text, /^rounds_collector_plugin_metrics_skipped 4$/m);
  });

  it("exports a custom plugin's metrics as its agent declares them — one plugin folder, one registry line", async () => {
    fixture = await metricsFixture();
    const registry = PluginRegistry.withBuiltins();
    const queue = (await import(pathToFileURL(join(ROOT, 'test', 'fixtures', 'plugins', 'fixture-queue', 'index.js')).href)) as { default: unknown };
    const entry = registry.register(queue.default, 'plugins/fixture-queue');
    // The agent describes what it loaded; the collector has never seen this plugin.
    const descriptionJson = JSON.stringify({ agentId: 'a', plugins: registry.list().map(describePlugin) });
    await fixture.agents.update(fixture.pacsId, { descriptionJson });
    const check = await fixture.checks.create(
      { agentId: fixture.pacsId, name: 'inbound queue', plugin: 'fixture-queue', config: {}, intervalMs: 30_000, timeoutMs: 5000 },
      NOW,
    );
    await fixture.state.refreshAgent(fixture.pacsId);
    fixture.state.agentPolled(fixture.pacsId, { descriptionJson });
    const sample = sampleOutcome(entry.plugin);
    const undeclared = { name: 'depth', value: 9, unit: 'count' as const, labels: { queue: 'other', host: 'x' } };
    await fixture.writer.write({
      agentId: fixture.pacsId,
      ackSeq: 5000,
      spoolEpoch: 'epoch-1',
      results: [
        {
          checkId: check.id,
          seq: 5000,
          startedAt: NOW,
          durationMs: 1,
          status: 0,
          reason: 'ok',
          summary: sample.summary,
          metrics: [...sample.metrics, undeclared],
        },
      ],
    });
    const text = await fixture.service.scrape('text');
    const lines = text.split('\n');
    assert.ok(lines.includes('# HELP rounds_fixture_queue_depth Messages waiting in the queue.'), 'the help is not the declared one');
    assert.ok(lines.includes('rounds_fixture_queue_depth{agent="pacs-01",check="inbound queue",queue="sample-queue"} 1'));
    assert.ok(lines.includes('rounds_fixture_queue_oldest_message_age_seconds{agent="pacs-01",check="inbound queue"} 2'));
    assert.doesNotMatch(text, /queue="other"/, 'a label the plugin does not declare was exported');
    assert.equal(promtoolCheckMetrics(text).status, 0);
  });

  it('serves scrapes from the read model: the database alone changes nothing, a poll handed to the model shows at the next scrape', async () => {
    fixture = await metricsFixture();
    const before = await fixture.service.scrape('text');
    assert.match(before, /^rounds_agent_up\{agent="pacs-01"\} 1$/m);
    let failed;
    for (let i = 0; i < 3; i++) failed = await fixture.agents.recordPollFailure(fixture.pacsId, { at: NOW, error: 'refused', downAfter: 3 });
    assert.equal(await fixture.service.scrape('text'), before, 'a scrape read the database');

    fixture.state.agentPolled(fixture.pacsId, failed!);
    const after = await fixture.service.scrape('text');
    assert.match(after, /^rounds_agent_up\{agent="pacs-01"\} 0$/m);
    assert.match(after, /^rounds_agent_consecutive_poll_failures\{agent="pacs-01"\} 3$/m);
  });

  it('renders the same exposition as the whole family list, in both formats, before and after a change', async () => {
    fixture = await metricsFixture();
    for (const format of ['text', 'openmetrics'] as const) {
      assert.equal(await fixture.service.scrape(format), render(await fixture.service.families(), format));
      fixture.state.agentPolled(fixture.pacsId, { dropped: 99 });
      const changed = await fixture.service.scrape(format);
      assert.match(changed, /^rounds_agent_dropped_results_total\{agent="pacs-01"\} 99$/m);
      assert.equal(changed, render(await fixture.service.families(), format));
    }
  });

  it("takes a check's metrics from its newest committed result at the next scrape, and keeps the others", async () => {
    fixture = await metricsFixture();
    const before = await fixture.service.scrape('text');
    assert.ok(before.split('\n').includes(`rounds_http_body_bytes{agent="pacs-01",check="http check"} ${sampleValue('http', 'body_bytes')}`));
    const tcpLines = (text: string) => text.split('\n').filter((l) => l.startsWith('rounds_tcp_'));
    assert.ok(tcpLines(before).length > 0);
    await fixture.writer.write({
      agentId: fixture.pacsId,
      ackSeq: 1000,
      spoolEpoch: 'epoch-1',
      results: [
        {
          checkId: fixture.ids['http']!,
          seq: 1000,
          startedAt: NOW - 1000,
          durationMs: 30,
          status: 0,
          reason: 'ok',
          summary: 'newer',
          metrics: [{ name: 'body_bytes', value: 777, unit: 'bytes' }],
        },
      ],
    });
    const after = await fixture.service.scrape('text');
    assert.match(after, /^rounds_http_body_bytes\{agent="pacs-01",check="http check"\} 777$/m, "the newer result's metrics did not replace the cached ones");
    assert.doesNotMatch(after, /^rounds_http_connect_seconds\{/m, 'a metric only the older result had is still exported');
    assert.deepEqual(tcpLines(after), tcpLines(before), 'a check without a new result changed its metrics');
  });

  it('marks a check stale at scrape time when its agent goes DOWN or its results are overdue', async () => {
    fixture = await metricsFixture();
    const stale = (text: string, check: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(`rounds_check_stale{agent="pacs-01",check="${check}"`))
        ?.split(' ')
        .pop();
    assert.equal(stale(await fixture.service.scrape('text'), 'http check'), '0');
    // The http check runs every 30 s and its last result is 30 s old; the poll interval is 15 s.
    await fixture.clock.advance(2 * 30_000 + 15_000 - 30_000 + 1);
    assert.equal(stale(await fixture.service.scrape('text'), 'http check'), '1', 'an overdue result is not stale');
    fixture = await metricsFixture();
    fixture.state.agentPolled(fixture.pacsId, { state: 'DOWN' });
    assert.equal(stale(await fixture.service.scrape('text'), 'tcp check'), '1', "a DOWN agent's check is not stale");
  });

  it('computes the agent age at scrape time', async () => {
    fixture = await metricsFixture();
    await fixture.service.scrape('text');
    await fixture.clock.advance(2000);
    const text = await fixture.service.scrape('text');
    assert.match(text, /^rounds_agent_last_seen_age_seconds\{agent="pacs-01"\} 7$/m);
  });
});
