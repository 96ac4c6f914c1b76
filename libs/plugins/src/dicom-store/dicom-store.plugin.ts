import { evaluateThresholds, worstStatus, type ThresholdRange } from '#rounds/common';
import { definePlugin, outcome, type CheckContext, type CheckOutcome, type CheckStatus, type Metric, type Reason } from '../plugin.js';
import { hostPort } from '../shared/net-common.js';
import { certificateCheck, TLS_CERT_EXPIRY_METRIC } from '../shared/dicom-certificate.js';
import { describeStatus, STATUS_CANCEL, STATUS_SUCCESS } from '../shared/dicom-codes.js';
import {
  describeFailure,
  failureOutcome,
  lostOnlyRelease,
  phaseTimeoutMs,
  runDicomSession,
  sessionTarget,
  type SessionAets,
  type SessionOptions,
  type SessionResult,
} from '../shared/dicom-session.js';
import { dicomStoreSchema, type DicomStoreConfig } from './dicom-store.schema.js';
import { deleteTestStudy } from './orthanc-cleanup.js';
import { storeVerdict } from './store-status.js';
import { testInstance, testUids } from './test-instance.js';

const seconds = (ms: number) => Math.round(ms) / 1000;
const fmt = (ms: number) => `${seconds(ms).toFixed(3)} s`;

/** What the cleanup may keep of the deadline, so that a slow find never leaves the test study behind for lack of time. */
const CLEANUP_RESERVE_MS = 2000;

/** A finding that makes the check not OK; the worst decides the status, the first of that status the reason. */
interface Finding {
  status: CheckStatus;
  reason: Reason;
  text: string;
}

/** How the search for the stored study ended. */
type FindEnd = { found: true; ms: number; queries: number } | { found: false; queries: number; status: CheckStatus; reason: Reason; text: string };

/** Study level, by the study's UID alone; a few return keys so the answer shows what the node filed. */
function findQuery(studyUid: string): NonNullable<SessionOptions['find']> {
  return { limit: 5, query: { model: 'study', studyDate: '', studyInstanceUid: studyUid } };
}

function timingMetrics(result: SessionResult): Metric[] {
  const metrics: Metric[] = [];
  if (result.connectMs !== undefined) metrics.push({ name: 'connect_seconds', value: seconds(result.connectMs), unit: 'seconds' });
  if (result.associationMs !== undefined) metrics.push({ name: 'association_seconds', value: seconds(result.associationMs), unit: 'seconds' });
  return metrics;
}

function thresholdFinding(what: string, valueSeconds: number, warning: ThresholdRange | undefined, critical: ThresholdRange | undefined): Finding | undefined {
  const level = evaluateThresholds(valueSeconds, warning, critical);
  if (level === 'OK') return undefined;
  const range = level === 'CRITICAL' ? critical : warning;
  return { status: level, reason: 'threshold', text: `${what} ${valueSeconds.toFixed(3)} s outside ${level.toLowerCase()} range ${range?.text}` };
}

const queries = (n: number) => `${n} ${n === 1 ? 'query' : 'queries'}`;

/**
 * Judges one C-FIND answer for the stored study: found, not yet, or a failure that ends the search.
 * `undefined` means "not findable yet": ask again.
 */
function judgeFind(result: SessionResult, studyUid: string, aets: SessionAets): { foundAt: number } | Omit<Finding, 'status'> | undefined {
  if (result.failure && !lostOnlyRelease(result)) {
    const { reason, text } = describeFailure(result.failure, aets);
    return { reason, text: `the C-FIND failed: ${text}` };
  }
  const find = result.find;
  if (!find) return { reason: 'protocol_error', text: 'the association ended before the C-FIND was sent' };
  if (find.notAccepted !== undefined) {
    return {
      reason: 'unexpected_response',
      text: `the node does not accept study-level C-FIND (${find.notAccepted}) — set find.enabled: false for a node that only stores`,
    };
  }
  if (find.status === undefined || find.at === undefined) return { reason: 'protocol_error', text: 'the C-FIND got no final response' };
  const finished = find.status === STATUS_SUCCESS || (find.status === STATUS_CANCEL && find.cancelled);
  if (!finished) {
    const why = find.errorComment ? `: ${find.errorComment}` : '';
    return { reason: 'unexpected_response', text: `the C-FIND failed with status ${describeStatus(find.status)}${why}` };
  }
  // UIDs may come padded to an even length with NUL or a space (PS3.5 9.1).
  const uidOf = (identifier: Record<string, unknown>) => {
    const uid = identifier['StudyInstanceUID'];
    return typeof uid === 'string' ? uid.replace(/[\0 ]+$/, '') : undefined;
  };
  if (find.identifiers.some((identifier) => uidOf(identifier) === studyUid)) return { foundAt: find.at };
  if (find.matches > 0) {
    // A node that ignores the key answers with whatever it has: the check would pass on any study.
    return {
      reason: 'unexpected_response',
      text: `the C-FIND for its StudyInstanceUID returned ${find.matches} other ${find.matches === 1 ? 'study' : 'studies'} — the node ignores the StudyInstanceUID matching key`,
    };
  }
  return undefined;
}

/**
 * Asks for the study until it is found, the find window closes or the deadline comes: the
 * first answer is the C-FIND sent on the store's own association, each further one a new
 * association after `find.intervalSeconds` (waited with ctx.sleep).
 */
async function findStored(
  first: SessionResult,
  storedAt: number,
  studyUid: string,
  config: DicomStoreConfig,
  ctx: CheckContext,
  session: (find: SessionOptions['find'], until: number) => Promise<SessionResult>,
  findUntil: number,
  aets: SessionAets,
): Promise<FindEnd> {
  let result = first;
  let count = 0;
  for (;;) {
    count++;
    const judged = judgeFind(result, studyUid, aets);
    if (judged && 'foundAt' in judged) return { found: true, ms: judged.foundAt - storedAt, queries: count };
    if (judged) return { found: false, queries: count, status: 'CRITICAL', ...judged };
    const pause = config.find.intervalSeconds * 1000;
    if (ctx.now() + pause >= findUntil || ctx.signal.aborted) break;
    await ctx.sleep(pause);
    if (ctx.signal.aborted) break;
    result = await session(findQuery(studyUid), findUntil);
    // A query the closing window cut short is one more that found nothing, not a failure of the node;
    // it counts only if it was sent (a cut during connect or association never reached the node).
    if (result.failure?.kind === 'timeout' && (ctx.now() >= findUntil || ctx.signal.aborted)) {
      if (result.failure.phase === 'find') count++;
      break;
    }
  }
  const waited = fmt(ctx.now() - storedAt);
  const windowMs = config.find.timeoutSeconds * 1000;
  if (storedAt + windowMs <= findUntil) {
    return {
      found: false,
      queries: count,
      status: 'CRITICAL',
      reason: 'assertion',
      text: `a C-FIND for it found nothing within find.timeoutSeconds (${config.find.timeoutSeconds} s; ${queries(count)} over ${waited}) — the node stored it but does not make it findable`,
    };
  }
  return {
    found: false,
    queries: count,
    status: 'CRITICAL',
    reason: 'timeout',
    text: `a C-FIND for it found nothing before the check's deadline (${queries(count)} over ${waited}; find.timeoutSeconds is ${config.find.timeoutSeconds} s — give the check a longer timeout)`,
  };
}

/** Stores a generated test image, finds it again, and optionally deletes it through Orthanc. */
export const dicomStorePlugin = definePlugin({
  name: 'dicom-store',
  version: '1.0.0',
  description: 'Stores a generated test image with C-STORE, finds it again with C-FIND and reports how long each took; optionally deletes it through Orthanc.',
  configSchema: dicomStoreSchema,
  metrics: [
    { name: 'connect_seconds', unit: 'seconds', help: 'Time to connect over TCP for the C-STORE.' },
    { name: 'association_seconds', unit: 'seconds', help: 'Time from connected to association accepted for the C-STORE (TLS included).' },
    { name: 'store_seconds', unit: 'seconds', help: 'C-STORE of the test image, from request to response.' },
    {
      name: 'findable_seconds',
      unit: 'seconds',
      help: 'Time from the C-STORE response until a C-FIND found the stored study (with find enabled, once found).',
    },
    { name: 'find_queries', unit: 'count', help: 'C-FIND queries sent until the study was found or the search gave up (with find enabled).' },
    { name: 'cleanup_success', unit: '', help: '1 when the test study was deleted through Orthanc after the run, 0 when that failed (with cleanup).' },
    TLS_CERT_EXPIRY_METRIC,
  ],
  async run(config, ctx) {
    const target = `${config.calledAet}@${hostPort(config.host, config.port)}`;
    let node: SessionOptions;
    try {
      node = await sessionTarget(config, ctx);
    } catch (e) {
      return outcome('UNKNOWN', 'config_error', `${target}: ${(e as Error).message}`);
    }
    const startedAt = ctx.now();
    const uids = testUids(config.uidRoot, startedAt);
    // The cleanup runs after the find however long that takes, so the find leaves it some of the deadline.
    const reserve = config.cleanup ? Math.min(CLEANUP_RESERVE_MS, (ctx.deadline - startedAt) / 4) : 0;
    const sessionUntil = ctx.deadline - reserve;
    // Each association's phase timeouts end by `until`: the store's and the find's leave the cleanup its time.
    const session = (extra: Pick<SessionOptions, 'store' | 'find'>, until: number) =>
      runDicomSession(
        {
          ...node,
          connectTimeoutMs: phaseTimeoutMs(config.connectTimeoutSeconds, ctx, until),
          associationTimeoutMs: phaseTimeoutMs(config.associationTimeoutSeconds, ctx, until),
          responseTimeoutMs: phaseTimeoutMs(config.responseTimeoutSeconds, ctx, until),
          echo: false,
          ...extra,
        },
        { signal: ctx.signal, now: () => ctx.now() },
      );
    const first = await session(
      { store: { elements: testInstance(uids, config.patientId, startedAt) }, ...(config.find.enabled ? { find: findQuery(uids.study) } : {}) },
      sessionUntil,
    );

    const certificate = certificateCheck(first.peerCertificate, config.tls, ctx.now());
    const metrics: Metric[] = [...timingMetrics(first), ...certificate.metrics];
    const store = first.store;
    if (!store || !('ms' in store)) {
      if (first.failure) return failureOutcome(first.failure, target, metrics, config);
      if (store) {
        return outcome(
          'CRITICAL',
          'unexpected_response',
          `${target}: the node does not accept Secondary Capture Image Storage (${store.notAccepted}) — allow ${config.callingAet} to store on it`,
          metrics,
        );
      }
      return outcome('CRITICAL', 'protocol_error', `${target}: the association ended before the C-STORE response`, metrics);
    }
    metrics.push({ name: 'store_seconds', value: seconds(store.ms), unit: 'seconds' });
    const stored = storeVerdict(store.status, store.errorComment);
    if (stored.status === 'CRITICAL') {
      return outcome('CRITICAL', stored.reason, `${target}: C-STORE of the test image failed with status ${stored.text}`, metrics);
    }

    const connect = `connect ${fmt(first.connectMs ?? 0)}, association ${fmt(first.associationMs ?? 0)}`;
    let summary = `C-STORE of test study ${uids.study} (patient ${config.patientId}) to ${target} succeeded in ${fmt(store.ms)} (${connect})`;
    const findings: Finding[] = [];
    let failed: Finding | undefined;
    if (config.find.enabled) {
      const findUntil = Math.min(store.at + config.find.timeoutSeconds * 1000, sessionUntil);
      const found = await findStored(first, store.at, uids.study, config, ctx, (find, until) => session({ find }, until), findUntil, config);
      metrics.push({ name: 'find_queries', value: found.queries, unit: 'count' });
      if (found.found) {
        metrics.push({ name: 'findable_seconds', value: seconds(found.ms), unit: 'seconds' });
        summary += `; findable by C-FIND after ${fmt(found.ms)} (${queries(found.queries)})`;
        const slow = thresholdFinding('time until findable', seconds(found.ms), config.find.warning, config.find.critical);
        if (slow) findings.push(slow);
      } else {
        failed = { status: found.status, reason: found.reason, text: found.text };
      }
    }

    let judged: CheckOutcome;
    if (failed) {
      judged = outcome(failed.status, failed.reason, `${summary}, but ${failed.text}`, metrics);
    } else if (certificate.verdict?.reason === 'tls') {
      // An expired certificate is a failure, not a threshold: every modality that checks it is refused.
      judged = outcome('CRITICAL', 'tls', `${summary}, but ${certificate.verdict.text}`, metrics);
    } else {
      if (stored.status === 'WARNING') findings.unshift({ status: 'WARNING', reason: stored.reason, text: `the node answered with status ${stored.text}` });
      const slowStore = thresholdFinding('C-STORE', seconds(store.ms), config.warning, config.critical);
      if (slowStore) findings.push(slowStore);
      if (certificate.verdict) findings.push(certificate.verdict);
      const worst = worstStatus(...findings.map((f) => f.status));
      judged =
        worst === 'OK'
          ? outcome('OK', 'ok', `${summary}${certificate.note}`, metrics)
          : outcome(worst, findings.find((f) => f.status === worst)!.reason, `${summary} — ${findings.map((f) => f.text).join('; ')}`, metrics);
    }

    if (!config.cleanup) return judged;
    // The status stays what the store and find earned; a failed cleanup is said and counted, so test studies piling up are seen.
    const cleaned = await deleteTestStudy(config.cleanup, uids.study, config.calledAet, ctx.signal);
    judged.metrics.push({ name: 'cleanup_success', value: cleaned.ok ? 1 : 0, unit: '' });
    judged.summary += cleaned.ok ? '; test study deleted through Orthanc' : `; cleanup failed: ${cleaned.text}`;
    return judged;
  },
});
