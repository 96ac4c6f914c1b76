import { createHash } from 'node:crypto';
import type { CheckStatus } from '#rounds/common';
import type { NamedRef, ParentVerdict } from './engine-dependencies.js';
import type { Labels } from './matchers.js';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type AlertState = 'pending' | 'firing' | 'resolved';

/** What raised an alert. */
export type AlertSource =
  | { type: 'check'; agentId: string; checkId: string }
  | { type: 'agent'; agentId: string }
  | { type: 'rule'; rule: string; agentId: string; checkId: string; metric: string };

export interface Acknowledgement {
  by: string;
  comment: string;
  at: number;
  /** The acknowledgement lapses here; `null`: until the alert resolves or changes severity. */
  expiresAt: number | null;
}

/**
 * One alert as the engine keeps it (and a persistence layer stores it), from its first
 * pending moment until "resolved" has been sent — or, if it never fired, until it clears.
 */
export interface AlertRecord extends Observation {
  state: AlertState;
  /** When the condition started; identifies the episode. */
  activeAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
  ack: Acknowledgement | null;
  /** The severity the receivers were last told is firing; `null`: they think nothing is. */
  notifiedSeverity: Severity | null;
  /** The severity of the last muted "firing" intent, so a muted firing is recorded once. */
  mutedSeverity: Severity | null;
  lastNotifiedAt: number | null;
  /** Notification intents issued in this episode; makes their keys unique. */
  sequence: number;
}

/** A read-only copy of an alert, as carried by notifications and returned by queries. */
export type AlertSnapshot = Readonly<AlertRecord>;

export type MuteReason =
  | { type: 'maintenance'; id: string; name: string }
  | { type: 'silence'; id: string; createdBy: string; comment: string }
  | { type: 'acknowledged'; by: string; expiresAt: number | null }
  | { type: 'flapping'; checkId: string }
  | { type: 'agent_unreachable'; agentId: string }
  /** A check or agent this alert's source depends on is down (see engine-dependencies.ts). */
  | { type: 'dependency'; parent: NamedRef; verdict: ParentVerdict; rootCause: NamedRef | null };

export type NotificationKind = 'firing' | 'resolved' | 'reminder';

/**
 * What the engine wants said. An outbox stores every intent under its `key` (unique, and
 * the same when the same state is replayed), delivers those with no `muted` reasons and
 * keeps the muted ones as the record of what was held back and why.
 */
export interface Notification {
  key: string;
  kind: NotificationKind;
  at: number;
  alert: AlertSnapshot;
  muted: MuteReason[];
}

/** What an alert went through, as its history line names it (the history list filters by these). */
export const HISTORY_EVENTS = [
  'pending',
  'firing',
  'reopened',
  'resolved',
  'cleared',
  'severity_changed',
  'acknowledged',
  'unacknowledged',
  'ack_expired',
  'ack_cleared',
  'flapping_started',
  'flapping_stopped',
] as const;
export type HistoryEvent = (typeof HISTORY_EVENTS)[number];

/** One line of alert history: every transition, and who acknowledged what. */
export interface HistoryEntry {
  at: number;
  fingerprint: string;
  name: string;
  labels: Labels;
  event: HistoryEvent;
  severity: Severity | null;
  /** Previous severity (severity_changed). */
  from?: Severity;
  by?: string;
  comment?: string;
  expiresAt?: number | null;
  detail?: string;
}

/** What one call into the engine produced: intents for the outbox and lines for the history. */
export interface EngineStep {
  notifications: Notification[];
  history: HistoryEntry[];
}

export function emptyStep(): EngineStep {
  return { notifications: [], history: [] };
}

/** A short stable id for a source and series: 16 hex digits of a SHA-256. */
export function fingerprintOf(identity: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}

/** What a source says about its alert at one moment. */
export interface Observation {
  /** Stable for the same source and series across restarts and renames. */
  fingerprint: string;
  /** The alertname label: a rule's name, `CheckStatus` or `AgentUnreachable`. */
  name: string;
  source: AlertSource;
  labels: Labels;
  severity: Severity;
  summary: string;
  /** Check alerts: the result reason; rule alerts: `threshold`; agent alerts: `unreachable`. */
  reason: string;
  /** Rule alerts: the latest value of the series. */
  value: number | null;
  /** Check alerts: the hard status. */
  status: CheckStatus | null;
  /** Reminder interval; 0: never. */
  repeatMs: number;
}

/** Whether the condition holds, and whether it has held long enough to fire. */
export type Condition = 'inactive' | 'pending' | 'firing';

export function snapshot(record: AlertRecord): AlertSnapshot {
  return structuredClone(record);
}

export function historyOf(record: AlertRecord, at: number, event: HistoryEvent, extra: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    at,
    fingerprint: record.fingerprint,
    name: record.name,
    labels: { ...record.labels },
    event,
    severity: record.severity,
    ...extra,
  };
}

/**
 * Moves an alert along pending → firing → resolved as its source reports. Returns the
 * record to keep (undefined: forget it). A pending alert whose condition ends just clears;
 * a resolved alert whose "resolved" has not gone out yet fires again in the same episode
 * when its condition returns, since its receivers still believe it is firing.
 */
export function observe(record: AlertRecord | undefined, obs: Observation, condition: Condition, at: number, history: HistoryEntry[]): AlertRecord | undefined {
  if (condition === 'inactive') {
    if (!record) return undefined;
    if (record.state === 'pending') {
      history.push(historyOf(record, at, 'cleared'));
      return undefined;
    }
    if (record.state === 'firing') resolve(record, at, history, obs.summary);
    return record;
  }

  if (!record || (record.state === 'resolved' && record.notifiedSeverity === null)) {
    record = {
      ...obs,
      labels: { ...obs.labels },
      state: 'pending',
      activeAt: at,
      firedAt: null,
      resolvedAt: null,
      ack: null,
      notifiedSeverity: null,
      mutedSeverity: null,
      lastNotifiedAt: null,
      sequence: 0,
    };
    history.push(historyOf(record, at, 'pending', { detail: obs.summary }));
  } else if (record.state === 'resolved') {
    if (condition !== 'firing') return record;
    record.state = 'firing';
    record.resolvedAt = null;
    history.push(historyOf(record, at, 'reopened', { detail: 'fired again before "resolved" was sent' }));
  }

  const previousSeverity = record.severity;
  Object.assign(record, {
    name: obs.name,
    source: obs.source,
    labels: { ...obs.labels },
    severity: obs.severity,
    summary: obs.summary,
    reason: obs.reason,
    value: obs.value,
    status: obs.status,
    repeatMs: obs.repeatMs,
  });

  if (record.state === 'pending' && condition === 'firing') {
    record.state = 'firing';
    record.firedAt = at;
    history.push(historyOf(record, at, 'firing', { detail: obs.summary }));
  } else if (record.state === 'firing' && previousSeverity !== record.severity) {
    history.push(historyOf(record, at, 'severity_changed', { from: previousSeverity, detail: obs.summary }));
    clearAck(record, at, history, 'the severity changed');
  }
  return record;
}

export function resolve(record: AlertRecord, at: number, history: HistoryEntry[], detail?: string): void {
  record.state = 'resolved';
  record.resolvedAt = at;
  history.push(historyOf(record, at, 'resolved', detail ? { detail } : {}));
  clearAck(record, at, history, 'the alert resolved');
}

function clearAck(record: AlertRecord, at: number, history: HistoryEntry[], why: string): void {
  if (!record.ack) return;
  history.push(historyOf(record, at, 'ack_cleared', { by: record.ack.by, detail: why }));
  record.ack = null;
}

export class AlertNotFoundError extends Error {
  constructor(fingerprint: string) {
    super(`there is no alert ${fingerprint}: it may have resolved in the meantime — reload the alert list`);
    this.name = 'AlertNotFoundError';
  }
}

export class AlertStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlertStateError';
  }
}

export function acknowledge(record: AlertRecord, ack: { by: string; comment: string; expiresAt?: number | null }, now: number, history: HistoryEntry[]): void {
  if (record.state !== 'firing') {
    throw new AlertStateError(`alert ${record.name} (${record.fingerprint}) is ${record.state}: only a firing alert can be acknowledged`);
  }
  if (ack.by.trim() === '') throw new AlertStateError('say who acknowledges the alert: "by" is empty');
  if (ack.comment.trim() === '') {
    throw new AlertStateError('an acknowledgement needs a comment: say who is on it or why the alert can wait');
  }
  const expiresAt = ack.expiresAt ?? null;
  if (expiresAt !== null && expiresAt <= now) {
    throw new AlertStateError(`the acknowledgement would expire at ${new Date(expiresAt).toISOString()}, which is not in the future`);
  }
  record.ack = { by: ack.by.trim(), comment: ack.comment.trim(), at: now, expiresAt };
  history.push(historyOf(record, now, 'acknowledged', { by: record.ack.by, comment: record.ack.comment, expiresAt }));
}

export function unacknowledge(record: AlertRecord, by: string, now: number, history: HistoryEntry[]): void {
  if (!record.ack) throw new AlertStateError(`alert ${record.name} (${record.fingerprint}) is not acknowledged`);
  history.push(historyOf(record, now, 'unacknowledged', { by }));
  record.ack = null;
}

/**
 * Says what is due for one alert at `now` given what mutes it, and records that it was
 * said. Returns `false` when the record can be forgotten (resolved and nothing left to send).
 *
 * - firing, receivers not told (or told another severity): "firing" — muted intents are
 *   issued once per severity, the unmuted one as soon as no reason mutes it any more;
 * - firing and told: a "reminder" every `repeatMs` while nothing mutes it;
 * - resolved and told: "resolved", whatever mutes it — unless `holdResolved` (flapping).
 */
export function reconcile(record: AlertRecord, now: number, muted: MuteReason[], holdResolved: boolean, out: EngineStep): boolean {
  if (record.ack && record.ack.expiresAt !== null && now >= record.ack.expiresAt) {
    out.history.push(historyOf(record, now, 'ack_expired', { by: record.ack.by, expiresAt: record.ack.expiresAt }));
    record.ack = null;
  }
  if (record.state === 'pending') return true;

  if (record.state === 'resolved') {
    if (record.notifiedSeverity === null) return false;
    if (holdResolved) return true;
    notify(record, 'resolved', now, [], out);
    record.notifiedSeverity = null;
    return false;
  }

  const reasons = record.ack ? [...muted, { type: 'acknowledged' as const, by: record.ack.by, expiresAt: record.ack.expiresAt }] : muted;
  if (record.notifiedSeverity !== record.severity) {
    if (reasons.length > 0) {
      if (record.mutedSeverity !== record.severity) {
        notify(record, 'firing', now, reasons, out);
        record.mutedSeverity = record.severity;
      }
    } else {
      notify(record, 'firing', now, [], out);
      record.notifiedSeverity = record.severity;
      record.mutedSeverity = null;
      record.lastNotifiedAt = now;
    }
  } else if (reasons.length === 0 && record.repeatMs > 0 && now - (record.lastNotifiedAt ?? now) >= record.repeatMs) {
    notify(record, 'reminder', now, [], out);
    record.lastNotifiedAt = now;
  }
  return true;
}

function notify(record: AlertRecord, kind: NotificationKind, now: number, muted: MuteReason[], out: EngineStep): void {
  record.sequence++;
  out.notifications.push({
    key: `${record.fingerprint}/${record.activeAt}/${record.sequence}/${kind}`,
    kind,
    at: now,
    alert: snapshot(record),
    muted: structuredClone(muted),
  });
}
