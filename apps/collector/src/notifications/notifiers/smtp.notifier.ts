import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import type { SmtpConfig } from '../channel-config.js';
import { escapeHtml, htmlOf, oneLine, subjectOf, textOf, type NotificationMessage } from '../message.js';
import { asText, renderTemplate, templateView } from '../templates.js';
import { NotifierError, type Notifier } from '../notifier.js';

/** Limits for each SMTP stage; the caller's signal bounds the whole send. */
const CONNECT_TIMEOUT_MS = 15_000;
const SOCKET_TIMEOUT_MS = 30_000;

/** The mail a message becomes: what `send` hands nodemailer and what a preview shows. */
export interface Mail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

/**
 * The channel's template where it has one (each part it leaves out is the default's). Without an
 * HTML template the HTML part is the text body, escaped: a text template stays text in every client.
 */
export function mailOf(config: SmtpConfig, message: NotificationMessage, now: number = Date.now()): Mail {
  const t = config.template;
  const view = templateView(message, now);
  const text = t?.body ? renderTemplate(t.body, view, asText) : textOf(message, now);
  const html = t?.html
    ? renderTemplate(t.html, view, escapeHtml)
    : t?.body
      ? `<!doctype html>\n<html><body>\n<pre style="font-family:inherit;white-space:pre-wrap">${escapeHtml(text)}</pre>\n</body></html>\n`
      : htmlOf(message, now);
  const domain = config.from.slice(config.from.lastIndexOf('@') + 1);
  return {
    from: config.from,
    to: config.to,
    subject: t?.subject ? oneLine(renderTemplate(t.subject, view, asText)) : subjectOf(message),
    text,
    html,
    // The same notification delivered twice (a crash between send and commit) has the
    // same Message-ID, which mail systems use to drop duplicates.
    messageId: `<${createHash('sha256').update(message.key).digest('hex').slice(0, 32)}@${domain}>`,
    headers: { 'X-Rounds-Key': message.key },
  };
}

/** Mail through an SMTP relay (nodemailer), one connection per message: alerts are rare. */
@Injectable()
export class SmtpNotifier implements Notifier<SmtpConfig> {
  async send(config: SmtpConfig, message: NotificationMessage, signal: AbortSignal): Promise<void> {
    const transport = createTransport({
      host: config.host,
      port: config.port,
      secure: config.security === 'tls',
      requireTLS: config.security === 'starttls',
      ignoreTLS: config.security === 'none',
      auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
      tls: { rejectUnauthorized: config.verifyCertificate, ...(config.caCertificate ? { ca: config.caCertificate } : {}) },
      connectionTimeout: CONNECT_TIMEOUT_MS,
      greetingTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      logger: false,
      debug: false,
    });
    try {
      await transport.sendMail({ ...mailOf(config, message), signal });
    } catch (e) {
      throw new NotifierError(`SMTP ${config.host}:${config.port}: ${describeSmtpError(e, config, signal)}`);
    } finally {
      transport.close();
    }
  }
}

function describeSmtpError(e: unknown, config: SmtpConfig, signal: AbortSignal): string {
  if (signal.aborted) return 'no answer before the deadline';
  const err = e as { code?: string; responseCode?: number; response?: string; message?: string };
  const said = err.response ? ` (server said: ${err.response.replace(/\s+/g, ' ').trim()})` : '';
  switch (err.code) {
    case 'EAUTH':
      return `the server refused the login${said} — check username and password`;
    case 'ENOAUTH':
      return 'the server asks for a login — set username and password';
    case 'ECONNECTION':
    case 'ESOCKET':
      if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(err.message ?? '')) {
        return `TLS certificate not trusted: ${err.message} — set caCertificate to the CA that signed it (or verifyCertificate: false)`;
      }
      if (/ECONNREFUSED/.test(err.message ?? '')) return 'connection refused — check host, port and that the relay is running';
      if (/wrong version number|packet length too long/i.test(err.message ?? '')) {
        return `${err.message} — the security setting does not match the port (tls is usually 465, starttls 587)`;
      }
      return err.message ?? 'connection failed';
    case 'ETLS':
      return `STARTTLS failed${said}${config.security === 'starttls' ? ' — the server may not offer STARTTLS; try security: tls on port 465' : ''}`;
    case 'ETIMEDOUT':
      return 'the server did not answer in time — check host, port and firewalls';
    case 'EENVELOPE':
      return `the server refused the sender or recipients${said}`;
    case 'EMESSAGE':
      return `the server refused the message${said}`;
    default:
      return err.message ?? String(e);
  }
}
