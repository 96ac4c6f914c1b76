import { localDateTime } from '#rounds/common';
import { definePlugin, outcome, type CheckStatus, type Metric } from '../plugin.js';
import { describeStatus, STATUS_CANCEL, STATUS_SUCCESS } from '../shared/dicom-codes.js';
import { failureOutcome, lostOnlyRelease, runDicomSession, sessionTarget, type SessionOptions, type SessionResult } from '../shared/dicom-session.js';
import { hostPort } from '../shared/net-common.js';
import { agentTimeZone, describeWorkingHours, withinWorkingHours } from '../shared/working-hours.js';
import { dicomWorklistSchema, type DicomWorklistConfig } from './dicom-worklist.schema.js';

/** The Modality Worklist Information Model – FIND SOP class (PS3.4 K.6.1.1.2). */
const WORKLIST_FIND = '1.2.840.10008.5.1.4.31';

const seconds = (ms: number) => Math.round(ms) / 1000;
const fmt = (ms: number) => `${seconds(ms).toFixed(3)} s`;

/** The local date in `timeZone` as a DICOM date (YYYYMMDD). */
function dicomDate(atMs: number, timeZone: string): string {
  const d = localDateTime(atMs, timeZone);
  return `${d.year}${String(d.month).padStart(2, '0')}${String(d.day).padStart(2, '0')}`;
}

/** The date matching key: "today" in the hospital's zone, "*" as universal matching (empty). */
function dateKey(config: DicomWorklistConfig, now: number, timeZone: string): string {
  if (config.scheduledDate === '*') return '';
  return config.scheduledDate === 'today' ? dicomDate(now, timeZone) : config.scheduledDate;
}

/** "for today (20261204, Europe/Berlin) on station CT1, modality CT": what was asked, in words. */
function describeQuery(config: DicomWorklistConfig, date: string, timeZone: string): string {
  const when =
    config.scheduledDate === 'today' ? `for today (${date}, ${timeZone})` : config.scheduledDate === '*' ? 'for any date' : `for ${config.scheduledDate}`;
  const station = config.scheduledStationAet === undefined ? '' : ` on station ${config.scheduledStationAet}`;
  const modality = config.modality === undefined ? '' : `${station ? ',' : ''} modality ${config.modality}`;
  return `${when}${station}${modality}`;
}

function timingMetrics(result: SessionResult): Metric[] {
  const metrics: Metric[] = [];
  if (result.connectMs !== undefined) metrics.push({ name: 'connect_seconds', value: seconds(result.connectMs), unit: 'seconds' });
  if (result.associationMs !== undefined) metrics.push({ name: 'association_seconds', value: seconds(result.associationMs), unit: 'seconds' });
  return metrics;
}

/** The shortfall verdict: which bound the count is under, or undefined when it is under none. */
function shortfall(config: DicomWorklistConfig, count: number): { status: CheckStatus; below: number } | undefined {
  if (config.criticalBelow !== undefined && count < config.criticalBelow) return { status: 'CRITICAL', below: config.criticalBelow };
  if (config.warningBelow !== undefined && count < config.warningBelow) return { status: 'WARNING', below: config.warningBelow };
  return undefined;
}

export const dicomWorklistPlugin = definePlugin({
  name: 'dicom-worklist',
  version: '1.0.0',
  description: 'Queries a Modality Worklist provider (C-FIND) for the items scheduled on a station, modality and date, counting them and timing the query.',
  configSchema: dicomWorklistSchema,
  metrics: [
    { name: 'connect_seconds', unit: 'seconds', help: 'Time to connect over TCP.' },
    { name: 'association_seconds', unit: 'seconds', help: 'Time from connected to association accepted (TLS included).' },
    { name: 'query_seconds', unit: 'seconds', help: 'Worklist C-FIND from request to final response.' },
    { name: 'scheduled_items', unit: 'count', help: 'Scheduled procedure steps the worklist query returned (at most its limit).' },
    {
      name: 'thresholds_active',
      unit: '',
      help: '1 when the item thresholds applied (within working hours, or always without them), 0 outside working hours.',
    },
  ],
  async run(config, ctx) {
    const target = `${config.calledAet}@${hostPort(config.host, config.port)}`;
    // One zone named for the working hours is the hospital's zone for "today" too.
    const timeZone = config.timeZone ?? config.workingHours?.timeZone ?? agentTimeZone();
    const now = ctx.now();
    const date = dateKey(config, now, timeZone);
    const asked = describeQuery(config, date, timeZone);

    let session: SessionOptions;
    try {
      session = await sessionTarget(config, ctx);
    } catch (e) {
      return outcome('UNKNOWN', 'config_error', `${target}: ${(e as Error).message}`);
    }
    session.echo = false;
    session.find = {
      limit: config.limit,
      query: { model: 'worklist', scheduledDate: date, scheduledStationAet: config.scheduledStationAet, modality: config.modality },
    };
    const result = await runDicomSession(session, { signal: ctx.signal, now: () => ctx.now() });
    const metrics = timingMetrics(result);
    const find = result.find;

    // With the AE titles, a rejection says which one to fix and how.
    if (result.failure && !lostOnlyRelease(result)) return failureOutcome(result.failure, target, metrics, config);
    if (result.failure) ctx.log.debug(`${target}: association release not confirmed; the worklist answer was already in`);
    if (!find || find.notAccepted !== undefined) {
      const why = find?.notAccepted ?? 'not proposed';
      return outcome(
        'CRITICAL',
        'unexpected_response',
        `${target} does not offer Modality Worklist query (${WORKLIST_FIND}): ${why} — is this the worklist provider's AE title and port?`,
        metrics,
      );
    }
    if (find.status === undefined || find.ms === undefined) {
      return outcome('CRITICAL', 'protocol_error', `${target}: the worklist query got no final response`, metrics);
    }
    metrics.push({ name: 'query_seconds', value: seconds(find.ms), unit: 'seconds' });
    const finished = find.status === STATUS_SUCCESS || (find.status === STATUS_CANCEL && find.cancelled);
    if (!finished) {
      const why = find.errorComment ? `: ${find.errorComment}` : '';
      return outcome(
        'CRITICAL',
        'unexpected_response',
        `${target}: the worklist query ${asked} failed with status ${describeStatus(find.status)}${why} after ${find.matches} items — the provider could not search its worklist; its log says why`,
        metrics,
      );
    }

    const count = find.matches;
    metrics.push({ name: 'scheduled_items', value: count, unit: 'count' });
    const counted = find.cancelled ? `at least ${count} items (limit reached, cancelled)` : `${count} ${count === 1 ? 'item' : 'items'}`;
    const summary = `worklist ${target}: ${counted} scheduled ${asked}; query ${fmt(find.ms)} (connect ${fmt(result.connectMs ?? 0)}, association ${fmt(result.associationMs ?? 0)})`;

    const hours = config.workingHours;
    const inHours = hours === undefined || withinWorkingHours(hours, now, timeZone);
    // Always reported, so an alert rule can divide by it: without working hours the thresholds always apply.
    metrics.push({ name: 'thresholds_active', value: inHours ? 1 : 0, unit: '' });
    const short = shortfall(config, count);
    if (!short) return outcome('OK', 'ok', summary, metrics);
    if (hours && !inHours) {
      return outcome('OK', 'ok', `${summary} — fewer than ${short.below}, but outside working hours (${describeWorkingHours(hours, timeZone)})`, metrics);
    }
    const during = hours ? ` during working hours (${describeWorkingHours(hours, timeZone)})` : '';
    return outcome(
      short.status,
      'threshold',
      `${summary} — fewer than ${short.below}${during}: is the RIS sending orders to the worklist, and is the modality's AE title the one it schedules for?`,
      metrics,
    );
  },
});
