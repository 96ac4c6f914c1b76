import type { NotificationMessage } from './message.js';

/**
 * One transport (SMTP, Telegram, webhook, Alertmanager). `send` resolves once the peer
 * accepted the message and rejects with a message a person can act on otherwise; the
 * caller owns the deadline through `signal`.
 */
export interface Notifier<C> {
  send(config: C, message: NotificationMessage, signal: AbortSignal): Promise<void>;
}

/** A refusal by the peer; `retryAfterMs` when it said when to come back (HTTP 429). */
export class NotifierError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'NotifierError';
  }
}
