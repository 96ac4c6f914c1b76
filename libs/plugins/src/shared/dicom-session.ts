// One DICOM association as the DICOM plugins need it (dicom-echo, dicom-worklist, dicom-store):
// connect, associate, C-ECHO, C-STORE and/or one C-FIND, release — timed per phase, bounded by
// the check's signal.
import type { Socket } from 'node:net';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import type dimse from 'dcmjs-dimse';
import { outcome, type CheckContext, type CheckOutcome, type Metric, type Reason } from '../plugin.js';
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
export type Phase = 'connect' | 'tls' | 'associate' | 'echo' | 'store' | 'find' | 'release';

/** The requests a session can send, in the order it sends them. */
type StepPhase = 'echo' | 'store' | 'find';

const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';

export type SessionFailure =
  | { kind: 'dns' | 'refused' | 'unreachable' | 'tls' | 'timeout' | 'protocol_error'; phase: Phase; message: string }
  | { kind: 'rejected'; reject: AssociateReject }
  | { kind: 'aborted'; abort: { source: number; reason: number }; phase: Phase };

export interface SessionOptions {
  host: string;
  port: number;
  callingAet: string;
  calledAet: string;
  connectTimeoutMs: number;
  associationTimeoutMs: number;
  responseTimeoutMs: number;
  tls?: ConnectionOptions;
  /** Send a C-ECHO first (default); a worklist or store check goes straight to its request. */
  echo?: boolean;
  /**
   * C-STORE one instance (after the C-ECHO), given as dcmjs naturalized elements (`_vrMap` for
   * VRs the dictionary cannot tell); sent as implicit VR little endian, or transcoded to what
   * the node accepts.
   */
  store?: { elements: Record<string, unknown> };
  /** One C-FIND, last; C-CANCEL once `limit` matches are in. */
  find?: { limit: number; query: FindQuery };
}

/**
 * What a C-FIND asks. Dates are DICOM dates or ranges, '' for any; an absent AE title or
 * modality matches any; a study query may name one study by its StudyInstanceUID. The worklist
 * query asks for the scheduled step's own keys only — no patient names or IDs: a check has no
 * business pulling patient data onto the agent.
 */
export type FindQuery =
  | { model: 'study'; studyDate: string; studyInstanceUid?: string }
  | { model: 'worklist'; scheduledDate: string; scheduledStationAet?: string | undefined; modality?: string | undefined };

/** The final response to one request: `ms` after it was sent, `at` by the session's clock. */
export interface DimseAnswer {
  ms: number;
  at: number;
  status: number;
  errorComment?: string;
}

/** A request the node answered, or why it would not take its SOP class. */
export type StepResult = DimseAnswer | { notAccepted: string };

export interface FindResult {
  ms?: number;
  /** When the final response came, by the session's clock. */
  at?: number;
  matches: number;
  /** The identifiers of the counted matches, as dcmjs naturalized elements. */
  identifiers: Record<string, unknown>[];
  status?: number;
  errorComment?: string;
  notAccepted?: string;
  cancelled: boolean;
}

export interface SessionResult {
  connectMs?: number;
  associationMs?: number;
  /** The node's certificate, over DICOM TLS once the handshake is done. */
  peerCertificate?: PeerCertificate;
  echo?: StepResult;
  store?: StepResult;
  find?: FindResult;
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
 * One association: C-ECHO (unless turned off), then optionally a C-STORE and a C-FIND, in that
 * order, then release. Never rejects: a node that is down or says no is a {@link SessionFailure}.
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
  const { CEchoRequest, CFindRequest, CStoreRequest } = dimse.requests;
  const result: SessionResult = {};
  const started = clock.now();
  let phase: Phase = 'connect';
  let connectedAt = 0;
  let stepStartedAt = 0;
  let socketError: (Error & { code?: string }) | undefined;
  let socket: Socket | undefined;
  const client = new Client();

  const steps: { phase: StepPhase; request: Request; accepted: boolean }[] = [];
  const echo = options.echo === false ? undefined : new CEchoRequest();
  if (echo) steps.push({ phase: 'echo', request: echo, accepted: true });
  let store: InstanceType<typeof CStoreRequest> | undefined;
  if (options.store) {
    try {
      store = new CStoreRequest(new Dataset(options.store.elements, IMPLICIT_VR_LITTLE_ENDIAN));
    } catch (e) {
      return { failure: { kind: 'protocol_error', phase: 'connect', message: `cannot encode the instance to store: ${(e as Error).message}` } };
    }
    steps.push({ phase: 'store', request: store, accepted: true });
  }
  let find: InstanceType<typeof CFindRequest> | undefined;
  if (options.find) {
    const query = options.find.query;
    if (query.model === 'study') {
      find = CFindRequest.createStudyFindRequest({
        StudyDate: query.studyDate,
        StudyInstanceUID: query.studyInstanceUid ?? '',
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
    steps.push({ phase: 'find', request: find, accepted: true });
    result.find = { matches: 0, identifiers: [], cancelled: false };
  }
  for (const step of steps) client.addRequest(step.request);

  /** Moves on to the first accepted request after `done` (from the start when left out), or to release. */
  const advance = (done?: Request) => {
    const from = done ? steps.findIndex((s) => s.request === done) + 1 : 0;
    phase = steps.slice(from).find((s) => s.accepted)?.phase ?? 'release';
    stepStartedAt = clock.now();
  };

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
      if (phase === 'echo' || phase === 'store' || phase === 'find' || phase === 'release') {
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
      result.associationMs = clock.now() - connectedAt;
      setIdleTimeout(options.responseTimeoutMs);
      for (const step of steps) {
        const notAccepted = rejectedContext(association, step.request);
        if (notAccepted === undefined) continue;
        // The library skips a request whose SOP class the node turned down.
        step.accepted = false;
        if (step.phase === 'find') result.find!.notAccepted = notAccepted;
        else result[step.phase] = { notAccepted };
      }
      advance();
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
      const at = clock.now();
      result.echo = { ms: at - stepStartedAt, at, status: response.getStatus(), ...comment(response) };
      advance(echo);
    });

    store?.on('response', (response: Response) => {
      const at = clock.now();
      result.store = { ms: at - stepStartedAt, at, status: response.getStatus(), ...comment(response) };
      advance(store);
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
          if (response.hasDataset()) {
            found.matches++;
            const identifier = response.getDataset();
            if (identifier) found.identifiers.push(identifier.getElements());
          }
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
        found.at = clock.now();
        found.ms = found.at - stepStartedAt;
        Object.assign(found, comment(response));
        advance(query);
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
      // Read while the handshake is fresh; the outcome says how long the certificate has left.
      const certificate = (socket as TLSSocket).getPeerCertificate();
      if (certificate && typeof certificate.valid_to === 'string') result.peerCertificate = certificate;
    });
    network?.on('abort', (abort) => finish({ kind: 'aborted', abort, phase }));
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
    case 'store':
      return 'the C-STORE';
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

/**
 * A phase timeout in ms, capped by what is left of the check's deadline (or of an earlier
 * `until`) so that a timeout names the slow phase.
 */
export function phaseTimeoutMs(configuredSeconds: number, ctx: CheckContext, until = ctx.deadline): number {
  return Math.max(1, Math.min(configuredSeconds * 1000, until - ctx.now()));
}

/**
 * The session options that come from the connection fields, phase timeouts capped at `until`
 * (the deadline by default); throws a TlsFileError for an unreadable TLS file.
 */
export async function sessionTarget(config: DicomConnectionConfig, ctx: CheckContext, until = ctx.deadline): Promise<SessionOptions> {
  const tls = config.tls && { ...(await readTlsFiles(config.tls)), rejectUnauthorized: config.tls.verify };
  return {
    host: config.host,
    port: config.port,
    callingAet: config.callingAet,
    calledAet: config.calledAet,
    connectTimeoutMs: phaseTimeoutMs(config.connectTimeoutSeconds, ctx, until),
    associationTimeoutMs: phaseTimeoutMs(config.associationTimeoutSeconds, ctx, until),
    responseTimeoutMs: phaseTimeoutMs(config.responseTimeoutSeconds, ctx, until),
    ...(tls ? { tls } : {}),
  };
}

/** True when the session failed only in its release: every answer was already in. */
export function lostOnlyRelease(result: SessionResult): boolean {
  return result.failure !== undefined && 'phase' in result.failure && result.failure.phase === 'release';
}

/** Our and the node's AE titles, for what to do about a rejection. */
export interface SessionAets {
  callingAet: string;
  calledAet: string;
}

/** What to do about the common association rejections, after the decoded reason. */
function rejectHint(reject: AssociateReject, aets: SessionAets): string {
  if (reject.source === 1 && reject.reason === 3) {
    return ` — the node does not know our AE title ${aets.callingAet}: add it to the node's known AE titles (or set callingAet to one it knows)`;
  }
  if (reject.source === 1 && reject.reason === 7) return ` — the node is not called ${aets.calledAet}: check calledAet against the node's AE title`;
  if (reject.source === 3) return ' — the node is busy: it will take associations again once others end, or its limit can be raised';
  return '';
}

/**
 * Why a session ended before its answers were in: the reason, and the words after "<target>: ".
 * With the AE titles, a rejection or an abort during the C-STORE also says what to do.
 */
export function describeFailure(failure: SessionFailure, aets?: SessionAets): { reason: Reason; text: string } {
  switch (failure.kind) {
    case 'rejected':
      return { reason: 'association_rejected', text: `association ${describeReject(failure.reject)}${aets ? rejectHint(failure.reject, aets) : ''}` };
    case 'aborted': {
      // Orthanc, for one, aborts the C-STORE of an AE title it does not let store, and says nothing else.
      const hint =
        aets && failure.phase === 'store'
          ? ` during the C-STORE — the node gave up on the image: it may not let ${aets.callingAet} store, or could not keep the image (its log says which)`
          : '';
      return { reason: 'aborted', text: `association ${describeAbort(failure.abort)}${hint}` };
    }
    default:
      return { reason: failure.kind, text: failure.message };
  }
}

/**
 * The outcome of a session that could not finish, its reject or abort in words; with the AE
 * titles, a rejection says what to do about them.
 */
export function failureOutcome(failure: SessionFailure, target: string, metrics: Metric[], aets?: SessionAets): CheckOutcome {
  const { reason, text } = describeFailure(failure, aets);
  return outcome('CRITICAL', reason, `${target}: ${text}`, metrics);
}
