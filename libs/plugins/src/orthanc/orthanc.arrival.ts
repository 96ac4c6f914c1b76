// When the last instance arrived in Orthanc, read from its change log: Orthanc keeps the log in
// its database (so it survives restarts of Orthanc and of the agent, and the plugin needs no
// state of its own), writes its dates in UTC and drops a resource's changes when the resource is
// deleted — so the newest NewInstance is the newest instance still stored.
import { formatInterval, msWithin, type CheckStatus, type Reason, type WeeklySpan } from '#rounds/common';
import type { Metric } from '../plugin.js';
import { agentTimeZone, describeWorkingHours, withinWorkingHours, type WorkingHours } from '../shared/working-hours.js';
import { OrthancError, type OrthancClient } from './orthanc.client.js';

interface Change {
  ChangeType?: string;
  Date?: string;
  Seq?: number;
}

interface ChangesPage {
  Changes?: Change[];
  Last?: number;
}

/** What `/changes` says about the newest arrival. */
export type LastArrival =
  | { kind: 'found'; atMs: number }
  /** No NewInstance among the newest changes read: the last arrival is older than the oldest of them. */
  | { kind: 'older'; thanMs: number; changes: number }
  /** The log holds no NewInstance at all: nothing stored arrived (an empty or a new Orthanc). */
  | { kind: 'none' };

export interface ArrivalConfig {
  warnAfter?: number | undefined;
  criticalAfter?: number | undefined;
  workingHours?: WorkingHours | undefined;
}

export interface ArrivalFinding {
  status: CheckStatus;
  reason: Reason;
  text: string;
}

export interface ArrivalVerdict {
  metrics: Metric[];
  /** For the summary: "last instance arrived 12 min ago". */
  text: string;
  finding?: ArrivalFinding;
}

/** Orthanc 1.10 answers at most 100 changes a call. */
const PAGE = 100;
/**
 * Pages read back from the newest change. Every change belongs to a stored resource and a
 * study brings at most a few besides its instances (NewSeries, Stable*), so the newest instance
 * is almost always on the first page; a bound keeps a run cheap however the log looks.
 */
const MAX_PAGES = 10;
/** Working time is counted over at most this long: beyond it the silence is reported as "at least". */
const MAX_COUNTED_MS = 90 * 86_400_000;

/** "20261204T075151" (UTC, as Orthanc writes change dates) as epoch ms. */
function changeDate(change: Change): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(change.Date ?? '');
  if (!m) throw new OrthancError('unexpected_response', `GET /changes answered a date Orthanc does not write: ${JSON.stringify(change.Date)}`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

const isArrival = (c: Change) => c.ChangeType === 'NewInstance';

/** Reads the change log back from its newest entry until it meets a NewInstance (at most {@link MAX_PAGES} pages). */
export async function lastArrival(client: OrthancClient): Promise<LastArrival> {
  const newest = await client.get<ChangesPage>('/changes?last');
  const last = newest.Changes?.[0];
  if (last === undefined || typeof newest.Last !== 'number') return { kind: 'none' };
  if (isArrival(last)) return { kind: 'found', atMs: changeDate(last) };
  let oldest = changeDate(last);
  let read = 1;
  // Seqs below `upper` are still to read; Orthanc answers the first `limit` changes after `since`.
  let upper = newest.Last;
  for (let page = 0; page < MAX_PAGES && upper > 1; page++) {
    const since = Math.max(0, upper - 1 - PAGE);
    const answer = await client.get<ChangesPage>(`/changes?since=${since}&limit=${PAGE}`);
    const window = (answer.Changes ?? []).filter((c) => typeof c.Seq === 'number' && c.Seq < upper);
    const arrival = window.filter(isArrival).reduce<Change | undefined>((a, c) => (a === undefined || c.Seq! > a.Seq! ? c : a), undefined);
    if (arrival) return { kind: 'found', atMs: changeDate(arrival) };
    const first = window.reduce<Change | undefined>((a, c) => (a === undefined || c.Seq! < a.Seq! ? c : a), undefined);
    if (first) oldest = changeDate(first);
    read += window.length;
    upper = since + 1;
  }
  return upper <= 1 ? { kind: 'none' } : { kind: 'older', thanMs: oldest, changes: read };
}

/** "45 s", "12 min", "3 h 12 min", "2 d 4 h": an age as people say it. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

function span(hours: WorkingHours): WeeklySpan {
  return { timeZone: hours.timeZone ?? agentTimeZone(), start: hours.from, end: hours.to, days: hours.days };
}

/**
 * Judges the time since the last arrival. The silence that alerts is working time: with working
 * hours, only the time inside them counts (Friday 17:50 to Monday 07:05 is 15 minutes of silence
 * for mon–fri 07:00–18:00), and outside them silence never alerts; without, all time counts.
 */
export function judgeArrival(arrival: LastArrival, config: ArrivalConfig, nowMs: number): ArrivalVerdict {
  const hours = config.workingHours;
  const zone = agentTimeZone();
  const inHours = hours === undefined || withinWorkingHours(hours, nowMs, zone);
  const outside = inHours ? '' : ` (outside working hours ${describeWorkingHours(hours, zone)}: not judged)`;
  if (arrival.kind === 'none') {
    const text = `no instance has arrived (Orthanc's change log holds none)${outside}`;
    return inHours ? { metrics: [], text, finding: { status: 'WARNING', reason: 'threshold', text } } : { metrics: [], text };
  }
  const sinceMs = arrival.kind === 'found' ? arrival.atMs : arrival.thanMs;
  const ageMs = Math.max(0, nowMs - sinceMs);
  const countFrom = Math.max(sinceMs, nowMs - MAX_COUNTED_MS);
  const silenceMs = hours === undefined ? ageMs : msWithin(span(hours), countFrom, nowMs);
  const atLeast = arrival.kind === 'older' || (hours !== undefined && countFrom > sinceMs);
  const metrics: Metric[] = [
    { name: 'last_arrival_age_seconds', value: ageMs / 1000, unit: 'seconds' },
    { name: 'arrival_silence_seconds', value: silenceMs / 1000, unit: 'seconds' },
  ];
  if (arrival.kind === 'found') metrics.push({ name: 'last_arrival_timestamp_seconds', value: arrival.atMs / 1000, unit: 'seconds' });

  const ago =
    arrival.kind === 'found'
      ? `last instance arrived ${formatAge(ageMs)} ago`
      : `no instance arrived in the last ${formatAge(ageMs)} (none among the newest ${arrival.changes} changes)`;
  const working = hours === undefined ? '' : `, ${atLeast ? 'at least ' : ''}${formatAge(silenceMs)} of it in working hours`;
  const text = `${ago}${working}${outside}`;
  if (!inHours) return { metrics, text };

  const silence = `no new instance for ${atLeast ? 'at least ' : ''}${formatAge(silenceMs)}${hours === undefined ? '' : ' of working time'}`;
  if (config.criticalAfter !== undefined && silenceMs >= config.criticalAfter) {
    return { metrics, text, finding: { status: 'CRITICAL', reason: 'threshold', text: `${silence} (critical after ${formatInterval(config.criticalAfter)})` } };
  }
  if (config.warnAfter !== undefined && silenceMs >= config.warnAfter) {
    return { metrics, text, finding: { status: 'WARNING', reason: 'threshold', text: `${silence} (warning after ${formatInterval(config.warnAfter)})` } };
  }
  return { metrics, text };
}
