import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { ManualClock, systemClock } from '#rounds/common';
import { createDataSource } from '../storage/data-source.js';
import { openTestDatabase, TEST_ON_POSTGRES } from '../storage/testing.js';
import { ChannelsRepository } from './channels.repository.js';
import type { NotificationMessage } from './message.js';
import { AlertmanagerNotifier } from './notifiers/alertmanager.notifier.js';
import { startReceiver, type HttpReceiver } from './notifiers/notifier-testing.js';
import { SmtpNotifier } from './notifiers/smtp.notifier.js';
import { TelegramNotifier } from './notifiers/telegram.notifier.js';
import { WebhookNotifier } from './notifiers/webhook.notifier.js';
import { Notifiers } from './notifiers.js';
import { OutboxRepository } from './outbox.repository.js';
import { OutboxService, outboxKey } from './outbox.service.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

const T0 = 1_700_000_000_000;

const message = (key: string): NotificationMessage => ({
  key,
  kind: 'firing',
  severity: 'critical',
  title: `${key} is CRITICAL`,
  checkName: 'PACS web',
  agentName: 'pacs-01',
  since: T0,
  reason: 'timeout',
  summary: 'no answer',
  labels: {},
});

const notifiers = () => new Notifiers(new SmtpNotifier(), new TelegramNotifier(), new WebhookNotifier(), new AlertmanagerNotifier());

/** Every collector delivers from the one outbox (docs/scaling.md, "High availability"): each row once, each channel in order. */
describe('the outbox with several collectors delivering', () => {
  let db: Db;
  let receiver: HttpReceiver;
  const others: DataSource[] = [];

  const connection = async () => {
    const ds = createDataSource(db.config);
    await ds.initialize();
    others.push(ds);
    return ds;
  };

  beforeEach(async () => {
    receiver = await startReceiver();
    receiver.reply = () => ({ status: 204 });
    db = await openTestDatabase();
  });
  afterEach(async () => {
    for (const ds of others.splice(0)) await ds.destroy();
    await db.close();
    await receiver.close();
  });

  it(
    'three collectors claiming at once deliver 300 notifications over three channels exactly once, each channel in enqueue order',
    { skip: TEST_ON_POSTGRES ? false : 'several collectors share PostgreSQL, never one SQLite file' },
    async () => {
      const channels = new ChannelsRepository(db.dataSource);
      const hooks = [];
      for (const name of ['ward', 'pacs', 'night'])
        hooks.push(await channels.create({ name, type: 'webhook', config: { url: `${receiver.url}/${name}` } }, T0));
      const enqueuer = new OutboxService(new OutboxRepository(db.dataSource), channels, notifiers(), systemClock);
      for (let i = 0; i < 100; i++) await enqueuer.enqueue(message(`alert-${String(i).padStart(3, '0')}`));

      const collectors = [];
      for (let c = 0; c < 3; c++) {
        const ds = await connection();
        collectors.push(new OutboxService(new OutboxRepository(ds), new ChannelsRepository(ds), notifiers(), systemClock, { batch: 7 }));
      }
      let rounds = 0;
      while (receiver.received.length < 300 && rounds++ < 200) await Promise.all(collectors.map((c) => c.deliverDue()));

      assert.equal(receiver.received.length, 300, 'every row delivered');
      const keys = receiver.received.map((r) => `${r.path} ${String(r.headers['x-rounds-key'])}`);
      assert.equal(new Set(keys).size, 300, 'none twice');
      for (const hook of ['ward', 'pacs', 'night']) {
        const order = receiver.received.filter((r) => r.path === `/${hook}`).map((r) => String(r.headers['x-rounds-key']));
        assert.deepEqual(order, [...order].sort(), `channel ${hook} in enqueue order`);
      }
      const pending = await db.query<{ n: unknown }>("SELECT count(*) AS n FROM notification_outbox WHERE status <> 'sent'");
      assert.equal(Number(pending[0]!.n), 0);
    },
  );

  it('a collector whose claim ran out does not write over the outcome of the one that claimed the row again', async () => {
    const clock = new ManualClock(T0);
    const channels = new ChannelsRepository(db.dataSource);
    const hook = await channels.create({ name: 'ward', type: 'webhook', config: { url: `${receiver.url}/ward` } }, T0);
    const stalled = new OutboxRepository(db.dataSource);
    const other = new OutboxRepository(await connection());
    await new OutboxService(stalled, channels, notifiers(), clock).enqueue(message('alert-1'));

    const [claim] = await stalled.claimDue(clock.now(), 10, 1000);
    assert.ok(claim);
    await clock.advance(1500);
    const [again] = await other.claimDue(clock.now(), 10, 1000);
    assert.equal(again?.key, outboxKey('alert-1', hook.id), 'the lapsed claim is taken again');
    assert.equal(await other.record(again, { status: 'pending', error: 'HTTP 503', nextAttemptAt: clock.now() + 60_000 }, clock.now()), true);

    assert.equal(await stalled.record(claim, { status: 'sent' }, clock.now()), false, 'the stalled claim writes nothing');
    const row = await stalled.findByKey(outboxKey('alert-1', hook.id));
    assert.equal(row?.status, 'pending');
    assert.equal(row?.lastError, 'HTTP 503', "the other collector's outcome stands");
  });
});
