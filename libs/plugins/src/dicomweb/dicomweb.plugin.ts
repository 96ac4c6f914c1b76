import type { OutgoingHttpHeaders } from 'node:http';
import { localDateTime, type CheckStatus, type Reason } from '#rounds/common';
import { definePlugin, outcome, type CheckContext, type CheckOutcome, type Metric } from '../plugin.js';
import { describeNetworkError, formatBytes, formatSeconds, latencyVerdict, preview, secondsSince, timeoutText } from '../shared/net-common.js';
import { phaseText, requestOnce, type Hop } from '../shared/http-request.js';
import { readTlsFiles, TlsFileError, type TlsMaterial } from '../shared/tls-files.js';
import { dicomwebSchema, isDateKey, TODAY, type DicomwebConfig } from './dicomweb.schema.js';

const VERSION = '1.0.0';
/** A QIDO-RS answer of at most 100 studies is a few hundred KiB; more is not a search answer. */
const MAX_SEARCH_BYTES = 4 * 1024 * 1024;
const STUDY_INSTANCE_UID = '0020000D';

/** The two steps of the check, as people name them in summaries. */
type Step = 'search' | 'metadata';
const STEP_TEXT: Record<Step, string> = { search: 'the QIDO-RS study search', metadata: 'the WADO-RS metadata retrieval' };

interface Failure {
  status: CheckStatus;
  reason: Reason;
  text: string;
}

interface Answer {
  hop: Hop;
  seconds: number;
}

/** A DICOM JSON dataset: attributes by tag, each with a VR and maybe a Value list. */
type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

function headers(config: DicomwebConfig): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = { 'user-agent': `Rounds-dicomweb/${VERSION}`, accept: 'application/dicom+json' };
  if (config.basicAuth) h.authorization = `Basic ${Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString('base64')}`;
  else if (config.bearerToken) h.authorization = `Bearer ${config.bearerToken}`;
  return h;
}

/** `base` with `path` appended below it (a proxy prefix such as /pacs/dicom-web is kept). */
function below(base: string, path: string, search = ''): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  url.search = search;
  return url;
}

/** YYYYMMDD of the instant in `timeZone` (the agent's own zone when absent): what `today` means. */
function dicomDate(atMs: number, timeZone: string | undefined): string {
  const local = localDateTime(atMs, timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  return `${local.year}${String(local.month).padStart(2, '0')}${String(local.day).padStart(2, '0')}`;
}

function searchParams(config: DicomwebConfig, nowMs: number): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(config.query)) {
    params.set(key, value === TODAY && isDateKey(key) ? dicomDate(nowMs, config.timeZone) : value);
  }
  params.set('limit', String(config.limit));
  return params;
}

/** What a server's error body says, for the summary: Orthanc's Details/Message, a JSON message, or the first line of text. */
function errorDetails(hop: Hop): string {
  const text = hop.body.toString('utf8').trim();
  if (text === '') return '';
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    for (const key of ['Details', 'Message', 'message', 'error', 'errorMessage']) {
      const value = body[key];
      if (typeof value === 'string' && value.trim() !== '') return `: ${preview(value.trim(), 120)}`;
    }
    return '';
  } catch {
    if (/^\s*</.test(text)) return '';
    return `: ${preview(text.split('\n')[0] ?? '', 120)}`;
  }
}

/** HTTP statuses decoded to what a PACS admin does next; undefined for a 2xx. */
function statusFailure(step: Step, hop: Hop, url: URL, config: DicomwebConfig, configuredStudy: boolean): Failure | undefined {
  const status = hop.status;
  if (status >= 200 && status < 300) return undefined;
  const at = `${STEP_TEXT[step]} (GET ${url.pathname})`;
  const details = errorDetails(hop);
  if (status >= 300 && status < 400) {
    const target = hop.location !== undefined && URL.canParse(hop.location, url) ? new URL(hop.location, url) : undefined;
    if (target?.protocol === 'https:' && url.protocol === 'http:' && target.hostname === url.hostname && target.pathname === url.pathname) {
      return { status: 'CRITICAL', reason: 'unexpected_response', text: `the server redirects ${at} to https (HTTP ${status}): write url with https://` };
    }
    const where = hop.location === undefined ? '' : ` to ${preview(hop.location)}`;
    return {
      status: 'CRITICAL',
      reason: 'unexpected_response',
      text: `${at} was redirected${where} (HTTP ${status}): a login page or a proxy in between? Give the DICOMweb root itself as url`,
    };
  }
  if (status === 401) {
    const credentials = config.basicAuth ? 'basicAuth' : config.bearerToken ? 'bearerToken' : undefined;
    return {
      status: 'CRITICAL',
      reason: 'auth',
      text: credentials
        ? `the DICOMweb server refused the credentials (HTTP 401) for ${at}: check ${credentials}`
        : `the DICOMweb server asks for credentials (HTTP 401) for ${at}: set basicAuth or bearerToken`,
    };
  }
  if (status === 403) {
    return {
      status: 'CRITICAL',
      reason: 'access_denied',
      text: `the DICOMweb server forbids ${at} (HTTP 403)${details}: the credentials are known but may not read studies — grant them read access`,
    };
  }
  if (status === 404 && step === 'search') {
    return {
      status: 'CRITICAL',
      reason: 'config_error',
      text: `${at} found nothing at ${url.origin}${url.pathname} (HTTP 404): is the DICOMweb service (Orthanc's DICOMweb plugin) enabled, and is url its root (e.g. …/dicom-web)?`,
    };
  }
  if (status === 404) {
    return {
      status: 'CRITICAL',
      reason: 'unexpected_response',
      text: configuredStudy
        ? `the study in studyInstanceUid is not on the server (HTTP 404 from ${at})${details}: was it deleted? Configure a study that stays`
        : `the server lists the study but ${at} answered HTTP 404${details}: is WADO-RS enabled at the same root as QIDO-RS?`,
    };
  }
  if (status === 400) {
    return {
      status: 'CRITICAL',
      reason: 'unexpected_response',
      text: `the server refused ${at} as a bad request (HTTP 400)${details}: check the query keys and values`,
    };
  }
  if (status === 406) {
    return { status: 'CRITICAL', reason: 'unexpected_response', text: `the server cannot answer ${at} in DICOM JSON (HTTP 406 Not Acceptable)${details}` };
  }
  if (status === 503) {
    return {
      status: 'CRITICAL',
      reason: 'unexpected_response',
      text: `the DICOMweb server is unavailable (HTTP 503 for ${at})${details}: overloaded, starting or in maintenance`,
    };
  }
  const kind = status >= 500 ? 'a server error' : 'an unexpected status';
  return { status: 'CRITICAL', reason: 'unexpected_response', text: `${at} answered ${kind}, HTTP ${status}${details}` };
}

/** The body as a DICOM JSON array, or the failure that says what came instead. */
function dicomJsonArray(step: Step, hop: Hop): DicomJson[] | Failure {
  const type = hop.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const text = hop.body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const what = type.includes('json') ? `malformed ${type}` : `${type || 'an untyped body'}, not DICOM JSON`;
    const hint = type.includes('html') ? ': a login page or a web viewer? Give the DICOMweb root as url' : '';
    return { status: 'CRITICAL', reason: 'unexpected_response', text: `${STEP_TEXT[step]} answered ${what} (starts ${preview(text, 40)})${hint}` };
  }
  if (!Array.isArray(parsed) || parsed.some((d) => typeof d !== 'object' || d === null || Array.isArray(d))) {
    return {
      status: 'CRITICAL',
      reason: 'unexpected_response',
      text: `${STEP_TEXT[step]} answered JSON that is not a list of DICOM datasets (starts ${preview(text, 40)})`,
    };
  }
  return parsed as DicomJson[];
}

function studyUid(dataset: DicomJson | undefined): string | undefined {
  const value = dataset?.[STUDY_INSTANCE_UID]?.Value?.[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

async function get(step: Step, url: URL, maxBodyBytes: number, config: DicomwebConfig, tls: TlsMaterial, ctx: CheckContext): Promise<Answer | Failure> {
  const start = performance.now();
  const result = await requestOnce({ url, method: 'GET', headers: headers(config), stopAtRedirect: true, tlsVerify: config.tlsVerify, tls, maxBodyBytes }, ctx);
  const seconds = secondsSince(start);
  if (result.ok) return { hop: result.hop, seconds };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (result.aborted) {
    return {
      status: 'CRITICAL',
      reason: 'timeout',
      text: `${timeoutText(seconds, phaseText(result.phase, host, port, result.bodyBytes))} in ${STEP_TEXT[step]}`,
    };
  }
  const { reason, text } = describeNetworkError(result.error, result.phase, host, port);
  return { status: 'CRITICAL', reason, text: `${STEP_TEXT[step]}: ${text}` };
}

const isFailure = (value: object): value is Failure => 'reason' in value;

async function runDicomweb(config: DicomwebConfig, ctx: CheckContext): Promise<CheckOutcome> {
  let tls: TlsMaterial;
  try {
    tls = await readTlsFiles(config);
  } catch (e) {
    if (e instanceof TlsFileError) return outcome('UNKNOWN', 'config_error', e.message);
    throw e;
  }
  const metrics: Metric[] = [];
  const fail = (f: Failure) => outcome(f.status, f.reason, f.text, metrics);

  const searchUrl = below(config.url, 'studies', `?${searchParams(config, ctx.now()).toString()}`);
  const search = await get('search', searchUrl, MAX_SEARCH_BYTES, config, tls, ctx);
  if (isFailure(search)) return fail(search);
  const refused = statusFailure('search', search.hop, searchUrl, config, false);
  if (refused) return fail(refused);
  if (search.hop.truncated) {
    return fail({ status: 'CRITICAL', reason: 'unexpected_response', text: `${STEP_TEXT.search} answered more than ${formatBytes(MAX_SEARCH_BYTES)}` });
  }
  // 204 No Content is how the standard says "no match"; Orthanc answers [] instead.
  const studies = search.hop.status === 204 ? [] : dicomJsonArray('search', search.hop);
  if (isFailure(studies)) return fail(studies);
  metrics.push({ name: 'search_seconds', value: search.seconds, unit: 'seconds' }, { name: 'search_matches', value: studies.length, unit: '' });
  const found = `QIDO-RS found ${plural(studies.length, 'study', 'studies')} in ${formatSeconds(search.seconds)}`;
  const head = `DICOMweb at ${config.url}: ${found}`;

  const uid = config.studyInstanceUid ?? studyUid(studies[0]);
  if (studies.length > 0 && config.studyInstanceUid === undefined && uid === undefined) {
    return fail({ status: 'CRITICAL', reason: 'unexpected_response', text: `${head}, but the first has no StudyInstanceUID (0020000D)` });
  }
  let retrieved = '';
  let total = search.seconds;
  if (config.retrieveMetadata && uid !== undefined) {
    const metadataUrl = below(config.url, `studies/${encodeURIComponent(uid)}/metadata`);
    const metadata = await get('metadata', metadataUrl, config.maxMetadataBytes, config, tls, ctx);
    if (isFailure(metadata)) return fail({ ...metadata, text: `${metadata.text} (after ${found})` });
    const refusedMetadata = statusFailure('metadata', metadata.hop, metadataUrl, config, config.studyInstanceUid !== undefined);
    if (refusedMetadata) return fail({ ...refusedMetadata, text: `${refusedMetadata.text} (after ${found})` });
    total += metadata.seconds;
    metrics.push(
      { name: 'metadata_seconds', value: metadata.seconds, unit: 'seconds' },
      { name: 'metadata_bytes', value: metadata.hop.bodyBytes, unit: 'bytes' },
    );
    const which = config.studyInstanceUid === undefined ? 'of the first study' : `of study ${uid}`;
    if (metadata.hop.truncated) {
      // A study too large to parse here still proves that WADO-RS serves it; the time is what it took to read that much.
      retrieved = `; WADO-RS metadata ${which}: the first ${formatBytes(config.maxMetadataBytes)} (maxMetadataBytes) read in ${formatSeconds(metadata.seconds)}, not parsed`;
    } else {
      const instances = dicomJsonArray('metadata', metadata.hop);
      if (isFailure(instances)) return fail({ ...instances, text: `${instances.text} (after ${found})` });
      const other = instances.map(studyUid).find((u) => u !== undefined && u !== uid);
      if (instances.length === 0 || other !== undefined) {
        const got = instances.length === 0 ? 'no instances' : `an instance of study ${other}`;
        return fail({ status: 'CRITICAL', reason: 'unexpected_response', text: `${head}, but the WADO-RS metadata of study ${uid} holds ${got}` });
      }
      metrics.push({ name: 'metadata_instances', value: instances.length, unit: '' });
      retrieved = `; WADO-RS metadata ${which} (${plural(instances.length, 'instance')}, ${formatBytes(metadata.hop.bodyBytes)}) in ${formatSeconds(metadata.seconds)}`;
    }
  }
  metrics.push({ name: 'total_seconds', value: total, unit: 'seconds' });

  const summary = `${head}${retrieved}`;
  const latency = latencyVerdict(total, config.latencyWarning, config.latencyCritical);
  if (latency) return outcome(latency.status, 'threshold', `latency ${latency.text} — ${summary}`, metrics);
  if (studies.length === 0) {
    const none = `no study matches ${searchUrl.search === '' ? 'the search' : `?${searchUrl.searchParams.toString()}`}`;
    const status = config.noMatchStatus;
    return outcome(status, status === 'OK' ? 'ok' : 'assertion', `${none} — ${summary}`, metrics);
  }
  return outcome('OK', 'ok', summary, metrics);
}

/** Searches studies with QIDO-RS and retrieves one study's metadata with WADO-RS, timing both. */
export const dicomwebPlugin = definePlugin({
  name: 'dicomweb',
  version: VERSION,
  description: "Searches a PACS's DICOMweb API for studies (QIDO-RS) and retrieves one study's metadata (WADO-RS), timing each step.",
  configSchema: dicomwebSchema,
  metrics: [
    { name: 'search_seconds', unit: 'seconds', help: 'QIDO-RS study search, from request to the whole answer.' },
    { name: 'search_matches', unit: '', help: 'Studies the QIDO-RS search returned (at most its limit).' },
    { name: 'metadata_seconds', unit: 'seconds', help: "WADO-RS retrieval of one study's metadata, from request to the whole answer." },
    { name: 'metadata_bytes', unit: 'bytes', help: "Size of the study's WADO-RS metadata as received (at most maxMetadataBytes and a chunk)." },
    { name: 'metadata_instances', unit: '', help: "Instances in the study's WADO-RS metadata (when it was read whole)." },
    { name: 'total_seconds', unit: 'seconds', help: 'Search and retrieval together; the latency thresholds use it.' },
  ],
  run: runDicomweb,
});
