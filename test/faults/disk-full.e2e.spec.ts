import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { mountSmallDisk, type SmallDisk } from '../peers/small-disk.js';
import { sqliteOnly } from '../../apps/collector/src/storage/testing.js';
import { startWebhookReceiver } from '../peers/webhook.js';
import { sleep, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from '../e2e/harness.js';

interface ResultView {
  seq: number;
}
interface AgentView {
  ackSeq: number;
  checksInSync: boolean;
}

const CHECKS = 8;

/**
 * Every sequence number an agent handed out is stored exactly once: the collector's
 * results have no gap and no duplicate from 1 to the agent's last seq, and the ack the
 * collector holds is that last seq.
 */
async function accountForEverySeq(collector: CollectorHandle, agentName: string, checkIds: string[]): Promise<number> {
  // Stop producing, then wait until the collector holds everything the agent measured.
  for (const id of checkIds) assert.equal((await collector.api('PATCH', `/api/v1/checks/${id}`, { enabled: false })).status, 200);
  let lastAck = -1;
  await waitFor(
    'the ack to settle after the checks were disabled',
    async () => {
      const agent = (await collector.api<AgentView[]>('GET', '/api/v1/agents')).body.find((a) => (a as unknown as { name: string }).name === agentName)!;
      const settled = agent.checksInSync && agent.ackSeq === lastAck && agent.ackSeq > 0;
      lastAck = agent.ackSeq;
      if (!settled) await sleep(1500);
      return settled;
    },
    60_000,
  );
  const lists = await Promise.all(checkIds.map((id) => collector.api<ResultView[]>('GET', `/api/v1/checks/${id}/results?limit=10000`)));
  for (const list of lists) assert.equal(list.status, 200, JSON.stringify(list.body));
  const seqs = lists
    .flatMap((list) => list.body)
    .map((r) => r.seq)
    .filter((s) => s > 0)
    .sort((a, b) => a - b);
  const duplicates = seqs.filter((s, i) => i > 0 && seqs[i - 1] === s);
  const missing: number[] = [];
  for (let s = 1, i = 0; s <= lastAck; s++) {
    while (i < seqs.length && seqs[i]! < s) i++;
    if (seqs[i] !== s) missing.push(s);
  }
  assert.deepEqual(duplicates, [], 'results stored twice');
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} results lost`);
  assert.equal(seqs.at(-1), lastAck, 'the ack names the last stored seq');
  return lastAck;
}

async function addChecks(collector: CollectorHandle, agent: AgentHandle, port: number): Promise<string[]> {
  const added = await collector.api('POST', '/api/v1/agents', { name: agent.name, enrol: agent.enrolment });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const ids: string[] = [];
  for (let i = 0; i < CHECKS; i++) {
    const res = await collector.api<{ id: string }>('POST', '/api/v1/checks', {
      agent: agent.name,
      name: `port ${i}`,
      plugin: 'tcp',
      config: { host: '127.0.0.1', port },
      intervalMs: 1000,
      timeoutMs: 1000,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  return ids;
}

const ackOf = async (collector: CollectorHandle) => (await collector.api<AgentView[]>('GET', '/api/v1/agents')).body[0]!.ackSeq;
const healthz = async (collector: CollectorHandle) => {
  const res = await fetch(`${collector.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { status: string; error?: string } };
};

describe('the collector on a disk that fills up', { timeout: 240_000, skip: sqliteOnly('fills the file system under the SQLite file') }, () => {
  let target: Server;
  let port: number;
  let disk: SmallDisk;
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let checkIds: string[];
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

  before(async () => {
    target = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    port = (target.address() as { port: number }).port;
    receiver = await startWebhookReceiver();
    disk = mountSmallDisk(16 * 1024 * 1024);
    collector = await startCollector({ ROUNDS_DATA_DIR: join(disk.dir, 'data'), ROUNDS_STORAGE_ALERT_AFTER_MS: '1500' });
    agent = await startAgent('pacs');
    const channel = await collector.api('POST', '/api/v1/channels', { name: 'on-call hook', type: 'webhook', config: { url: receiver.url } });
    assert.equal(channel.status, 201, JSON.stringify(channel.body));
    checkIds = await addChecks(collector, agent, port);
  });

  after(async () => {
    await Promise.all([collector?.proc.stop(), agent?.proc.stop(), receiver?.close()]);
    disk?.unmount();
    await new Promise((resolve) => target?.close(resolve));
  });

  test('stops acknowledging while the disk is full, says why, resumes by itself, survives kill -9 while full, and stores every result once', async () => {
    await waitFor('results stored', async () => (await ackOf(collector)) >= 3 * CHECKS);

    disk.fill();
    const failing = await waitFor('/healthz to answer 503', async () => {
      const h = await healthz(collector);
      return h.status === 503 ? h.body : undefined;
    });
    assert.match(
      failing.error ?? '',
      /^storage failing since .* \(disk full: SQLITE_FULL: database or disk is full; \d+ failed writes\): results are not acknowledged and stay on the agents — free disk space for .*\/data \(ROUNDS_DATA_DIR\)/,
    );
    // Free space is measured when an episode starts, so it is there by the next scrape.
    const metrics = await waitFor('/metrics to report no free space', async () => {
      const text = await (await fetch(`${collector.url}/metrics`)).text();
      return /^rounds_collector_storage_free_bytes 0$/m.test(text) ? text : undefined;
    });
    assert.match(metrics, /^rounds_collector_storage_up 0$/m);
    assert.match(metrics, /^rounds_collector_storage_failures_total\{kind="disk_full"\} [1-9]\d*$/m);
    const ackWhileFull = await ackOf(collector);
    await sleep(4000); // four polls, each handed ~32 results
    assert.equal(await ackOf(collector), ackWhileFull, 'the ack moved while nothing could be stored');

    // The outbox lives in the full database: this notification goes past it.
    const firing = await waitFor('the storage alert to reach the webhook', () => receiver.deliveries.find((d) => d.kind === 'firing'));
    assert.equal(firing.title, 'Rounds collector cannot store results');
    assert.equal(firing.labels.alertname, 'RoundsCollectorStorageFailing');
    assert.match(firing.text, /disk full: SQLITE_FULL/);

    disk.release();
    await waitFor('/healthz to answer 200 again', async () => (await healthz(collector)).status === 200);
    const resolved = await waitFor('the storage alert to resolve', () => receiver.deliveries.find((d) => d.kind === 'resolved'));
    assert.equal(resolved.key, firing.key.replace(/firing$/, 'resolved'));
    await waitFor('the results kept on the agent meanwhile to be stored', async () => (await ackOf(collector)) > ackWhileFull + 4 * CHECKS);
    const log = collector.proc.output;
    assert.equal(log.match(/storage failing since/g)?.length, 1, 'one log line per episode, not one per poll');
    assert.match(log, /storage works again after \d+ s \(\d+ failed writes\)/);
    assert.doesNotMatch(log, /cannot store the results of agent|alerting could not process|notification delivery round failed/);

    // The reported case: the disk fills, the collector dies, space comes back, it starts again.
    disk.fill();
    await waitFor('/healthz to answer 503 again', async () => (await healthz(collector)).status === 503);
    await sleep(3000);
    await collector.proc.kill();
    disk.release();
    await collector.start();
    await waitFor('storing to resume after the restart', async () => (await ackOf(collector)) > ackWhileFull + 8 * CHECKS);

    const last = await accountForEverySeq(collector, 'pacs', checkIds);
    assert.ok(last > ackWhileFull + 8 * CHECKS);
  });
});

describe("the agent's spool on a disk that fills up while the collector is away", { timeout: 240_000 }, () => {
  let target: Server;
  let disk: SmallDisk;
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let checkIds: string[];

  before(async () => {
    target = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const port = (target.address() as { port: number }).port;
    disk = mountSmallDisk(4 * 1024 * 1024);
    collector = await startCollector();
    agent = await startAgent('ward', { initArgs: ['--spool-dir', join(disk.dir, 'spool')] });
    checkIds = await addChecks(collector, agent, port);
  });

  after(async () => {
    await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
    disk?.unmount();
    await new Promise((resolve) => target?.close(resolve));
  });

  test('keeps what it measured in memory, and the collector, back, stores every result once', async () => {
    await waitFor('results stored', async () => (await ackOf(collector)) >= 2 * CHECKS);
    assert.equal(await collector.proc.stop(), 0);
    disk.fill();
    await agent.proc.waitForOutput(/spool/i);
    await sleep(5000); // ~40 results measured with nowhere to write them
    disk.release();
    await sleep(1500);
    await collector.start();
    await accountForEverySeq(collector, 'ward', checkIds);
    assert.ok((await ackOf(collector)) >= 2 * CHECKS + 5 * CHECKS, 'the results from the full-disk window were stored');
  });
});
