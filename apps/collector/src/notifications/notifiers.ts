import { Injectable } from '@nestjs/common';
import { alertOf, AlertmanagerNotifier, type PostableAlert } from './notifiers/alertmanager.notifier.js';
import { mailOf, SmtpNotifier, type Mail } from './notifiers/smtp.notifier.js';
import { TelegramNotifier, telegramRequest } from './notifiers/telegram.notifier.js';
import { webhookBody, WebhookNotifier } from './notifiers/webhook.notifier.js';
import type { ChannelConfig } from './channel-config.js';
import type { NotificationMessage } from './message.js';

/**
 * What a channel would send for a message: the mail, or the JSON body of the HTTP request (its URL
 * and headers left out — they carry the channel's secrets). Built by the functions `send` uses.
 */
export type Preview =
  | { type: 'smtp'; mail: Mail }
  | { type: 'telegram'; body: ReturnType<typeof telegramRequest> }
  | { type: 'webhook'; body: ReturnType<typeof webhookBody> }
  | { type: 'alertmanager'; body: PostableAlert[] };

export function previewOf(channel: ChannelConfig, message: NotificationMessage, now: number): Preview {
  switch (channel.type) {
    case 'smtp':
      return { type: 'smtp', mail: mailOf(channel.config, message, now) };
    case 'telegram':
      return { type: 'telegram', body: telegramRequest(channel.config, message, now) };
    case 'webhook':
      return { type: 'webhook', body: webhookBody(message, now, channel.config.template) };
    case 'alertmanager':
      return { type: 'alertmanager', body: [alertOf(channel.config, message, now)] };
  }
}

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
