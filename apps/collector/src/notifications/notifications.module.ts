import { Module } from '@nestjs/common';
import type { CollectorConfig } from '../config/env.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { ChannelsRepository } from './channels.repository.js';
import { ChannelsService } from './channels.service.js';
import { Notifiers } from './notifiers.js';
import { AlertmanagerNotifier } from './notifiers/alertmanager.notifier.js';
import { SmtpNotifier } from './notifiers/smtp.notifier.js';
import { TelegramNotifier } from './notifiers/telegram.notifier.js';
import { WebhookNotifier } from './notifiers/webhook.notifier.js';
import { OutboxRepository } from './outbox.repository.js';
import { OUTBOX_OPTIONS, OutboxService, type OutboxOptions } from './outbox.service.js';

/** What ChannelsService needs, for specs that provide it without this module's outbox worker options. */
export const CHANNEL_PROVIDERS = [
  ChannelsRepository,
  OutboxRepository,
  SmtpNotifier,
  TelegramNotifier,
  WebhookNotifier,
  AlertmanagerNotifier,
  Notifiers,
  ChannelsService,
];

/** Channels, the persisted outbox and the notifiers that deliver it (SMTP, Telegram, webhook, Alertmanager). */
@Module({
  providers: [
    ...CHANNEL_PROVIDERS,
    {
      provide: OUTBOX_OPTIONS,
      useFactory: (config: CollectorConfig): Partial<OutboxOptions> => ({ baseBackoffMs: config.notifyRetryMs, maxBackoffMs: config.notifyMaxRetryMs }),
      inject: [COLLECTOR_CONFIG],
    },
    OutboxService,
  ],
  exports: [ChannelsService, OutboxService, OutboxRepository],
})
export class NotificationsModule {}
