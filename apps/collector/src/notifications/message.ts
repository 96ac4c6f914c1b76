/**
 * What a notification says, independent of the channel: the alert engine turns each of
 * its notification intents into one of these, every notifier renders it its own way.
 */
export const NOTIFICATION_KINDS = ['firing', 'resolved', 'reminder', 'test'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface NotificationMessage {
  /** Stable per notification (e.g. `<alert id>:firing:<n>`): delivering it again is a duplicate. */
  key: string;
  kind: NotificationKind;
  severity: Severity;
  /** One line: what is wrong, e.g. "PACS web is CRITICAL". */
  title: string;
  checkName?: string;
  agentName?: string;
  /** When the problem started (epoch ms); the same on firing, reminders and resolved. */
  since: number;
  /** When it ended (epoch ms), for `resolved`. */
  resolvedAt?: number;
  /** Reason code from the closed set (`timeout`, `refused`, …) or the rule that fired. */
  reason: string;
  summary: string;
  /** Link to the check in the UI (built from ROUNDS_PUBLIC_URL). */
  url?: string;
  /**
   * Identify the alert for routing and grouping (Alertmanager labels, webhook fields). Must be
   * the same on the firing, reminder and resolved notifications of one alert.
   */
  labels: Record<string, string>;
}

/** Link to a check's page in the UI, or undefined when no public URL is configured. */
export function checkUrl(publicUrl: string | undefined, checkId: string): string | undefined {
  if (!publicUrl) return undefined;
  return `${publicUrl.replace(/\/+$/, '')}/checks/${encodeURIComponent(checkId)}`;
}

const KIND_LABEL: Record<NotificationKind, string> = {
  firing: 'FIRING',
  resolved: 'RESOLVED',
  reminder: 'STILL FIRING',
  test: 'TEST',
};

/** `[FIRING] PACS web is CRITICAL` — mail subject, first line everywhere. */
export function subjectOf(m: NotificationMessage): string {
  return `[${KIND_LABEL[m.kind]}] ${oneLine(m.title)}`;
}

/** "PACS web on pacs-01", "agent pacs-01", or the title when neither is known. */
export function whereOf(m: NotificationMessage): string {
  if (m.checkName && m.agentName) return `${m.checkName} on ${m.agentName}`;
  if (m.checkName) return m.checkName;
  if (m.agentName) return `agent ${m.agentName}`;
  return m.title;
}

export interface MessageLine {
  label: string;
  value: string;
  href?: string;
}

/** The facts of a message as label/value pairs: rendered as text, HTML or Telegram HTML. */
export function linesOf(m: NotificationMessage, now: number = Date.now()): MessageLine[] {
  const lines: MessageLine[] = [{ label: 'What', value: oneLine(m.title) }];
  if (m.checkName) lines.push({ label: 'Check', value: m.checkName });
  if (m.agentName) lines.push({ label: 'Where', value: `agent ${m.agentName}` });
  lines.push({ label: 'Severity', value: m.severity.toUpperCase() });
  if (m.kind === 'resolved') {
    const end = m.resolvedAt ?? now;
    lines.push({ label: 'Since', value: `${formatTime(m.since)} until ${formatTime(end)} (${formatDuration(end - m.since)})` });
  } else {
    lines.push({ label: 'Since', value: `${formatTime(m.since)} (${formatDuration(now - m.since)} ago)` });
  }
  lines.push({ label: 'Reason', value: m.reason });
  lines.push({ label: 'Summary', value: m.summary });
  if (m.url) lines.push({ label: 'Open', value: m.url, href: m.url });
  return lines;
}

/** Plain text: mail body, webhook `text` (Slack and Teams both link a bare URL). */
export function textOf(m: NotificationMessage, now: number = Date.now()): string {
  return `${subjectOf(m)}\n\n${textLinesOf(m, now)}`;
}

/** The facts of {@link textOf} without its first line: the default body under a templated subject. */
export function textLinesOf(m: NotificationMessage, now: number = Date.now()): string {
  return linesOf(m, now)
    .map((l) => `${l.label}: ${l.value}`)
    .join('\n');
}

/** HTML mail body; every value escaped. */
export function htmlOf(m: NotificationMessage, now: number = Date.now()): string {
  const rows = linesOf(m, now)
    .map((l) => {
      const value = l.href ? `<a href="${escapeHtml(l.href)}">${escapeHtml(l.value)}</a>` : escapeHtml(l.value);
      return `<tr><th align="left" valign="top" style="padding-right:1em">${escapeHtml(l.label)}</th><td>${value}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>\n<html><body>\n<h2>${escapeHtml(subjectOf(m))}</h2>\n<table>\n${rows}\n</table>\n</body></html>\n`;
}

/** Telegram's HTML parse mode allows only a few tags and needs <, > and & escaped. */
export function telegramHtmlOf(m: NotificationMessage, now: number = Date.now()): string {
  return `<b>${escapeHtml(subjectOf(m))}</b>\n\n${telegramLinesOf(m, now)}`;
}

/** The facts of {@link telegramHtmlOf} without its first line. */
export function telegramLinesOf(m: NotificationMessage, now: number = Date.now()): string {
  return linesOf(m, now)
    .map((l) =>
      l.href
        ? `<b>${escapeHtml(l.label)}:</b> <a href="${escapeHtml(l.href)}">${escapeHtml(l.value)}</a>`
        : `<b>${escapeHtml(l.label)}:</b> ${escapeHtml(l.value)}`,
    )
    .join('\n');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/** `2026-11-20 14:03:05 +01:00`: the collector's local time with its offset, unambiguous in any mail client. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}
