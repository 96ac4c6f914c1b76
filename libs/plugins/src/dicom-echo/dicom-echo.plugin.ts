import { evaluateThresholds, worstStatus } from '#rounds/common';
import { definePlugin, outcome, type Metric } from '../plugin.js';
import { hostPort } from '../shared/net-common.js';
import { describeStatus, STATUS_CANCEL, STATUS_SUCCESS } from '../shared/dicom-codes.js';
import { failureOutcome, lostOnlyRelease, runDicomSession, sessionTarget, type SessionOptions, type SessionResult } from '../shared/dicom-session.js';
import { certificateCheck, TLS_CERT_EXPIRY_METRIC } from '../shared/dicom-certificate.js';
import { dicomEchoSchema } from './dicom-echo.schema.js';

const seconds = (ms: number) => Math.round(ms) / 1000;
const fmt = (ms: number) => `${seconds(ms).toFixed(3)} s`;

/** The StudyDate matching key: "today" in the agent's local time, "*" as universal matching. */
function studyDateKey(studyDate: string, now: number): string {
  if (studyDate === '*') return '';
  if (studyDate !== 'today') return studyDate;
  const d = new Date(now);
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}

function timingMetrics(result: SessionResult): Metric[] {
  const metrics: Metric[] = [];
  if (result.connectMs !== undefined) metrics.push({ name: 'connect_seconds', value: seconds(result.connectMs), unit: 'seconds' });
  if (result.associationMs !== undefined) metrics.push({ name: 'association_seconds', value: seconds(result.associationMs), unit: 'seconds' });
  if (result.echo && 'ms' in result.echo) metrics.push({ name: 'echo_seconds', value: seconds(result.echo.ms), unit: 'seconds' });
  if (result.find?.ms !== undefined) {
    metrics.push({ name: 'find_seconds', value: seconds(result.find.ms), unit: 'seconds' });
    metrics.push({ name: 'find_matches', value: result.find.matches, unit: '' });
  }
  return metrics;
}

export const dicomEchoPlugin = definePlugin({
  name: 'dicom-echo',
  version: '1.0.0',
  description: 'Verifies a DICOM node with C-ECHO (and optionally a study-level C-FIND), timing connect, association and round trip.',
  configSchema: dicomEchoSchema,
  metrics: [
    { name: 'connect_seconds', unit: 'seconds', help: 'Time to connect over TCP.' },
    { name: 'association_seconds', unit: 'seconds', help: 'Time from connected to association accepted (TLS included).' },
    { name: 'echo_seconds', unit: 'seconds', help: 'C-ECHO round trip.' },
    { name: 'find_seconds', unit: 'seconds', help: 'C-FIND from request to final response (with a find probe).' },
    { name: 'find_matches', unit: '', help: 'Studies the C-FIND probe returned (at most its limit).' },
    TLS_CERT_EXPIRY_METRIC,
  ],
  async run(config, ctx) {
    const target = `${config.calledAet}@${hostPort(config.host, config.port)}`;
    let session: SessionOptions;
    try {
      session = await sessionTarget(config, ctx);
    } catch (e) {
      return outcome('UNKNOWN', 'config_error', `${target}: ${(e as Error).message}`);
    }
    if (config.find) {
      session.find = { limit: config.find.limit, query: { model: 'study', studyDate: studyDateKey(config.find.studyDate, ctx.now()) } };
    }
    const result = await runDicomSession(session, { signal: ctx.signal, now: () => ctx.now() });
    const certificate = certificateCheck(result.peerCertificate, config.tls, ctx.now());
    const metrics = [...timingMetrics(result), ...certificate.metrics];
    const echo = result.echo;
    const find = result.find;

    // Every answer is in by the release phase: a node that is slow to release is not worth a page.
    const lostRelease = lostOnlyRelease(result);
    if (result.failure && !lostRelease) return failureOutcome(result.failure, target, metrics, config);
    if (lostRelease) ctx.log.debug(`${target}: association release not confirmed; the answers were already in`);
    if (!echo) return outcome('CRITICAL', 'protocol_error', `${target}: association ended before the C-ECHO response`, metrics);
    if ('notAccepted' in echo) {
      return outcome('CRITICAL', 'unexpected_response', `${target}: the node does not accept C-ECHO (Verification SOP Class: ${echo.notAccepted})`, metrics);
    }
    if (echo.status !== STATUS_SUCCESS) {
      const why = echo.errorComment ? `: ${echo.errorComment}` : '';
      return outcome('CRITICAL', 'unexpected_response', `${target}: C-ECHO answered with status ${describeStatus(echo.status)}${why}`, metrics);
    }

    let summary = `C-ECHO to ${target} succeeded in ${fmt(echo.ms)} (connect ${fmt(result.connectMs ?? 0)}, association ${fmt(result.associationMs ?? 0)})`;
    if (config.find && find) {
      if (find.notAccepted !== undefined) {
        return outcome('CRITICAL', 'unexpected_response', `${summary}, but the node does not accept study-level C-FIND (${find.notAccepted})`, metrics);
      }
      if (find.status === undefined) {
        return outcome('CRITICAL', 'protocol_error', `${summary}, but the C-FIND got no final response`, metrics);
      }
      const finished = find.status === STATUS_SUCCESS || (find.status === STATUS_CANCEL && find.cancelled);
      if (!finished) {
        const why = find.errorComment ? `: ${find.errorComment}` : '';
        return outcome('CRITICAL', 'unexpected_response', `${summary}, but C-FIND failed with status ${describeStatus(find.status)}${why}`, metrics);
      }
      const more = find.cancelled ? ' (limit reached, cancelled)' : '';
      summary += `; C-FIND for StudyDate ${config.find.studyDate} returned ${find.matches} ${find.matches === 1 ? 'study' : 'studies'}${more} in ${fmt(find.ms ?? 0)}`;
    }

    // An expired certificate is a failure, not a threshold: every modality that checks it is refused.
    if (certificate.verdict?.reason === 'tls') return outcome('CRITICAL', 'tls', `${summary}, but ${certificate.verdict.text}`, metrics);
    const latency = evaluateThresholds(seconds(echo.ms), config.warning, config.critical);
    const breaches: string[] = [];
    if (latency !== 'OK') {
      const range = latency === 'CRITICAL' ? config.critical : config.warning;
      breaches.push(`round trip outside ${latency.toLowerCase()} range ${range?.text}`);
    }
    if (certificate.verdict) breaches.push(certificate.verdict.text);
    if (breaches.length > 0) {
      return outcome(worstStatus(latency, certificate.verdict?.status ?? 'OK'), 'threshold', `${summary} — ${breaches.join('; ')}`, metrics);
    }
    return outcome('OK', 'ok', `${summary}${certificate.note}`, metrics);
  },
});
