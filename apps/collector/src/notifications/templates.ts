import Mustache from 'mustache';
import { z } from 'zod';
import { formatDuration, formatTime, subjectOf, type NotificationMessage } from './message.js';

/**
 * Message templates per channel: Mustache (logic-less — a template prints fields and tests them
 * in sections, nothing else), rendered with the escaping of the channel's format. What a value
 * holds (a label `<script>`, a summary `*_[`) is always escaped; what the template's author wrote
 * around it is the format's own (HTML mail, Telegram HTML) or plain text (subject, webhook text).
 */

/** Every placeholder a template may use, with what it prints; `labels.<name>` besides. */
export const PLACEHOLDERS = {
  'alert.name': 'the alert’s name (its alertname label), e.g. RoundsCheckFailing',
  subject: 'the default first line, e.g. "[FIRING] PACS web on pacs-01 is CRITICAL"',
  title: 'what is wrong, in one line',
  kind: 'firing, resolved, reminder or test',
  firing: 'true while the alert fires (firing and reminders): for {{#firing}}…{{/firing}}',
  resolved: 'true on the resolved notification: for {{#resolved}}…{{/resolved}}',
  severity: 'critical, warning or info',
  check: 'the check’s name (empty for an agent alert)',
  agent: 'the agent’s name',
  reason: 'the reason code (timeout, refused, …) or the rule that fired',
  summary: 'what the check or rule said',
  startsAt: 'when the problem started, e.g. 2026-11-20 14:03:05 +01:00',
  endsAt: 'when it ended (resolved only, else empty)',
  duration: 'how long it lasted or has lasted, e.g. 12 min',
  link: 'the check’s page in the UI (empty without ROUNDS_PUBLIC_URL)',
} as const;

const LABEL_PLACEHOLDER = /^labels\.[A-Za-z_][A-Za-z0-9_]*$/;
const KNOWN = new Set<string>(Object.keys(PLACEHOLDERS));
const KNOWN_LIST = `${Object.keys(PLACEHOLDERS).join(', ')}, labels.<name>`;

/** Why a template cannot be used, or undefined when it can. */
export function templateProblem(template: string): string | undefined {
  let tokens: unknown[];
  try {
    // A writer of its own: Mustache's shared one caches every template it parses, and these come from requests.
    tokens = new Mustache.Writer().parse(template) as unknown[];
  } catch (e) {
    return `is not a valid template: ${(e as Error).message}`;
  }
  const walk = (list: unknown[]): string | undefined => {
    for (const token of list as [string, string, number, number, unknown[]?][]) {
      const [type, value] = token;
      if (type === 'text' || type === '!') continue;
      // Triple braces and {{&…}} print a value unescaped; partials and new delimiters are not needed here.
      if (type === '&') return `{{{${value}}}} and {{&${value}}} print a value unescaped: write {{${value}}}`;
      if (type === '>' || type === '=') return `partials ({{>…}}) and delimiter changes ({{=…=}}) are not supported`;
      if (!KNOWN.has(value) && !LABEL_PLACEHOLDER.test(value)) return `unknown placeholder {{${value}}}: use one of ${KNOWN_LIST}`;
      if ((type === '#' || type === '^') && token[4]) {
        const inner = walk(token[4]);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return walk(tokens);
}

/** A template text: refused when saved if it names an unknown placeholder or prints a value unescaped. */
export const templateText = (description: string, multiline = false) =>
  z
    .string()
    .min(1)
    .max(10_000)
    .superRefine((t, ctx) => {
      const problem = templateProblem(t);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description: `${description}; placeholders: ${KNOWN_LIST}`, ...(multiline ? { 'x-multiline': true } : {}) });

/** Subject and body; each absent part is the default message's. */
export const messageTemplateSchema = z
  .strictObject({
    subject: templateText('first line / mail subject, plain text').optional(),
    body: templateText('the message body', true).optional(),
  })
  .meta({ description: 'message template (Mustache); values are escaped for the channel' });

/** Mail adds an HTML part; without it the HTML part is the text body, escaped. */
export const mailTemplateSchema = messageTemplateSchema
  .extend({ html: templateText('HTML mail body (markup allowed; values HTML-escaped)', true).optional() })
  .meta({ description: 'message template (Mustache); values are escaped for the channel' });

export type MessageTemplate = z.output<typeof messageTemplateSchema>;
export type MailTemplate = z.output<typeof mailTemplateSchema>;

/** What a template sees. Objects without a prototype: `{{labels.constructor}}` finds nothing. */
export function templateView(m: NotificationMessage, now: number): Record<string, unknown> {
  const end = m.kind === 'resolved' ? (m.resolvedAt ?? now) : now;
  return Object.assign(Object.create(null) as object, {
    alert: Object.assign(Object.create(null) as object, { name: m.labels['alertname'] ?? '' }),
    subject: subjectOf(m),
    title: m.title,
    kind: m.kind,
    firing: m.kind === 'firing' || m.kind === 'reminder',
    resolved: m.kind === 'resolved',
    severity: m.severity,
    check: m.checkName ?? '',
    agent: m.agentName ?? '',
    reason: m.reason,
    summary: m.summary,
    startsAt: formatTime(m.since),
    endsAt: m.kind === 'resolved' ? formatTime(end) : '',
    duration: formatDuration(end - m.since),
    link: m.url ?? '',
    labels: Object.assign(Object.create(null) as object, m.labels),
  });
}

/** Escaping of the place a value lands in. */
export type Escape = (value: string) => string;
export const asText: Escape = (value) => value;

/** Renders a template checked by {@link templateText}. */
export function renderTemplate(template: string, view: Record<string, unknown>, escape: Escape): string {
  // Parsed anew each time (notifications are rare, templates short) rather than kept in Mustache's shared cache, which previews of unsaved templates would grow without bound.
  return new Mustache.Writer().render(template, view, undefined, { escape: (value: unknown) => escape(String(value)) });
}
