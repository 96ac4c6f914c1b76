import { Injectable } from '@nestjs/common';
import type { TelegramConfig } from '../channel-config.js';
import { escapeHtml, oneLine, subjectOf, telegramLinesOf, type NotificationMessage } from '../message.js';
import { asText, renderTemplate, templateView } from '../templates.js';
import { NotifierError, type Notifier } from '../notifier.js';
import { excerpt, postJson } from './notifier-http.js';

/** Telegram allows 4096 characters per message; the summary is what can be long. */
const MAX_SUMMARY = 2000;

interface BotApiAnswer {
  ok?: boolean;
  description?: string;
  parameters?: { retry_after?: number };
}

/**
 * The `sendMessage` request a message becomes (without the URL, which holds the bot token). HTML
 * parse mode: the subject is bold text, the body Telegram's HTML with every value escaped.
 */
export function telegramRequest(config: TelegramConfig, message: NotificationMessage, now: number = Date.now()) {
  const summary = message.summary.length > MAX_SUMMARY ? `${message.summary.slice(0, MAX_SUMMARY)}…` : message.summary;
  const m = { ...message, summary };
  const t = config.template;
  const view = templateView(m, now);
  const subject = t?.subject ? oneLine(renderTemplate(t.subject, view, asText)) : subjectOf(m);
  const body = t?.body ? renderTemplate(t.body, view, escapeHtml) : telegramLinesOf(m, now);
  return {
    chat_id: config.chatId,
    text: `<b>${escapeHtml(subject)}</b>\n\n${body}`,
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
    disable_notification: config.silent,
    ...(config.messageThreadId !== undefined ? { message_thread_id: config.messageThreadId } : {}),
  };
}

/** Telegram Bot API `sendMessage` (HTML parse mode), at a configurable base URL. */
@Injectable()
export class TelegramNotifier implements Notifier<TelegramConfig> {
  async send(config: TelegramConfig, message: NotificationMessage, signal: AbortSignal): Promise<void> {
    const url = `${config.baseUrl.replace(/\/+$/, '')}/bot${config.botToken}/sendMessage`;
    const body = JSON.stringify(telegramRequest(config, message));
    const res = await postJson(url, body, {}, signal);
    let answer: BotApiAnswer = {};
    try {
      answer = JSON.parse(res.body) as BotApiAnswer;
    } catch {
      // not the Bot API (a proxy's error page?): reported below with the status
    }
    if (res.status >= 200 && res.status < 300 && answer.ok === true) return;
    const said = answer.description ?? `${res.status} ${res.statusText} ${excerpt(res.body)}`.trim();
    const retryAfter = answer.parameters?.retry_after;
    throw new NotifierError(`Telegram refused the message: ${said}${hint(res.status, said)}`, retryAfter ? retryAfter * 1000 : undefined);
  }
}

function hint(status: number, said: string): string {
  if (status === 401 || status === 404) return ' — check botToken (and baseUrl)';
  if (/chat not found/i.test(said)) return ' — check chatId and that the bot was added to the chat';
  if (status === 403) return ' — the bot was removed from the chat or blocked; add it again';
  if (status === 429) return ' — too many messages; retrying later';
  return '';
}
