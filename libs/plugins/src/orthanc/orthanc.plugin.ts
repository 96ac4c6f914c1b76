import { readFile } from 'node:fs/promises';
import { evaluateThresholds, type CheckStatus, type Reason, type ThresholdRange } from '#rounds/common';
import { definePlugin, outcome, type CheckContext, type Metric } from '../plugin.js';
import { OrthancClient, OrthancError } from './orthanc.client.js';
import { orthancSchema, type OrthancConfig } from './orthanc.schema.js';
import { formatBytes } from '../shared/net-common.js';
import { judgeArrival, lastArrival } from './orthanc.arrival.js';

interface OrthancSystem {
  Version?: string;
  DicomAet?: string;
  Name?: string;
}

interface OrthancStatistics {
  CountPatients?: number;
  CountStudies?: number;
  CountSeries?: number;
  CountInstances?: number;
  /** A string: Orthanc sends 64-bit sizes as text. */
  TotalDiskSize?: string | number;
}

interface OrthancJob {
  ID?: string;
  State?: string;
  Type?: string;
  ErrorDescription?: string;
}

interface ModalityEcho {
  id: string;
  ok: boolean;
  seconds: number;
  reason?: Reason;
  detail?: string;
}

interface Finding {
  status: CheckStatus;
  reason: Reason;
  text: string;
}

const ECHO_CONCURRENCY = 4;
const SEVERITY: Record<CheckStatus, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

/** Orthanc reports a failed modality echo only as text; these are DCMTK's words. */
const ECHO_FAILURES: Array<[RegExp, Reason]> = [
  [/connection refused/i, 'refused'],
  [/rejected/i, 'association_rejected'],
  [/abort/i, 'aborted'],
  [/time(d)?[ -]?out/i, 'timeout'],
  [/unknown host|resolve|getaddrinfo|name or service not known/i, 'dns'],
  [/no route|unreachable/i, 'unreachable'],
];

function echoFailureReason(detail: string): Reason {
  for (const [pattern, reason] of ECHO_FAILURES) if (pattern.test(detail)) return reason;
  return 'protocol_error';
}

function threshold(name: string, value: number, warning: ThresholdRange | undefined, critical: ThresholdRange | undefined, findings: Finding[]) {
  const verdict = evaluateThresholds(value, warning, critical);
  if (verdict === 'OK') return;
  const range = verdict === 'CRITICAL' ? critical : warning;
  findings.push({ status: verdict, reason: 'threshold', text: `${name} ${value} outside ${verdict.toLowerCase()} range ${range?.text}` });
}

async function echoModality(client: OrthancClient, id: string, timeoutSeconds: number, ctx: CheckContext): Promise<ModalityEcho> {
  const started = ctx.now();
  try {
    await client.post(`/modalities/${encodeURIComponent(id)}/echo`, { Timeout: timeoutSeconds });
    return { id, ok: true, seconds: (ctx.now() - started) / 1000 };
  } catch (e) {
    const seconds = (ctx.now() - started) / 1000;
    if (!(e instanceof OrthancError)) throw e;
    // Orthanc answers 500 with Details when its own C-ECHO fails; other errors are about Orthanc itself.
    if (e.status === 500 || e.status === 404) {
      const detail = e.message.replace(/^POST \S+ answered HTTP \d+: /, '');
      return { id, ok: false, seconds, reason: e.status === 404 ? 'config_error' : echoFailureReason(detail), detail };
    }
    return { id, ok: false, seconds, reason: e.reason, detail: e.message };
  }
}

async function echoAll(client: OrthancClient, ids: string[], timeoutSeconds: number, ctx: CheckContext): Promise<ModalityEcho[]> {
  const results = new Array<ModalityEcho>(ids.length);
  let next = 0;
  // A few at a time: each echo holds one of Orthanc's SCU associations.
  const worker = async () => {
    while (next < ids.length) {
      const index = next++;
      results[index] = await echoModality(client, ids[index]!, timeoutSeconds, ctx);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ECHO_CONCURRENCY, ids.length) }, worker));
  return results;
}

async function check(config: OrthancConfig, ctx: CheckContext) {
  const client = new OrthancClient({
    url: config.url,
    username: config.username,
    password: config.password,
    ca: config.caFile ? await readFile(config.caFile, 'utf8') : undefined,
    verifyTls: config.verifyTls,
    signal: ctx.signal,
  });
  const metrics: Metric[] = [];
  const findings: Finding[] = [];

  const started = ctx.now();
  const system = await client.get<OrthancSystem>('/system');
  metrics.push({ name: 'api_seconds', value: (ctx.now() - started) / 1000, unit: 'seconds' });
  const [stats, jobs] = await Promise.all([client.get<OrthancStatistics>('/statistics'), client.get<OrthancJob[]>('/jobs?expand')]);

  const count = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const storageBytes = Number(stats.TotalDiskSize ?? 0) || 0;
  metrics.push(
    { name: 'patients', value: count(stats.CountPatients), unit: '' },
    { name: 'studies', value: count(stats.CountStudies), unit: '' },
    { name: 'series', value: count(stats.CountSeries), unit: '' },
    { name: 'instances', value: count(stats.CountInstances), unit: '' },
    { name: 'storage_bytes', value: storageBytes, unit: 'bytes' },
  );
  threshold('storage bytes', storageBytes, config.storageBytesWarning, config.storageBytesCritical, findings);

  const jobList = Array.isArray(jobs) ? jobs : [];
  const inState = (...states: string[]) => jobList.filter((j) => states.includes(j.State ?? ''));
  const failed = inState('Failure');
  const pending = inState('Pending', 'Retry');
  const running = inState('Running');
  metrics.push(
    { name: 'jobs_failed', value: failed.length, unit: '' },
    { name: 'jobs_pending', value: pending.length, unit: '' },
    { name: 'jobs_running', value: running.length, unit: '' },
  );
  threshold('failed jobs', failed.length, config.jobsFailedWarning, config.jobsFailedCritical, findings);
  threshold('pending jobs', pending.length, config.jobsPendingWarning, config.jobsPendingCritical, findings);

  let echoText = '';
  if (config.echoModalities) {
    const known = await client.get<string[]>('/modalities');
    const ids = config.modalities ?? (Array.isArray(known) ? known : []);
    const remaining = Math.floor((ctx.deadline - ctx.now()) / 1000) - 1;
    const timeout = Math.max(1, Math.min(config.echoTimeoutSeconds, remaining));
    const echoes = await echoAll(client, ids, timeout, ctx);
    for (const echo of echoes) {
      metrics.push({ name: 'modality_echo_success', value: echo.ok ? 1 : 0, unit: '', labels: { modality: echo.id } });
      if (echo.ok) metrics.push({ name: 'modality_echo_seconds', value: echo.seconds, unit: 'seconds', labels: { modality: echo.id } });
      else {
        const why = echo.reason === 'config_error' ? 'not configured in Orthanc' : `${echo.reason}: ${echo.detail}`;
        findings.push({ status: 'CRITICAL', reason: echo.reason ?? 'protocol_error', text: `C-ECHO from Orthanc to ${echo.id} failed (${why})` });
      }
    }
    const good = echoes.filter((e) => e.ok).length;
    echoText = ids.length === 0 ? '; no modalities configured' : `; C-ECHO to ${good}/${ids.length} modalities OK`;
  }

  let arrivalText = '';
  if (config.arrival) {
    const verdict = judgeArrival(await lastArrival(client), config.arrival, ctx.now());
    metrics.push(...verdict.metrics);
    if (verdict.finding) findings.push(verdict.finding);
    arrivalText = `; ${verdict.text}`;
  }

  const version = system.Version ?? 'unknown version';
  const summary =
    `Orthanc ${version} (${system.DicomAet ?? '?'}) at ${config.url}: ${count(stats.CountPatients)} patients, ` +
    `${count(stats.CountStudies)} studies, ${count(stats.CountInstances)} instances, ${formatBytes(storageBytes)} stored; ` +
    `jobs ${failed.length} failed, ${pending.length} pending, ${running.length} running${echoText}${arrivalText}`;

  if (findings.length === 0) return outcome('OK', 'ok', summary, metrics);
  const worst = findings.reduce((a, b) => (SEVERITY[b.status] > SEVERITY[a.status] ? b : a));
  return outcome(worst.status, worst.reason, `${findings.map((f) => f.text).join('; ')} — ${summary}`, metrics);
}

export const orthancPlugin = definePlugin({
  name: 'orthanc',
  version: '1.1.0',
  description:
    'Checks an Orthanc PACS through its REST API: version, counts, storage, jobs, a C-ECHO from Orthanc to each of its modalities, and the time since the last instance arrived.',
  configSchema: orthancSchema,
  metrics: [
    { name: 'api_seconds', unit: 'seconds', help: 'Round trip of GET /system.' },
    { name: 'patients', unit: '', help: 'Patients stored.' },
    { name: 'studies', unit: '', help: 'Studies stored.' },
    { name: 'series', unit: '', help: 'Series stored.' },
    { name: 'instances', unit: '', help: 'Instances stored.' },
    { name: 'storage_bytes', unit: 'bytes', help: 'Disk space the stored instances take.' },
    { name: 'jobs_failed', unit: '', help: 'Jobs in state Failure.' },
    { name: 'jobs_pending', unit: '', help: 'Jobs in state Pending or Retry.' },
    { name: 'jobs_running', unit: '', help: 'Jobs in state Running.' },
    { name: 'modality_echo_success', unit: '', help: 'Whether the C-ECHO from Orthanc to a modality succeeded (1) or not (0).', labels: ['modality'] },
    { name: 'modality_echo_seconds', unit: 'seconds', help: 'Round trip of a successful C-ECHO from Orthanc to a modality.', labels: ['modality'] },
    {
      name: 'last_arrival_timestamp_seconds',
      unit: 'seconds',
      help: "When the newest stored instance arrived (Unix time, from Orthanc's change log; with arrival).",
    },
    {
      name: 'last_arrival_age_seconds',
      unit: 'seconds',
      help: 'Time since the newest stored instance arrived, at the run (a lower bound when it is older than the change log read; with arrival).',
    },
    {
      name: 'arrival_silence_seconds',
      unit: 'seconds',
      help: 'The silence the arrival thresholds judge: time without a new instance, counting only working hours when they are set (with arrival).',
    },
  ],
  async run(config, ctx) {
    try {
      return await check(config, ctx);
    } catch (e) {
      if (e instanceof OrthancError) return outcome('CRITICAL', e.reason, e.message);
      if ((e as { code?: string }).code === 'ENOENT' || (e as { code?: string }).code === 'EACCES') {
        return outcome('UNKNOWN', 'config_error', `cannot read caFile ${config.caFile}: ${(e as Error).message}`);
      }
      throw e;
    }
  },
});
