import { Injectable } from '@nestjs/common';
import type { AlertmanagerConfig } from '../channel-config.js';
import type { NotificationMessage } from '../message.js';
import { NotifierError, type Notifier } from '../notifier.js';
import { excerpt, postJson } from './notifier-http.js';

/** A test alert should not linger in Alertmanager. */
const TEST_ALERT_TTL_MS = 5 * 60_000;

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/**
 * The alert as Alertmanager's API v2 takes it. Labels identify the alert (grouping, routing,
 * inhibition) and are the same for its firing, reminder and resolved notifications: the
 * reason and summary, which change, are annotations.
 */
export function alertOf(config: AlertmanagerConfig, message: NotificationMessage, now: number = Date.now()): PostableAlert {
  const labels: Record<string, string> = {
    ...config.labels,
    alertname: 'RoundsAlert',
    severity: message.severity,
    ...(message.checkName ? { check: message.checkName } : {}),
    ...(message.agentName ? { agent: message.agentName } : {}),
    ...message.labels,
  };
  for (const [k, v] of Object.entries(labels)) if (v === '') delete labels[k];
  const endsAt =
    message.kind === 'resolved' ? (message.resolvedAt ?? now) : message.kind === 'test' ? now + TEST_ALERT_TTL_MS : now + config.resolveAfterMinutes * 60_000;
  return {
    labels,
    annotations: {
      title: message.title,
      summary: message.summary,
      reason: message.reason,
      ...(message.url ? { url: message.url } : {}),
    },
    startsAt: new Date(message.since).toISOString(),
    endsAt: new Date(Math.max(endsAt, message.since)).toISOString(),
    ...(message.url ? { generatorURL: message.url } : {}),
  };
}

/** Prometheus Alertmanager, `POST /api/v2/alerts`; resolving sets `endsAt`. */
@Injectable()
export class AlertmanagerNotifier implements Notifier<AlertmanagerConfig> {
  async send(config: AlertmanagerConfig, message: NotificationMessage, signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = {};
    if (config.username) headers['authorization'] = `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64')}`;
    const url = `${config.url.replace(/\/+$/, '')}/api/v2/alerts`;
    const res = await postJson(url, JSON.stringify([alertOf(config, message)]), headers, signal);
    if (res.status >= 200 && res.status < 300) return;
    const hint =
      res.status === 401 ? ' — check username and password' : res.status === 404 ? ' — check the url (the Alertmanager base URL, without /api/v2)' : '';
    throw new NotifierError(
      `Alertmanager ${new URL(config.url).origin} answered ${res.status} ${res.statusText}${res.body ? `: ${excerpt(res.body)}` : ''}${hint}`,
    );
  }
}
