import type { HistoryLine } from './alerting.repository.js';

/** One stretch an alert about a check was firing: from firing (or reopening) to resolved or cleared. */
export interface Incident {
  alert: string;
  fingerprint: string;
  severity: string | null;
  startedAt: number;
  /** Null while it still fires. */
  endedAt: number | null;
  durationMs: number;
  /** What the alert said when it was notified (the check's summary), else the transition's detail. */
  reason: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
}

const OPENS = new Set(['firing', 'reopened']);
const CLOSES = new Set(['resolved', 'cleared']);

/**
 * Incidents from an alert history (oldest line first) that overlap [from, to); one still open
 * lasts until `now`. The history is the engine's own record — acknowledgements included — so
 * the list says who took it on, not only how long it lasted.
 */
export function incidentsOf(lines: readonly HistoryLine[], from: number, to: number, now: number): Incident[] {
  const open = new Map<string, Incident>();
  const done: Incident[] = [];
  for (const line of lines) {
    const current = open.get(line.fingerprint);
    if (OPENS.has(line.transition)) {
      if (current) continue;
      open.set(line.fingerprint, {
        alert: line.alertName,
        fingerprint: line.fingerprint,
        severity: typeof line.details['severity'] === 'string' ? line.details['severity'] : null,
        startedAt: line.at,
        endedAt: null,
        durationMs: 0,
        reason: typeof line.details['detail'] === 'string' ? line.details['detail'] : null,
        acknowledgedBy: null,
        acknowledgedAt: null,
      });
    } else if (current && CLOSES.has(line.transition)) {
      current.endedAt = line.at;
      done.push(current);
      open.delete(line.fingerprint);
    } else if (current && line.transition === 'acknowledged' && current.acknowledgedAt === null) {
      current.acknowledgedBy = line.by;
      current.acknowledgedAt = line.at;
    } else if (current && line.transition === 'notified' && typeof line.details['summary'] === 'string') {
      current.reason = line.details['summary'];
    }
  }
  return [...done, ...open.values()]
    .map((i) => ({ ...i, durationMs: (i.endedAt ?? now) - i.startedAt }))
    .filter((i) => i.startedAt < to && (i.endedAt ?? now) > from)
    .sort((a, b) => a.startedAt - b.startedAt);
}
