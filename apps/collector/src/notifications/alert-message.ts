import type { Notification } from '../alerting/index.js';
import { checkUrl, type NotificationMessage } from './message.js';

/**
 * An alert engine intent as every channel receives it. Key and kind are the engine's (so a
 * replayed step enqueues nothing new); `labels` are the alert's own plus `alertname`, the
 * same on its firing, reminder and resolved notifications.
 */
export function alertMessage(n: Notification, publicUrl: string | undefined): NotificationMessage {
  const a = n.alert;
  const checkName = a.source.type === 'agent' ? undefined : a.labels.check;
  const agentName = a.labels.agent;
  const checkId = a.source.type === 'agent' ? undefined : a.source.checkId;
  const url = checkId === undefined ? undefined : checkUrl(publicUrl, checkId);
  return {
    key: n.key,
    kind: n.kind,
    severity: a.severity,
    title: titleOf(n),
    ...(checkName ? { checkName } : {}),
    ...(agentName ? { agentName } : {}),
    since: a.activeAt,
    ...(n.kind === 'resolved' && a.resolvedAt !== null ? { resolvedAt: a.resolvedAt } : {}),
    reason: a.reason,
    summary: a.summary,
    ...(url ? { url } : {}),
    labels: { alertname: a.name, ...a.labels },
  };
}

function titleOf(n: Notification): string {
  const a = n.alert;
  const resolved = n.kind === 'resolved';
  const agent = a.labels.agent ?? a.source.agentId;
  switch (a.source.type) {
    case 'agent':
      return resolved ? `agent ${agent} answers again` : `agent ${agent} is unreachable`;
    case 'check': {
      const where = `${a.labels.check ?? a.source.checkId} on ${agent}`;
      return resolved ? `${where} is OK again (was ${a.status ?? 'failing'})` : `${where} is ${a.status ?? 'failing'}`;
    }
    case 'rule': {
      const where = `${a.source.metric} of ${a.labels.check ?? a.source.checkId} on ${agent}`;
      return resolved ? `${a.name} resolved: ${where}` : `${a.name}: ${where} is ${a.value ?? '?'}`;
    }
  }
}
