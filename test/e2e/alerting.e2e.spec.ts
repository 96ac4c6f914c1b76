import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { freePort, sleep, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';
import { startWebhookReceiver, type Delivery } from '../peers/webhook.js';

/**
 * The promise, with real processes: a problem confirmed by the hard-state count is
 * announced once, a notification that could not be delivered when the collector was killed
 * is delivered after the restart — exactly once — and the recovery is announced.
 */
describe('alerting: a collector, an agent and a webhook receiver', { timeout: 240_000 }, () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let archivePort: number;
  let archive: TcpServer | undefined;
  let firstFiring: Delivery;

  const accepted = (kind: string, check: string) => receiver.deliveries.filter((d) => d.answered === 200 && d.kind === kind && d.check === check);

  before(async () => {
    receiver = await startWebhookReceiver();
    // Retries after 0.5 s, at most 1 s apart, so the test does not wait out production backoff.
    collector = await startCollector({ ROUNDS_NOTIFY_RETRY_MS: '500', ROUNDS_NOTIFY_MAX_RETRY_MS: '1000' });
    agent = await startAgent('imaging');
    const added = await collector.api('POST', '/api/v1/agents', { name: agent.name, enrol: agent.enrolment });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const channel = await collector.api('POST', '/api/v1/channels', { name: 'on-call hook', type: 'webhook', config: { url: receiver.url } });
    assert.equal(channel.status, 201, JSON.stringify(channel.body));
    archivePort = await freePort();
  });

  after(async () => {
    await collector?.proc.stop();
    await agent?.proc.stop();
    await receiver?.close();
    await new Promise((resolve) => (archive ? archive.close(resolve) : resolve(undefined)));
  });

  it('a tcp check against a closed port fires once, after the hard-state count, with the check name and reason', async () => {
    const check = await collector.api<{ id: string }>('POST', '/api/v1/checks', {
      agent: agent.name,
      name: 'Archive DICOM port',
      plugin: 'tcp',
      config: { host: '127.0.0.1', port: archivePort },
      intervalMs: 1000,
      timeoutMs: 1000,
    });
    assert.equal(check.status, 201, JSON.stringify(check.body));

    firstFiring = await waitFor('a "firing" for Archive DICOM port', () => accepted('firing', 'Archive DICOM port')[0], 60_000);
    const results = await collector.api<{ status: string }[]>('GET', `/api/v1/checks/${check.body.id}/results?limit=100`);
    assert.ok(results.body.filter((r) => r.status !== 'OK').length >= 3, 'not before 3 failed results (the default hard-state count)');
    assert.equal(firstFiring.reason, 'refused');
    assert.match(firstFiring.text, /Archive DICOM port on imaging is CRITICAL/);
    assert.equal(firstFiring.labels.alertname, 'CheckStatus');

    const alerts = await collector.api<{ name: string; state: string; labels: Record<string, string> }[]>('GET', '/api/v1/alerts');
    assert.deepEqual(
      alerts.body.map((a) => [a.name, a.state, a.labels.check]),
      [['CheckStatus', 'firing', 'Archive DICOM port']],
    );
    await sleep(2500);
    assert.equal(accepted('firing', 'Archive DICOM port').length, 1, 'still failing: no second "firing"');
  });

  it('a notification still undelivered when the collector is SIGKILLed is delivered after the restart, exactly once', async () => {
    receiver.status = 503;
    const secondPort = await freePort();
    const check = await collector.api('POST', '/api/v1/checks', {
      agent: agent.name,
      name: 'Viewer port',
      plugin: 'tcp',
      config: { host: '127.0.0.1', port: secondPort },
      intervalMs: 1000,
      timeoutMs: 1000,
    });
    assert.equal(check.status, 201, JSON.stringify(check.body));

    // The second alert fires, the receiver refuses it, and the outbox has recorded the failure: kill.
    const refused = await waitFor(
      'the receiver to refuse a "firing" for Viewer port',
      () => receiver.deliveries.find((d) => d.check === 'Viewer port' && d.answered === 503),
      60_000,
    );
    await collector.proc.waitForOutput(new RegExp(`notification ${refused.key.replace(/[/.]/g, '\\$&')}@\\S+ not delivered`));
    await collector.proc.kill();
    assert.equal(accepted('firing', 'Viewer port').length, 0);

    await collector.start();
    receiver.status = 200;
    const delivered = await waitFor('the pending "firing" for Viewer port after the restart', () => accepted('firing', 'Viewer port')[0], 60_000);
    assert.equal(delivered.key, refused.key, 'the same notification, not a new one');
    await sleep(3000);

    assert.equal(accepted('firing', 'Viewer port').length, 1, 'delivered once');
    assert.equal(accepted('firing', 'Archive DICOM port').length, 1, 'the first alert is not announced again after the restart');
    const keys = receiver.deliveries.filter((d) => d.answered === 200).map((d) => d.key);
    assert.deepEqual(keys, [...new Set(keys)], 'every accepted X-Rounds-Key is unique');
  });

  it('the target starts listening: "resolved" arrives once, with the labels of the "firing"', async () => {
    archive = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => archive!.listen(archivePort, '127.0.0.1', resolve));
    const resolved = await waitFor('a "resolved" for Archive DICOM port', () => accepted('resolved', 'Archive DICOM port')[0], 60_000);
    assert.deepEqual(resolved.labels, firstFiring.labels);
    assert.match(resolved.text, /RESOLVED/);
    await sleep(2000);
    assert.equal(accepted('resolved', 'Archive DICOM port').length, 1);

    const history = await collector.api<{ transition: string; details: { labels?: Record<string, string> } }[]>('GET', '/api/v1/alerts/history?limit=100');
    const archiveLines = history.body
      .filter((h) => h.details.labels?.check === 'Archive DICOM port')
      .map((h) => h.transition)
      .reverse();
    assert.deepEqual(archiveLines, ['pending', 'firing', 'notified', 'resolved', 'notified']);
  });
});
