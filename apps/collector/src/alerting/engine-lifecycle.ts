import { observe, reconcile, type AlertRecord, type Condition, type EngineStep, type MuteReason, type Observation } from './alerts.js';
import { sourceDependencyMutes } from './engine-dependencies.js';
import type { EngineStore } from './engine-state.js';
import { isActive, windowsMuting, type MaintenanceWindow } from './maintenance.js';
import { matchesAll } from './matchers.js';
import { silencesMuting } from './silences.js';

/** Folds what a source says now into its alert; an alert that is done is forgotten. */
export function applyObservation(store: EngineStore, obs: Observation, condition: Condition, at: number, step: EngineStep): void {
  const record = observe(store.alerts.get(obs.fingerprint), obs, condition, at, step.history);
  if (record) store.alerts.set(obs.fingerprint, record);
  else store.alerts.delete(obs.fingerprint);
}

/** The observation an alert was last updated from: to re-judge it when its rule or source changes. */
export function observationOf(record: AlertRecord): Observation {
  const { fingerprint, name, source, labels, severity, summary, reason, value, status, repeatMs } = record;
  return { fingerprint, name, source, labels, severity, summary, reason, value, status, repeatMs };
}

/** Ends the alerts whose source went away (a check or agent removed), saying why in `summary`. */
export function endAlerts(store: EngineStore, which: (record: AlertRecord) => boolean, summary: string, step: EngineStep): void {
  const now = store.clock.now();
  for (const record of [...store.alerts.values()]) {
    if (which(record)) applyObservation(store, { ...observationOf(record), summary }, 'inactive', now, step);
  }
}

/** Sends what is due for every alert and forgets the ones that are done. */
export function settle(store: EngineStore, step: EngineStep): EngineStep {
  const now = store.clock.now();
  // Whether a window is open does not depend on the alert: work out the zone math once.
  const open = store.maintenance.filter((w) => isActive(w, now));
  for (const record of [...store.alerts.values()]) {
    const muted = record.state === 'firing' ? muteReasons(store, record, now, open) : [];
    const keep = reconcile(record, now, muted, isFlapping(store, record), step);
    if (!keep) store.alerts.delete(record.fingerprint);
  }
  return step;
}

/**
 * Why an alert's "firing" and reminders are held back at `now`, acknowledgement aside (it
 * belongs to the alert, not to the world around it). `openWindows`, when given, are the
 * windows already known to be open at `now`.
 */
export function muteReasons(store: EngineStore, record: AlertRecord, now: number, openWindows?: readonly MaintenanceWindow[]): MuteReason[] {
  const reasons: MuteReason[] = [];
  const windows = openWindows ? openWindows.filter((w) => matchesAll(w.matchers, record.labels)) : windowsMuting(store.maintenance, record.labels, now);
  for (const w of windows) reasons.push({ type: 'maintenance', id: w.id, name: w.name });
  for (const s of silencesMuting(store.silences, record.labels, now)) {
    reasons.push({ type: 'silence', id: s.id, createdBy: s.createdBy, comment: s.comment });
  }
  if (isFlapping(store, record) && record.source.type === 'check') reasons.push({ type: 'flapping', checkId: record.source.checkId });
  reasons.push(...sourceDependencyMutes(store, record.source));
  return reasons;
}

function isFlapping(store: EngineStore, record: AlertRecord): boolean {
  return record.source.type === 'check' && store.checks.get(record.source.checkId)?.flapping === true;
}
