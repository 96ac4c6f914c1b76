// One DICOM association as the DICOM plugins need it (dicom-echo, dicom-worklist): connect,
// associate, C-ECHO and/or one C-FIND, release — timed per phase, bounded by the check's signal.
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type dimse from 'dcmjs-dimse';
import { outcome, type CheckContext, type CheckOutcome, type Metric } from '../plugin.js';
import { describeAbort, describeReject, STATUS_PENDING, type AssociateReject } from './dicom-codes.js';
import type { DicomConnectionConfig } from './dicom-fields.js';
import { readTlsFiles } from './tls-files.js';

type Dimse = typeof dimse;

let library: Promise<Dimse> | undefined;

/**
 * dcmjs-dimse (with dcmjs, several MiB of heap) is loaded on the first DICOM check, not
 * when the agent starts: most agents never run one. A failed load is retried next time.
 */
function loadDimse(): Promise<Dimse> {
  if (!library) {
    library = import('dcmjs-dimse').then((m) => {
      // The library logs every PDU and error to the console; the outcome carries what matters.
      m.default.log.setLevel('silent');
      return m.default;
    });
    library.catch(() => {
      library = undefined;
    });
  }
  return library;
}

type Association = InstanceType<typeof dimse.association.Association>;
type Request = InstanceType<typeof dimse.requests.Request>;
type Response = InstanceType<typeof dimse.responses.Response>;
type CFindResponse = InstanceType<typeof dimse.responses.CFindResponse>;

/** Where the session was when it ended; timeouts and errors are reported against it. */
export type Phase = 'connect' | 'tls' | 'associate' | 'echo' | 'find' | 'release';

export type SessionFailure =
  | { kind: 'dns' | 'refused' | 'unreachable' | 'tls' | 'timeout' | 'protocol_error'; phase: Phase; message: string }
  | { kind: 'rejected'; reject: AssociateReject }
  | { kind: 'aborted'; abort: { source: number; reason: number } };

export interface SessionOptions {
  host: string;
  port: number;
  callingAet: string;
  calledAet: string;
  connectTimeoutMs: number;
  associationTimeoutMs: number;
  responseTimeoutMs: number;
  tls?: ConnectionOptions;
  /** Send a C-ECHO first (default); a worklist check goes straight to its query. */
  echo?: boolean;
  /** One C-FIND after the C-ECHO; C-CANCEL once `limit` matches are in. */
  find?: { limit: number; query: FindQuery };
}

/**
 * What a C-FIND asks. Dates are DICOM dates or ranges, '' for any; an absent AE title or
 * modality matches any. The worklist query asks for the scheduled step's own keys only —
 * no patient names or IDs: a check has no business pulling patient data onto the agent.
 */
export type FindQuery =
  { model: 'study'; studyDate: string } | { model: 'worklist'; scheduledDate: string; scheduledStationAet?: string | undefined; modality?: string | undefined };

export interface SessionResult {
  connectMs?: number;
  associationMs?: number;
  echo?: { ms: number; status: number; errorComment?: string } | { notAccepted: string };
  find?: { ms?: number; matches: number; status?: number; errorComment?: string; notAccepted?: string; cancelled: boolean };
  /** Set when the session could not finish; results gathered before it are kept. */
  failure?: SessionFailure;
}

export interface SessionClock {
  signal: AbortSignal;
  now(): number;
}

/**
 * The parts of dcmjs-dimse's Client that its typings leave out: `send` creates
 * `network` synchronously, and we need its socket (for per-phase timeouts and a
 * guaranteed close) and its `abort` event (the Client does not forward A-ABORT).
 */
interface ClientInternals {
  network?: {
    socket: Socket;
    on(event: 'abort', listener: (abort: { source: number; reason: number }) => void): void;
  };
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

/**
 * One association: C-ECHO, then (optionally) a study-level C-FIND, then release.
 * Never rejects: a node that is down or says no is a {@link SessionFailure}.
 * Every path ends with the socket destroyed, so an aborted check leaves nothing open.
 */
export async function runDicomSession(options: SessionOptions, clock: SessionClock): Promise<SessionResult> {
  let dimse: Dimse;
  try {
    dimse = await loadDimse();
  } catch (e) {
    return { failure: { kind: 'protocol_error', phase: 'connect', message: `cannot load the DICOM library: ${(e as Error).message}` } };
  }
  const { Client, Dataset } = dimse;
  const { CEchoRequest, CFindRequest } = dimse.requests;
  const result: SessionResult = {};
  const started = clock.now();
  let phase: Phase = 'connect';
  let connectedAt = 0;
  let acceptedAt = 0;
  let socketError: (Error & { code?: string }) | undefined;
  let socket: Socket | undefined;
  const client = new Client();

  const echo = options.echo === false ? undefined : new CEchoRequest();
  if (echo) client.addRequest(echo);
  let find: InstanceType<typeof CFindRequest> | undefined;
  let findStartedAt = 0;
  if (options.find) {
    const query = options.find.query;
    if (query.model === 'study') {
      find = CFindRequest.createStudyFindRequest({
        StudyDate: query.studyDate,
        StudyInstanceUID: '',
        PatientID: '',
        AccessionNumber: '',
        ModalitiesInStudy: '',
      });
    } else {
      // Built by hand: the library's worklist factory asks for some forty patient and study
      // keys and adds a Query/Retrieve Level that a worklist identifier does not carry.
      find = new CFindRequest();
      find.setAffectedSopClassUid(dimse.constants.SopClass.ModalityWorklistInformationModelFind);
      find.setDataset(
        new Dataset({
          ScheduledProcedureStepSequence: [
            {
              ScheduledStationAETitle: query.scheduledStationAet ?? '',
              Modality: query.modality ?? '',
              ScheduledProcedureStepStartDate: query.scheduledDate,
              ScheduledProcedureStepStartTime: '',
              ScheduledProcedureStepID: '',
            },
          ],
        }),
      );
    }
    client.addRequest(find);
    result.find = { matches: 0, cancelled: false };
  }

  return new Promise<SessionResult>((resolve) => {
    let settled = false;
    const finish = (failure?: SessionFailure) => {
      if (settled) return;
      settled = true;
      if (failure) result.failure = failure;
      clock.signal.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve(result);
    };

    const onAbort = () => {
      if (phase === 'echo' || phase === 'find' || phase === 'release') {
        // Tell the node we are going, so it does not hold the association until its own timeout.
        try {
          client.abort();
        } catch {
          // no association to abort
        }
      }
      finish({ kind: 'timeout', phase, message: `the check's deadline came during ${describePhase(phase)}` });
    };
    if (clock.signal.aborted) {
      finish({ kind: 'timeout', phase, message: "the check's deadline had passed before connecting" });
      return;
    }
    clock.signal.addEventListener('abort', onAbort, { once: true });

    const setIdleTimeout = (ms: number) => socket?.setTimeout(Math.max(1, Math.round(ms)));

    client.on('connected', () => {
      connectedAt = clock.now();
      result.connectMs = connectedAt - started;
      phase = options.tls ? 'tls' : 'associate';
      setIdleTimeout(options.associationTimeoutMs);
    });

    client.on('associationAccepted', (association: Association) => {
      acceptedAt = clock.now();
      result.associationMs = acceptedAt - connectedAt;
      phase = echo ? 'echo' : 'find';
      findStartedAt = acceptedAt;
      setIdleTimeout(options.responseTimeoutMs);
      const echoContext = echo && rejectedContext(association, echo);
      if (echoContext) {
        result.echo = { notAccepted: echoContext };
        phase = find ? 'find' : 'release';
      }
      if (find && result.find) {
        const findContext = rejectedContext(association, find);
        if (findContext) {
          result.find.notAccepted = findContext;
          if (phase === 'find') phase = 'release';
        }
      }
    });

    client.on('associationRejected', (reject: AssociateReject) => finish({ kind: 'rejected', reject }));
    client.on('associationReleased', () => finish());

    client.on('networkError', (error: Error) => {
      finish(classify(error, socketError, phase));
    });

    client.on('closed', () => {
      if (phase === 'release') return finish();
      finish({
        kind: 'protocol_error',
        phase,
        message: `the node closed the connection during ${describePhase(phase)} without a reject or abort`,
      });
    });

    echo?.on('response', (response: Response) => {
      result.echo = { ms: clock.now() - acceptedAt, status: response.getStatus(), ...comment(response) };
      phase = find && !result.find?.notAccepted ? 'find' : 'release';
      findStartedAt = clock.now();
    });

    if (find && options.find) {
      const limit = options.find.limit;
      const query = find;
      (query as Request).on('response', (response: CFindResponse) => {
        const found = result.find!;
        const status = response.getStatus();
        if (STATUS_PENDING.includes(status)) {
          // Matches the node sent before our C-CANCEL reached it are not counted: the count stops at the limit.
          if (found.cancelled) return;
          if (response.hasDataset()) found.matches++;
          if (found.matches >= limit && !found.cancelled) {
            // Enough to prove the PACS answers; do not make it stream the whole day.
            found.cancelled = true;
            try {
              client.cancel(query);
            } catch {
              // connection already gone: networkError/closed will report it
            }
          }
          return;
        }
        found.status = status;
        found.ms = clock.now() - findStartedAt;
        Object.assign(found, comment(response));
        phase = 'release';
      });
    }

    try {
      client.send(options.host, options.port, options.callingAet, options.calledAet, {
        connectTimeout: options.connectTimeoutMs,
        associationTimeout: options.associationTimeoutMs,
        pduTimeout: options.responseTimeoutMs,
        ...(options.tls ? { securityOptions: options.tls as Record<string, never> } : {}),
      });
    } catch (e) {
      finish({ kind: 'protocol_error', phase, message: (e as Error).message });
      return;
    }
    const network = (client as unknown as ClientInternals).network;
    socket = network?.socket;
    // Ahead of the library's listener, which emits networkError with the code stripped.
    socket?.prependListener('error', (e: Error & { code?: string }) => {
      socketError = e;
    });
    socket?.once('secureConnect', () => {
      if (phase === 'tls') phase = 'associate';
    });
    network?.on('abort', (abort) => finish({ kind: 'aborted', abort }));
    setIdleTimeout(options.connectTimeoutMs);
  });
}

function comment(response: Response): { errorComment?: string } {
  const text = response.getErrorComment?.();
  return text ? { errorComment: String(text).trim() } : {};
}

/** Why the node would not take this request's SOP class, or undefined when it did. */
function rejectedContext(association: Association, request: Request): string | undefined {
  if (association.getAcceptedPresentationContextFromRequest(request)) return undefined;
  const uid = request.getAffectedSopClassUid();
  const proposed = association.getPresentationContexts().find((c) => c.context.getAbstractSyntaxUid() === uid);
  return proposed ? proposed.context.getResultDescription() : 'not proposed';
}

export function describePhase(phase: Phase): string {
  switch (phase) {
    case 'connect':
      return 'TCP connect';
    case 'tls':
      return 'the TLS handshake';
    case 'associate':
      return 'association';
    case 'echo':
      return 'the C-ECHO';
    case 'find':
      return 'the C-FIND';
    case 'release':
      return 'association release';
  }
}

function classify(error: Error, socketError: (Error & { code?: string }) | undefined, phase: Phase): SessionFailure {
  const code = socketError?.code ?? '';
  const detail = socketError?.message ?? error.message;
  if (DNS_CODES.has(code)) return { kind: 'dns', phase, message: `cannot resolve the host name (${code})` };
  if (code === 'ECONNREFUSED') return { kind: 'refused', phase, message: 'connection refused' };
  if (UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', phase, message: `network unreachable (${code})` };
  if (phase === 'tls' || /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)) {
    return { kind: 'tls', phase, message: `TLS handshake failed: ${detail}` };
  }
  if (/timeout/i.test(error.message) || code === 'ETIMEDOUT') {
    return { kind: 'timeout', phase, message: `no answer during ${describePhase(phase)}` };
  }
  return { kind: 'protocol_error', phase, message: `${describePhase(phase)} failed: ${detail.replace(/^.*?-> /, '')}` };
}

/** A phase timeout in ms, capped by what is left of the check's deadline so that a timeout names the slow phase. */
export function phaseTimeoutMs(configuredSeconds: number, ctx: CheckContext): number {
  return Math.max(1, Math.min(configuredSeconds * 1000, ctx.deadline - ctx.now()));
}

/** The session options that come from the connection fields; throws a TlsFileError for an unreadable TLS file. */
export async function sessionTarget(config: DicomConnectionConfig, ctx: CheckContext): Promise<SessionOptions> {
  const tls = config.tls && { ...(await readTlsFiles(config.tls)), rejectUnauthorized: config.tls.verify };
  return {
    host: config.host,
    port: config.port,
    callingAet: config.callingAet,
    calledAet: config.calledAet,
    connectTimeoutMs: phaseTimeoutMs(config.connectTimeoutSeconds, ctx),
    associationTimeoutMs: phaseTimeoutMs(config.associationTimeoutSeconds, ctx),
    responseTimeoutMs: phaseTimeoutMs(config.responseTimeoutSeconds, ctx),
    ...(tls ? { tls } : {}),
  };
}

/** True when the session failed only in its release: every answer was already in. */
export function lostOnlyRelease(result: SessionResult): boolean {
  return result.failure !== undefined && 'phase' in result.failure && result.failure.phase === 'release';
}

/** The outcome of a session that could not finish, its reject or abort in words. */
export function failureOutcome(failure: SessionFailure, target: string, metrics: Metric[]): CheckOutcome {
  switch (failure.kind) {
    case 'rejected':
      return outcome('CRITICAL', 'association_rejected', `${target}: association ${describeReject(failure.reject)}`, metrics);
    case 'aborted':
      return outcome('CRITICAL', 'aborted', `${target}: association ${describeAbort(failure.abort)}`, metrics);
    default:
      return outcome('CRITICAL', failure.kind, `${target}: ${failure.message}`, metrics);
  }
}
