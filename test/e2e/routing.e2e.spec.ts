import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer } from 'node:net';
import { freePort, sleep, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';
import { startWebhookReceiver } from '../peers/webhook.js';
import { startSmtp, type TestSmtp } from '../peers/smtp.js';

interface RoutingBody {
  policies: { policy: string; matched: boolean; why: string }[];
  routes: string[];
  steps: { policy: string; step: number; status: string; note: string | null; channels: { name: string }[] }[];
  notified: { name: string }[];
}

/** "HH:MM" in UTC, `minutes` from now. */
const hhmm = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().slice(11, 16);
const EVERY_DAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * Routing and escalation with real processes, an accelerated timeline (steps of seconds): a
 * policy whose hours contain now takes the alert, one whose hours do not stays silent; the day
 * team's webhook hears it at once, an SMTP server when nobody acknowledged after 4 s; the
 * acknowledgement cancels the last step; "resolved" goes to exactly those two.
 */
describe('routing: escalation by steps and routing by time of day', { timeout: 180_000 }, () => {
  let day: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let night: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let smtp: TestSmtp;
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let fingerprint = '';
  let port = 0;

  const accepted = (receiver: typeof day, kind: string) => receiver.deliveries.filter((d) => d.answered === 200 && d.kind === kind);
  const mails = (kind: string) => smtp.received.filter((m) => m.raw.includes(`[${kind}]`));
  const routing = async () => (await collector.api<RoutingBody>('GET', `/api/v1/alerts/${fingerprint}/routing`)).body;

  before(async () => {
    [day, night, smtp] = await Promise.all([startWebhookReceiver(), startWebhookReceiver(), startSmtp({ authOptional: true, disabledCommands: ['STARTTLS'] })]);
    collector = await startCollector({ ROUNDS_NOTIFY_RETRY_MS: '500', ROUNDS_NOTIFY_MAX_RETRY_MS: '1000' });
    agent = await startAgent('pacs-01');
    assert.equal((await collector.api('POST', '/api/v1/agents', { name: agent.name, enrol: agent.enrolment })).status, 201);
    const channels = [
      { name: 'day hook', type: 'webhook', config: { url: day.url } },
      { name: 'night hook', type: 'webhook', config: { url: night.url } },
      {
        name: 'escalation mail',
        type: 'smtp',
        config: { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'rounds@hospital.example', to: ['pacs-admin@hospital.example'] },
      },
    ];
    for (const channel of channels) assert.equal((await collector.api('POST', '/api/v1/channels', channel)).status, 201, channel.name);
    // A window around now, and one two hours away (both in UTC, every day).
    const inHours = {
      name: 'in hours',
      matchers: ['check="Archive port"'],
      time: { timeZone: 'UTC', days: EVERY_DAY, from: hhmm(-60), to: hhmm(60) },
      steps: [
        { after: '0s', targets: [{ channel: 'day hook' }] },
        { after: '4s', targets: [{ channel: 'escalation mail' }] },
        { after: '10m', targets: [{ channel: 'night hook' }] },
      ],
    };
    const outOfHours = {
      ...inHours,
      name: 'out of hours',
      time: { timeZone: 'UTC', days: EVERY_DAY, from: hhmm(120), to: hhmm(180) },
      steps: [{ after: '0s', targets: [{ channel: 'night hook' }] }],
    };
    for (const policy of [outOfHours, inHours]) {
      const made = await collector.api('POST', '/api/v1/notification-policies', policy);
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
    // A port nobody listens on: the check fails from its first run.
    port = await freePort();
    const check = await collector.api('POST', '/api/v1/checks', {
      agent: agent.name,
      name: 'Archive port',
      plugin: 'tcp',
      config: { host: '127.0.0.1', port },
      intervalMs: 1000,
      timeoutMs: 1000,
    });
    assert.equal(check.status, 201, JSON.stringify(check.body));
  });

  after(async () => {
    await collector?.proc.stop();
    await agent?.proc.stop();
    await Promise.all([day?.close(), night?.close(), smtp?.close()]);
  });

  it('the policy whose hours contain now takes the alert: the day hook hears it at once, the mail after 4 s unacknowledged', async () => {
    const firing = await waitFor('a "firing" on the day hook', () => accepted(day, 'firing')[0], 60_000);
    const firedAt = Date.now();
    assert.equal(firing.check, 'Archive port');
    fingerprint = await waitFor(
      'the firing alert',
      async () => (await collector.api<{ fingerprint: string; state: string }[]>('GET', '/api/v1/alerts')).body.find((a) => a.state === 'firing')?.fingerprint,
    );
    assert.equal(mails('FIRING').length, 0, 'not mailed before its step is due');
    await waitFor('the escalation mail', () => mails('FIRING')[0], 30_000);
    assert.ok(Date.now() - firedAt >= 3000, `mailed ${Date.now() - firedAt} ms after the webhook: the step waits its 4 s`);

    const body = await routing();
    assert.deepEqual(body.routes, ['in hours']);
    const outside = body.policies.find((p) => p.policy === 'out of hours')!;
    assert.equal(outside.matched, false);
    assert.match(outside.why, /^outside the policy's hours sun–sat \d\d:\d\d–\d\d:\d\d UTC$/);
    assert.deepEqual(
      body.steps.map((s) => `${s.step} ${s.status} ${s.channels.map((c) => c.name).join(',')}`),
      ['0 sent day hook', '1 sent escalation mail', '2 pending night hook'],
    );
  });

  it('an acknowledgement cancels the step still to come; "resolved" reaches the day hook and the mail, never the night hook', async () => {
    const ack = await collector.api('POST', `/api/v1/alerts/${fingerprint}/ack`, { comment: 'on it', by: 'ana' });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    const cancelled = await waitFor('the last step cancelled', async () => {
      const step = (await routing()).steps[2];
      return step?.status === 'cancelled' ? step : undefined;
    });
    assert.equal(cancelled.note, 'acknowledged by ana');
    // Something listens on the port again: the check recovers.
    const server = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await waitFor('"resolved" on the day hook', () => accepted(day, 'resolved')[0], 60_000);
      await waitFor('"resolved" by mail', () => mails('RESOLVED')[0], 30_000);
      await sleep(2000);
      assert.deepEqual(night.deliveries, [], 'the night hook heard nothing: its policy was out of hours and the step that named it was cancelled');
      assert.equal(accepted(day, 'firing').length, 1);
      assert.equal(mails('FIRING').length, 1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
