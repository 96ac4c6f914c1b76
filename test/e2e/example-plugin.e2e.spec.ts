import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ROOT, startAgent, startCollector, tempDir, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';
import { installTestTypecheck, packPluginSdk } from './plugin-sdk.js';

const EXAMPLE = join(ROOT, 'examples', 'plugins', 'modality-disk');
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
  const auth = `Basic ${Buffer.from('rounds-monitor:s3cret').toString('base64')}`;
  const volumes = [
    { name: 'images', totalBytes: 1000 * GIB, freeBytes: 150 * GIB },
    { name: 'system', totalBytes: 100 * GIB, freeBytes: 60 * GIB },
  ];

  before(async () => {
    dir = tempDir('example-plugin');
    vendor = createServer((req, res) => {
      if (req.url !== '/service/api/v2/storage') return void res.writeHead(404).end();
      if (req.headers.authorization !== auth) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ volumes }));
    });
    await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
    vendorPort = (vendor.address() as { port: number }).port;
  });
  after(async () => {
    await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
    await new Promise((resolve) => vendor.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('it installs from the packed SDK without a registry, passes its own spec and type-checks', async () => {
    const tarball = await packPluginSdk(join(dir, 'pack'));
    const folder = join(dir, 'plugins', 'modality-disk');
    cpSync(EXAMPLE, folder, { recursive: true, filter: (src) => !src.includes('node_modules') });
    const pkgPath = join(folder, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { dependencies: Record<string, string> };
    assert.match(pkg.dependencies['@rounds/plugin-sdk']!, /^file:.*rounds-plugin-sdk-\d+\.\d+\.\d+\.tgz$/);
    pkg.dependencies['@rounds/plugin-sdk'] = `file:${tarball}`;
    writeFileSync(pkgPath, JSON.stringify(pkg));

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

    const config = { host: '127.0.0.1', port: vendorPort, tls: false, username: 'rounds-monitor', password: 's3cret' };
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
