import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { WebhookConfig } from '../channel-config.js';
import { oneLine, subjectOf, textLinesOf, type NotificationMessage } from '../message.js';
import { asText, renderTemplate, templateView } from '../templates.js';
import { NotifierError, type Notifier } from '../notifier.js';
import { excerpt, postJson, retryAfterMs } from './notifier-http.js';

/**
 * The JSON a webhook receives; `text` is what Slack and Teams incoming webhooks display, the
 * channel's template where it has one. JSON.stringify escapes whatever the values hold.
 */
export function webhookBody(message: NotificationMessage, now: number = Date.now(), template?: WebhookConfig['template']) {
  const view = templateView(message, now);
  const subject = template?.subject ? oneLine(renderTemplate(template.subject, view, asText)) : subjectOf(message);
  const lines = template?.body ? renderTemplate(template.body, view, asText) : textLinesOf(message, now);
  return {
    text: `${subject}\n\n${lines}`,
    key: message.key,
    kind: message.kind,
    severity: message.severity,
    title: message.title,
    check: message.checkName ?? null,
    agent: message.agentName ?? null,
    since: new Date(message.since).toISOString(),
    resolvedAt: message.resolvedAt === undefined ? null : new Date(message.resolvedAt).toISOString(),
    reason: message.reason,
    summary: message.summary,
    url: message.url ?? null,
    labels: message.labels,
  };
}

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>` (the GitHub convention). */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** A JSON POST to any URL, optionally signed with HMAC-SHA256. */
@Injectable()
export class WebhookNotifier implements Notifier<WebhookConfig> {
  async send(config: WebhookConfig, message: NotificationMessage, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(webhookBody(message, Date.now(), config.template));
    const headers: Record<string, string> = {
      'user-agent': 'rounds-collector',
      // Receivers drop a notification they saw already (the outbox delivers at least once).
      'x-rounds-key': message.key,
      ...(config.headers ?? {}),
    };
    if (config.hmacSecret) headers[config.signatureHeader.toLowerCase()] = webhookSignature(config.hmacSecret, body);
    const res = await postJson(config.url, body, headers, signal);
    if (res.status >= 200 && res.status < 300) return;
    const origin = new URL(config.url).origin;
    throw new NotifierError(
      `webhook ${origin} answered ${res.status} ${res.statusText}${res.body ? `: ${excerpt(res.body)}` : ''}`,
      res.status === 429 || res.status === 503 ? retryAfterMs(res.headers) : undefined,
    );
  }
}
