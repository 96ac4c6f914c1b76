import { Injectable } from '@nestjs/common';
import { AlertmanagerNotifier } from './notifiers/alertmanager.notifier.js';
import { SmtpNotifier } from './notifiers/smtp.notifier.js';
import { TelegramNotifier } from './notifiers/telegram.notifier.js';
import { WebhookNotifier } from './notifiers/webhook.notifier.js';
import type { ChannelConfig } from './channel-config.js';
import type { NotificationMessage } from './message.js';

/** Sends through the transport of the channel's type. */
@Injectable()
export class Notifiers {
  constructor(
    private readonly smtp: SmtpNotifier,
    private readonly telegram: TelegramNotifier,
    private readonly webhook: WebhookNotifier,
    private readonly alertmanager: AlertmanagerNotifier,
  ) {}

  send(channel: ChannelConfig, message: NotificationMessage, signal: AbortSignal): Promise<void> {
    switch (channel.type) {
      case 'smtp':
        return this.smtp.send(channel.config, message, signal);
      case 'telegram':
        return this.telegram.send(channel.config, message, signal);
      case 'webhook':
        return this.webhook.send(channel.config, message, signal);
      case 'alertmanager':
        return this.alertmanager.send(channel.config, message, signal);
    }
  }
}
