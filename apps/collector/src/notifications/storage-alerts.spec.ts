import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import { readCollectorConfig } from '../config/env.js';
import { AlertmanagerNotifier } from './notifiers/alertmanager.notifier.js';
import { ChannelsRepository } from './channels.repository.js';
import { HealthRepository } from '../storage/health.repository.js';
import { startReceiver, type HttpReceiver } from './notifiers/notifier-testing.js';
import { OutboxRepository } from './outbox.repository.js';
import { SmtpNotifier } from './notifiers/smtp.notifier.js';
import { TelegramNotifier } from './notifiers/telegram.notifier.js';
import { openTestDatabase } from '../storage/testing.js';
import { WebhookNotifier } from './notifiers/webhook.notifier.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { ChannelsService } from './channels.service.js';
import { createChannelDto } from './channels.dto.js';
import { Notifiers } from './notifiers.js';
import { StorageAlerts } from './storage-alerts.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { SOLO } from '../cluster/cluster.js';

/** The driver's error as better-sqlite3 raises it on a full disk. */
const diskFull = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('StorageAlerts', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let receiver: HttpReceiver;
  let clock: ManualClock;
  let health: StorageHealth;
  let alerts: StorageAlerts;
  const posted = () => receiver.received.map((r) => JSON.parse(r.body) as { kind: string; title: string; text: string; labels: Record<string, string> });

  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  beforeEach(async () => {
    await db?.close();
    receiver.received.length = 0;
    db = await openTestDatabase();
    clock = new ManualClock(1_700_000_000_000);
    const config = readCollectorConfig({ ROUNDS_DATA_DIR: db.dataDir, ROUNDS_STORAGE_ALERT_AFTER_MS: '60000' });
    const notifiers = new Notifiers(new SmtpNotifier(), new TelegramNotifier(), new WebhookNotifier(), new AlertmanagerNotifier());
    const channels = new ChannelsService(new ChannelsRepository(db.dataSource), new OutboxRepository(db.dataSource), notifiers, clock, config);
    await channels.create(createChannelDto.parse({ name: 'on-call', type: 'webhook', config: { url: `${receiver.url}/hook` } }), SPEC_AUDIT);
    await channels.create(
      createChannelDto.parse({ name: 'switched off', type: 'webhook', config: { url: `${receiver.url}/off` }, enabled: false }),
      SPEC_AUDIT,
    );
    health = new StorageHealth(new HealthRepository(db.dataSource), clock);
    alerts = new StorageAlerts(health, channels, config, clock);
    follower = new StorageAlerts(health, channels, config, clock, { ...SOLO, collectorId: 'b', shared: true, isLeader: () => false });
  });

  let follower: StorageAlerts;

  it('leaves the alert to the collector that led when storing began to fail (several collectors: one message, not one each)', async () => {
    health.failed(diskFull);
    await clock.advance(60_000);
    await Promise.all([alerts.sending, follower.sending]);
    assert.deepEqual(
      receiver.received.map((r) => r.path),
      ['/hook'],
      'the leader alone sent it',
    );
  });

  it('tells every enabled channel once storing has failed for the configured time, and that it resolved', async () => {
    health.failed(diskFull);
    await clock.advance(59_000);
    health.failed(diskFull);
    await alerts.sending;
    assert.equal(receiver.received.length, 0, 'sent before the delay');

    await clock.advance(1_000);
    await alerts.sending;
    assert.deepEqual(
      receiver.received.map((r) => r.path),
      ['/hook'],
    );
    const [firing] = posted();
    assert.equal(firing!.kind, 'firing');
    assert.equal(firing!.title, 'Rounds collector cannot store results');
    assert.equal(firing!.labels.alertname, 'RoundsCollectorStorageFailing');
    assert.match(firing!.text, /disk full: SQLITE_FULL: database or disk is full; 2 failed writes/);

    await clock.advance(120_000);
    health.committed();
    await alerts.sending;
    assert.deepEqual(
      posted().map((m) => m.kind),
      ['firing', 'resolved'],
    );
  });

  it('says nothing when storing works again before the delay', async () => {
    health.failed(diskFull);
    await clock.advance(30_000);
    health.committed();
    await clock.advance(120_000);
    await alerts.sending;
    assert.equal(receiver.received.length, 0);
  });

  it('ignores errors that are not about storage (a unique constraint)', async () => {
    health.failed(Object.assign(new Error('UNIQUE constraint failed: agents.name'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }));
    await clock.advance(120_000);
    await alerts.sending;
    assert.equal(health.problem(), undefined);
    assert.equal(receiver.received.length, 0);
  });

  after(() => db?.close());
});
