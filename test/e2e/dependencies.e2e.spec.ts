import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { freePort, sleep, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';
import { startWebhookReceiver } from '../peers/webhook.js';

const CHILDREN = ['PACS web', 'DICOM C-ECHO', 'HL7 listener'];

interface AlertBody {
  name: string;
  state: string;
  notified: boolean;
  labels: Record<string, string>;
  mutedBy: { type: string; parent?: { name: string } }[];
}

/**
 * An outage that notifies once, with real processes: a host port (the parent) and three
 * services behind it (children depending on it) go down together; receivers hear of the
 * parent only — the children's alerts are shown as suppressed — and of its recovery.
 */
describe('dependencies: one notification for an outage of a parent and its three children', { timeout: 180_000 }, () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let port: number;
  let target: TcpServer | undefined;

  const accepted = (kind: string, check: string) => receiver.deliveries.filter((d) => d.answered === 200 && d.kind === kind && d.check === check);
  const listen = async () => {
    target = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => target!.listen(port, '127.0.0.1', resolve));
  };
  const close = () => new Promise((resolve) => (target ? target.close(resolve) : resolve(undefined)));

  before(async () => {
    receiver = await startWebhookReceiver();
    collector = await startCollector({ ROUNDS_NOTIFY_RETRY_MS: '500', ROUNDS_NOTIFY_MAX_RETRY_MS: '1000' });
    agent = await startAgent('pacs-01');
    assert.equal((await collector.api('POST', '/api/v1/agents', { name: agent.name, enrol: agent.enrolment })).status, 201);
    assert.equal((await collector.api('POST', '/api/v1/channels', { name: 'on-call hook', type: 'webhook', config: { url: receiver.url } })).status, 201);
    port = await freePort();
    await listen();
    const tcp = (name: string, dependsOn: string[] = []) =>
      collector.api<{ id: string; dependsOn: string[] }>('POST', '/api/v1/checks', {
        agent: agent.name,
        name,
        plugin: 'tcp',
        config: { host: '127.0.0.1', port },
        intervalMs: 1000,
        timeoutMs: 1000,
        dependsOn,
      });
    assert.equal((await tcp('Host port')).status, 201);
    for (const child of CHILDREN) {
      const made = await tcp(child, [`check:${agent.name}/Host port`]);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.deepEqual(made.body.dependsOn, [`check:${agent.name}/Host port`]);
    }
    // All four up before the outage.
    await waitFor(
      'four OK checks',
      async () => {
        const checks = await collector.api<{ state: { status: string } | null }[]>('GET', '/api/v1/checks');
        return checks.body.length === 4 && checks.body.every((c) => c.state?.status === 'OK') ? true : undefined;
      },
      30_000,
    );
  });

  after(async () => {
    await collector?.proc.stop();
    await agent?.proc.stop();
    await receiver?.close();
    await close();
  });

  it('the port closes: one "firing" for the parent, none for the children, whose alerts fire suppressed by it', async () => {
    await close();
    target = undefined;
    await waitFor('a "firing" for Host port', () => accepted('firing', 'Host port')[0], 60_000);
    const alerts = await waitFor(
      'the children’s alerts firing',
      async () => {
        const body = (await collector.api<AlertBody[]>('GET', '/api/v1/alerts')).body;
        return body.filter((a) => a.state === 'firing').length === 4 ? body : undefined;
      },
      30_000,
    );
    for (const child of CHILDREN) {
      const alert = alerts.find((a) => a.labels.check === child)!;
      assert.equal(alert.notified, false, child);
      assert.deepEqual(
        alert.mutedBy.map((m) => [m.type, m.parent?.name]),
        [['dependency', 'Host port']],
        child,
      );
    }
    await sleep(3000);
    assert.equal(accepted('firing', 'Host port').length, 1, 'one "firing" for the parent');
    for (const child of CHILDREN) assert.deepEqual(accepted('firing', child), [], `no "firing" for ${child}`);
  });

  it('the port opens again: the parent’s "resolved" arrives, the children clear without a word', async () => {
    await listen();
    await waitFor('a "resolved" for Host port', () => accepted('resolved', 'Host port')[0], 60_000);
    await waitFor('no alerts left', async () => ((await collector.api<AlertBody[]>('GET', '/api/v1/alerts')).body.length === 0 ? true : undefined), 30_000);
    await sleep(2000);
    assert.deepEqual(
      receiver.deliveries.filter((d) => d.answered === 200).map((d) => `${d.kind} ${d.check}`),
      ['firing Host port', 'resolved Host port'],
    );
  });
});
