/** The AlertEngine specs' harness: a clock, an engine, and everything it said. */
import { ManualClock, type CheckStatus } from '#rounds/common';
import type { EngineStep, HistoryEntry, Notification } from './alerts.js';
import { AlertEngine, checkAlertFingerprint, type AlertEngineOptions, type CheckResultInput, type MetricInput } from './engine.js';
import { parseRule, type Rule } from './rules.js';

export const MIN = 60_000;
export const T0 = Date.parse('2025-01-06T08:00:00Z');
export const C1 = checkAlertFingerprint('c1');

export function rule(input: Record<string, unknown>): Rule {
  const parsed = parseRule(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

/** One line per notification: `kind name severity`, and what muted it. */
export function said(step: EngineStep): string[] {
  return step.notifications.map(
    (n) => `${n.kind} ${n.alert.name} ${n.alert.severity}${n.muted.length ? ` (muted: ${n.muted.map((m) => m.type).join(', ')})` : ''}`,
  );
}

export class Rounds {
  readonly clock: ManualClock;
  readonly engine: AlertEngine;
  readonly notifications: Notification[] = [];
  readonly history: HistoryEntry[] = [];

  readonly start: number;

  constructor(options: Partial<AlertEngineOptions> = {}, start = T0) {
    this.start = start;
    this.clock = new ManualClock(start);
    this.engine = new AlertEngine({ clock: this.clock, ...options });
  }

  keep(step: EngineStep): EngineStep {
    this.notifications.push(...step.notifications);
    this.history.push(...step.history);
    return step;
  }

  /** Moves the clock to `ms` after the start (never backwards). */
  async to(ms: number): Promise<void> {
    await this.clock.advance(this.start + ms - this.clock.now());
  }

  result(status: CheckStatus | number, fields: Partial<CheckResultInput> = {}): EngineStep {
    return this.keep(
      this.engine.ingest({
        agentId: 'a1',
        agentName: 'pacs-01',
        checkId: 'c1',
        checkName: 'PACS web',
        plugin: 'http',
        status,
        reason: status === 'OK' || status === 0 ? 'ok' : 'timeout',
        summary: status === 'OK' || status === 0 ? '200 in 35 ms' : 'no answer within 10 s',
        metrics: [],
        at: this.clock.now(),
        ...fields,
      }),
    );
  }

  metrics(metrics: MetricInput[], fields: Partial<CheckResultInput> = {}): EngineStep {
    return this.result('OK', { checkId: 'host', checkName: 'host', plugin: 'host-metrics', metrics, ...fields });
  }

  tick(): EngineStep {
    return this.keep(this.engine.tick());
  }

  events(fingerprint?: string): string[] {
    return this.history.filter((h) => !fingerprint || h.fingerprint === fingerprint).map((h) => h.event);
  }
}

/** Feeds statuses one minute apart; returns what each result said, by 1-based index, leaving out silent ones. */
export async function feed(r: Rounds, statuses: CheckStatus[]): Promise<Record<number, string[]>> {
  const out: Record<number, string[]> = {};
  for (let i = 0; i < statuses.length; i++) {
    if (i > 0) await r.clock.advance(MIN);
    const lines = said(r.result(statuses[i]!));
    if (lines.length) out[i + 1] = lines;
  }
  return out;
}

export async function firing(r: Rounds, fields: Partial<CheckResultInput> = {}): Promise<void> {
  for (let i = 0; i < 3; i++) {
    if (i > 0) await r.clock.advance(MIN);
    r.result('CRITICAL', fields);
  }
}
