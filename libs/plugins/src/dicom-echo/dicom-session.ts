import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type dimse from 'dcmjs-dimse';
import { STATUS_PENDING, type AssociateReject } from './dicom-codes.js';

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
  /** studyDate is a DICOM date or range, or '' for any. */
  find?: { limit: number; studyDate: string };
}

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
  const { Client } = dimse;
  const { CEchoRequest, CFindRequest } = dimse.requests;
  const result: SessionResult = {};
  const started = clock.now();
  let phase: Phase = 'connect';
  let connectedAt = 0;
  let acceptedAt = 0;
  let socketError: (Error & { code?: string }) | undefined;
  let socket: Socket | undefined;
  const client = new Client();

  const echo = new CEchoRequest();
  client.addRequest(echo);
  let find: InstanceType<typeof CFindRequest> | undefined;
  let findStartedAt = 0;
  if (options.find) {
    find = CFindRequest.createStudyFindRequest({
      StudyDate: options.find.studyDate,
      StudyInstanceUID: '',
      PatientID: '',
      AccessionNumber: '',
      ModalitiesInStudy: '',
    });
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
      phase = 'echo';
      setIdleTimeout(options.responseTimeoutMs);
      const echoContext = rejectedContext(association, echo);
      if (echoContext) {
        result.echo = { notAccepted: echoContext };
        phase = find ? 'find' : 'release';
        findStartedAt = clock.now();
      }
      if (find && result.find) {
        const findContext = rejectedContext(association, find);
        if (findContext) result.find.notAccepted = findContext;
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

    echo.on('response', (response: Response) => {
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
