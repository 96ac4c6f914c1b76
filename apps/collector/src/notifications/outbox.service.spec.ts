import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock, REDACTED, systemClock, type Clock } from '#rounds/common';
import { ChannelsRepository } from './channels.repository.js';
import { createDataSource } from '../storage/data-source.js';
import { AlertmanagerNotifier } from './notifiers/alertmanager.notifier.js';
import { startReceiver, type HttpReceiver } from './notifiers/notifier-testing.js';
import { OutboxRepository } from './outbox.repository.js';
import { SmtpNotifier } from './notifiers/smtp.notifier.js';
import { TelegramNotifier } from './notifiers/telegram.notifier.js';
import { openTestDatabase } from '../storage/testing.js';
import { WebhookNotifier } from './notifiers/webhook.notifier.js';
import type { ChannelConfig } from './channel-config.js';
import { channelView } from './channels.service.js';
import type { NotificationMessage } from './message.js';
import { NotifierError } from './notifier.js';
import { Notifiers } from './notifiers.js';
import { backoffMs, OutboxService, outboxKey, type OutboxOptions } from './outbox.service.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const T0 = 1_700_000_000_000;
const BOT_TOKEN = '123456:secret-bot-token-abc';

const message = (key: string, kind: NotificationMessage['kind'] = 'firing'): NotificationMessage => ({
  key,
  kind,
  severity: 'critical',
  title: 'PACS web is CRITICAL',
  checkName: 'PACS web',
  agentName: 'pacs-01',
  since: T0 - 60_000,
  reason: 'timeout',
  summary: 'no answer',
  labels: {},
});

/** Stands in for the transports: records what it was asked to send and fails as scripted. */
class ScriptedNotifiers {
  sent: { channel: ChannelConfig; message: NotificationMessage }[] = [];
  failWith: Error | undefined;

  async send(channel: ChannelConfig, m: NotificationMessage): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.sent.push({ channel, message: m });
  }
}

const realNotifiers = () => new Notifiers(new SmtpNotifier(), new TelegramNotifier(), new WebhookNotifier(), new AlertmanagerNotifier());

describe('OutboxService', () => {
  let db: Db;
  let clock: ManualClock;
  let channels: ChannelsRepository;
  let outboxRepo: OutboxRepository;
  let notifiers: ScriptedNotifiers;
  let outbox: OutboxService;
  let channelId: string;

  const make = (options: Partial<OutboxOptions> = {}, c: Clock = clock) =>
    new OutboxService(outboxRepo, channels, notifiers as unknown as Notifiers, c, options);
  const row = async (key: string, channel = channelId) => (await outboxRepo.findByKey(outboxKey(key, channel)))!;
  const channel = async (id = channelId) => (await channels.findById(id))!;

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(T0);
    channels = new ChannelsRepository(db.dataSource);
    outboxRepo = new OutboxRepository(db.dataSource);
    notifiers = new ScriptedNotifiers();
    outbox = make();
    channelId = (await channels.create({ name: 'it-telegram', type: 'telegram', config: { botToken: BOT_TOKEN, chatId: 42 } }, T0)).id;
  });
  afterEach(() => db.close());

  it('enqueue() stores one pending row per enabled channel, and enqueueing the same notification again stores nothing', async () => {
    const second = (await channels.create({ name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } }, T0)).id;
    await channels.create({ name: 'off', type: 'webhook', config: { url: 'http://127.0.0.1:9/' }, enabled: false }, T0);
    assert.deepEqual((await outbox.enqueue(message('a-1:firing'))).sort(), [outboxKey('a-1:firing', channelId), outboxKey('a-1:firing', second)].sort());
    assert.deepEqual(await outbox.enqueue(message('a-1:firing')), []);
    assert.deepEqual(await outbox.enqueue(message('a-1:firing'), [channelId]), []);
    const counts = await outboxRepo.counts();
    assert.deepEqual(counts.map((c) => [c.channelId === channelId ? 'telegram' : 'hook', c.status, c.count]).sort(), [
      ['hook', 'pending', 1],
      ['telegram', 'pending', 1],
    ]);
    const r = await row('a-1:firing');
    assert.equal(r.status, 'pending');
    assert.equal(r.attempts, 0);
    assert.equal(r.nextAttemptAt, T0);
    assert.deepEqual(JSON.parse(r.payloadJson), message('a-1:firing'));
  });

  it('deliverDue() sends each due notification once with the parsed channel config and marks it sent', async () => {
    await outbox.enqueue(message('a-1:firing'));
    assert.deepEqual(await outbox.deliverDue(), { claimed: 1, sent: 1, retrying: 0, dead: 0, dropped: 0 });
    assert.equal(notifiers.sent.length, 1);
    assert.deepEqual(notifiers.sent[0]!.channel, {
      type: 'telegram',
      config: { baseUrl: 'https://api.telegram.org', botToken: BOT_TOKEN, chatId: 42, silent: false },
    });
    assert.equal(notifiers.sent[0]!.message.key, 'a-1:firing');
    const r = await row('a-1:firing');
    assert.equal(r.status, 'sent');
    assert.equal(r.sentAt, T0);
    assert.equal(r.attempts, 1);
    assert.equal((await outbox.deliverDue()).claimed, 0);
    assert.equal(notifiers.sent.length, 1);
    assert.equal((await channel()).lastSuccessAt, T0);
    assert.equal(channelView(await channel()).state, 'ok');
  });

  it('backoff doubles from 30 s and is capped at one hour', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map((n) => backoffMs(n)),
      [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000],
    );
  });

  it('a failing send is retried with exponential backoff, not before it is due, and is dead after the last attempt', async () => {
    outbox = make({ maxAttempts: 10 });
    notifiers.failWith = new Error('Telegram refused the message: Bad Gateway');
    await outbox.enqueue(message('a-1:firing'));
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 9; attempt++) {
      const report = await outbox.deliverDue();
      assert.deepEqual(report, { claimed: 1, sent: 0, retrying: 1, dead: 0, dropped: 0 }, `attempt ${attempt}`);
      const r = await row('a-1:firing');
      assert.equal(r.attempts, attempt);
      assert.equal(r.status, 'pending');
      assert.equal(r.lastError, 'Telegram refused the message: Bad Gateway');
      const delay = r.nextAttemptAt - clock.now();
      delays.push(delay);
      await clock.advance(delay - 1);
      assert.equal((await outbox.deliverDue()).claimed, 0, 'nothing is sent before it is due');
      await clock.advance(1);
    }
    assert.deepEqual(delays, [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
    assert.deepEqual(await outbox.deliverDue(), { claimed: 1, sent: 0, retrying: 0, dead: 1, dropped: 0 });
    const dead = await row('a-1:firing');
    assert.equal(dead.status, 'dead');
    assert.equal(dead.attempts, 10);
    await clock.advance(10 * 3_600_000);
    assert.equal((await outbox.deliverDue()).claimed, 0, 'a dead notification is not tried again');
    assert.equal(notifiers.sent.length, 0);
  });

  it('a channel that keeps failing is shown as failing since its first failure, with its last error; a success clears it', async () => {
    await outbox.enqueue(message('a-1:firing'));
    notifiers.failWith = new Error('cannot reach https://api.telegram.org: host name not found (DNS)');
    await outbox.deliverDue();
    await clock.advance(30_000);
    notifiers.failWith = new Error('cannot reach https://api.telegram.org: connection refused');
    await outbox.deliverDue();
    let view = channelView(await channel(), await outboxRepo.counts());
    assert.equal(view.state, 'failing');
    assert.equal(view.failingSince, T0);
    assert.equal(view.lastError, 'cannot reach https://api.telegram.org: connection refused');
    assert.deepEqual(view.outbox, { pending: 1, sent: 0, dead: 0 });

    notifiers.failWith = undefined;
    await clock.advance(60_000);
    await outbox.deliverDue();
    view = channelView(await channel(), await outboxRepo.counts());
    assert.equal(view.state, 'ok');
    assert.equal(view.lastError, null);
    assert.equal(view.failingSince, null);
    assert.equal(view.lastSuccessAt, T0 + 90_000);
    assert.deepEqual(view.outbox, { pending: 0, sent: 1, dead: 0 });
  });

  it('waits as long as the peer asked (Retry-After) when that is longer than the backoff', async () => {
    notifiers.failWith = new NotifierError('Telegram refused the message: Too Many Requests', 300_000);
    await outbox.enqueue(message('a-1:firing'));
    await outbox.deliverDue();
    assert.equal((await row('a-1:firing')).nextAttemptAt, T0 + 300_000);
  });

  it('a resolved notification never overtakes the firing one still waiting for its retry on the same channel', async () => {
    const other = (await channels.create({ name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } }, T0)).id;
    notifiers.failWith = new Error('down');
    await outbox.enqueue(message('a-1:firing'), [channelId]);
    await outbox.deliverDue();
    notifiers.failWith = undefined;
    await clock.advance(1000);
    await outbox.enqueue(message('a-1:resolved', 'resolved'));
    const report = await outbox.deliverDue();
    assert.equal(report.sent, 1, 'only the other channel gets it now');
    assert.deepEqual(
      notifiers.sent.map((s) => [s.channel.type, s.message.key]),
      [['webhook', 'a-1:resolved']],
    );
    assert.equal((await row('a-1:resolved', channelId)).status, 'pending');
    assert.equal((await row('a-1:resolved', other)).status, 'sent');
    // Due, but behind the firing: the loop sleeps until the firing's retry instead of waking at once, over and over.
    assert.equal(await outboxRepo.nextDueAt(), T0 + 30_000);

    await clock.advance(30_000);
    await outbox.deliverDue();
    assert.deepEqual(
      notifiers.sent.map((s) => [s.channel.type, s.message.key]),
      [
        ['webhook', 'a-1:resolved'],
        ['telegram', 'a-1:firing'],
        ['telegram', 'a-1:resolved'],
      ],
    );
  });

  it('notifications behind a failed one on the same channel fail with it rather than being sent out of order', async () => {
    await outbox.enqueue(message('a-1:firing'));
    await outbox.enqueue(message('a-2:firing'));
    notifiers.failWith = new Error('down');
    assert.deepEqual(await outbox.deliverDue(), { claimed: 2, sent: 0, retrying: 2, dead: 0, dropped: 0 });
    assert.equal((await row('a-2:firing')).attempts, 1);
    assert.equal((await row('a-2:firing')).nextAttemptAt, T0 + 30_000);
    notifiers.failWith = undefined;
    await clock.advance(30_000);
    assert.equal((await outbox.deliverDue()).sent, 2);
    assert.deepEqual(
      notifiers.sent.map((s) => s.message.key),
      ['a-1:firing', 'a-2:firing'],
    );
  });

  it('a notification for a channel disabled before delivery is dropped, not sent, and does not mark the channel failing', async () => {
    await outbox.enqueue(message('a-1:firing'));
    await channels.update(channelId, { enabled: false });
    assert.deepEqual(await outbox.deliverDue(), { claimed: 1, sent: 0, retrying: 0, dead: 0, dropped: 1 });
    const r = await row('a-1:firing');
    assert.equal(r.status, 'dead');
    assert.equal(r.lastError, 'not sent: the channel was disabled before delivery');
    assert.equal((await channel()).failingSince, null);
    assert.equal(notifiers.sent.length, 0);
  });

  it('a secret echoed in an error is scrubbed before the error is stored', async () => {
    notifiers.failWith = new Error(`request to https://api.telegram.org/bot${BOT_TOKEN}/sendMessage failed`);
    await outbox.enqueue(message('a-1:firing'));
    await outbox.deliverDue();
    const stored = [(await row('a-1:firing')).lastError, (await channel()).lastError];
    for (const error of stored) {
      assert.equal(error, `request to https://api.telegram.org/bot${REDACTED}/sendMessage failed`);
    }
  });

  it('a taken notification is leased: a second deliverer does not take it until the lease runs out', async () => {
    await outbox.enqueue(message('a-1:firing'));
    assert.equal((await outboxRepo.claimDue(T0, 10, 120_000)).length, 1);
    assert.equal((await outboxRepo.claimDue(T0 + 119_999, 10, 120_000)).length, 0);
    assert.equal((await outboxRepo.claimDue(T0 + 120_000, 10, 120_000)).length, 1);
  });

  it('prune() forgets sent notifications older than the retention, keeping pending ones', async () => {
    await outbox.enqueue(message('a-1:firing'));
    await outbox.deliverDue();
    await outbox.enqueue(message('a-2:firing'), [channelId]);
    notifiers.failWith = new Error('down');
    assert.equal(await outboxRepo.prune(T0 + 1), 1);
    assert.equal(await outboxRepo.findByKey(outboxKey('a-1:firing', channelId)), null);
    assert.ok(await outboxRepo.findByKey(outboxKey('a-2:firing', channelId)));
  });

  it('notifications enqueued in the same millisecond are delivered in the order they were enqueued', async () => {
    for (let i = 0; i < 20; i++) await outbox.enqueue(message(`a-${i}:firing`));
    await outbox.deliverDue();
    assert.deepEqual(
      notifiers.sent.map((s) => s.message.key),
      Array.from({ length: 20 }, (_, i) => `a-${i}:firing`),
    );
  });

  it('deleting a channel deletes its queued notifications', async () => {
    await outbox.enqueue(message('a-1:firing'));
    await channels.delete(channelId);
    assert.deepEqual(await outboxRepo.counts(), []);
    assert.equal((await outbox.deliverDue()).claimed, 0);
  });
});

describe('OutboxService across a collector restart', () => {
  let receiver: HttpReceiver;
  let db: Db;

  beforeEach(async () => {
    receiver = await startReceiver();
    receiver.reply = () => ({ status: 204 });
    db = await openTestDatabase();
  });
  afterEach(async () => {
    await db.close();
    await receiver.close();
  });

  it('a notification enqueued before a restart is delivered after it, exactly once', async () => {
    const clock = new ManualClock(T0);
    const channels = new ChannelsRepository(db.dataSource);
    const hook = await channels.create({ name: 'hook', type: 'webhook', config: { url: `${receiver.url}/hook`, hmacSecret: 'hmac-secret-123' } }, T0);
    const before = new OutboxService(new OutboxRepository(db.dataSource), channels, realNotifiers(), clock);
    assert.equal((await before.enqueue(message('a-1:firing'))).length, 1);
    // The collector stops before the loop ran: nothing was sent.
    await db.dataSource.destroy();
    assert.equal(receiver.received.length, 0);

    const reopened = createDataSource(db.config);
    await reopened.initialize();
    try {
      const after = new OutboxService(new OutboxRepository(reopened), new ChannelsRepository(reopened), realNotifiers(), clock);
      // The alert engine re-evaluating after the restart enqueues the same notification again.
      assert.deepEqual(await after.enqueue(message('a-1:firing')), []);
      assert.equal((await after.deliverDue()).sent, 1);
      await clock.advance(3_600_000);
      assert.equal((await after.deliverDue()).claimed, 0);
      assert.equal(receiver.received.length, 1);
      assert.equal(receiver.received[0]!.path, '/hook');
      assert.equal(receiver.received[0]!.headers['x-rounds-key'], 'a-1:firing');
      assert.equal((JSON.parse(receiver.received[0]!.body) as { key: unknown }).key, 'a-1:firing');
      assert.equal((await new OutboxRepository(reopened).findByKey(outboxKey('a-1:firing', hook.id)))!.status, 'sent');
    } finally {
      await reopened.destroy();
    }
  });

  it('the running loop delivers an enqueued notification at once and stop() waits for the round in progress', async () => {
    const channels = new ChannelsRepository(db.dataSource);
    await channels.create({ name: 'hook', type: 'webhook', config: { url: `${receiver.url}/hook` } });
    const outbox = new OutboxService(new OutboxRepository(db.dataSource), channels, realNotifiers(), systemClock, { idlePollMs: 60_000 });
    outbox.start();
    try {
      await outbox.enqueue(message('a-1:firing'));
      const until = Date.now() + 5000;
      while (receiver.received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal(receiver.received.length, 1);
    } finally {
      await outbox.stop();
    }
    await outbox.enqueue(message('a-2:firing'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(receiver.received.length, 1, 'a stopped loop sends nothing');
  });
});
