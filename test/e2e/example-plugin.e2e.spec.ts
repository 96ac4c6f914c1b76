import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { startAgent, startCollector, tempDir, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';
import { copyModalityDisk, installTestTypecheck, MODALITY_API, packPluginSdk, startModalityApi } from './plugin-sdk.js';

const GIB = 2 ** 30;

interface AgentView {
  agent: { plugins: { name: string; version: string }[] } | null;
}
interface CheckView {
  id: string;
  state: { status: string; reason: string; summary: string } | null;
}
interface ResultView {
  status: string;
  reason: string;
  summary: string;
  metrics: { name: string; value: number; unit: string; labels?: Record<string, string> }[];
}

/**
 * examples/plugins/modality-disk as it is deployed: built from a freshly packed SDK (its own spec
 * and type check pass), copied into a real agent's plugins.dir, and checking a vendor API the test
 * serves; its results and metrics reach a real collector over gRPC.
 */
describe('example plugin modality-disk', { timeout: 300_000 }, () => {
  let dir: string;
  let vendor: Server;
  let vendorPort = 0;
  let collector: CollectorHandle;
  let agent: AgentHandle;

  before(async () => {
    dir = tempDir('example-plugin');
    ({ server: vendor, port: vendorPort } = await startModalityApi());
  });
  after(async () => {
    await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
    await new Promise((resolve) => vendor.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('it installs from the packed SDK without a registry, passes its own spec and type-checks', async () => {
    const tarball = await packPluginSdk(join(dir, 'pack'));
    const folder = copyModalityDisk(join(dir, 'plugins'), tarball);

    await installTestTypecheck(folder, 9);
  });

  test('a real agent loads it and its results, with free_bytes and used_ratio per volume, reach the collector', async () => {
    collector = await startCollector();
    agent = await startAgent('modality', { pluginDir: join(dir, 'plugins') });
    assert.match(agent.proc.output, /loaded plugin modality-disk 1\.0\.0 from /);
    const added = await collector.api('POST', '/api/v1/agents', { name: 'modality', enrol: agent.enrolment });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const described = await waitFor('the agent described with modality-disk', async () =>
      (await collector.api<AgentView>('GET', '/api/v1/agents/modality')).body.agent?.plugins.find((p) => p.name === 'modality-disk'),
    );
    assert.equal(described.version, '1.0.0');

    const config = { host: '127.0.0.1', port: vendorPort, tls: false, username: MODALITY_API.username, password: MODALITY_API.password };
    const created = await collector.api<CheckView>('POST', '/api/v1/checks', {
      agent: 'modality',
      name: 'ct1-disk',
      plugin: 'modality-disk',
      intervalMs: 1000,
      timeoutMs: 800,
      config,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;

    const [last] = await waitFor('a result of ct1-disk', async () => {
      const res = await collector.api<ResultView[]>('GET', `/api/v1/checks/${id}/results?limit=1`);
      return res.body.length > 0 ? res.body : undefined;
    });
    assert.equal(last!.status, 'WARNING', last!.summary);
    assert.equal(last!.reason, 'threshold');
    assert.equal(last!.summary, 'images 85.0% used (150.0 GiB free); system 40.0% used (60.0 GiB free)');
    const value = (name: string, volume: string) => last!.metrics.find((m) => m.name === name && m.labels?.volume === volume)?.value;
    assert.equal(value('free_bytes', 'images'), 150 * GIB);
    assert.equal(value('used_ratio', 'system'), 0.4);
    const state = (await collector.api<CheckView>('GET', `/api/v1/checks/${id}`)).body.state;
    assert.equal(state?.status, 'WARNING');
  });

  test('the collector validates a check of it against the schema the agent reported, and keeps its password out of the API', async () => {
    const refused = await collector.api<{ errors: { field: string; message: string }[] }>('POST', '/api/v1/checks', {
      agent: 'modality',
      name: 'ct2-disk',
      plugin: 'modality-disk',
      intervalMs: 1000,
      timeoutMs: 800,
      config: { host: '127.0.0.1', username: 'rounds-monitor', password: 's3cret', pasword: 'typo' },
    });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.ok(
      refused.body.errors.some((e) => e.field === 'config.pasword'),
      JSON.stringify(refused.body.errors),
    );
    const checks = JSON.stringify((await collector.api<unknown>('GET', '/api/v1/checks')).body);
    assert.match(checks, /ct1-disk/);
    assert.doesNotMatch(checks, /s3cret/);
  });
});
