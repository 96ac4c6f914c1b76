import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { AUTH_METADATA_KEY, COLLECT_LIMITS, certificateFingerprint } from '#rounds/common';
import {
  AgentServiceClient,
  type AgentDescription,
  type CheckResult,
  type ClaimRequest,
  type EnrolChallengeResponse,
  type CollectRequest,
  type CollectResponse,
  type RunCheckRequest,
} from '#rounds/common/wire';

/** How to reach one agent: address, bearer token and the pinned certificate fingerprint. */
export interface AgentEndpoint {
  id: string;
  name: string;
  host: string;
  port: number;
  token: string;
  fingerprint: string;
}

/** A failed call, with a sentence for people and a short code for state and metrics. */
export class AgentCallError extends Error {
  constructor(
    message: string,
    readonly code: 'unauthenticated' | 'unreachable' | 'timeout' | 'certificate' | 'protocol',
    /** How the agent refused, when it did: site-key enrolment tells its refusals apart by it. */
    readonly refusal?: AgentRefusal,
    /** What the agent said, as it said it. */
    readonly details?: string,
  ) {
    super(message);
  }
}

/** A refusal by its gRPC status: what a site-key claim's answers mean (proto/rounds/agent/v1, RPC Claim). */
export type AgentRefusal = 'denied' | 'precondition' | 'aborted' | 'throttled' | 'unimplemented' | 'invalid' | 'other';

const REFUSALS: Partial<Record<GrpcStatus, AgentRefusal>> = {
  [GrpcStatus.PERMISSION_DENIED]: 'denied',
  [GrpcStatus.FAILED_PRECONDITION]: 'precondition',
  [GrpcStatus.ABORTED]: 'aborted',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'throttled',
  [GrpcStatus.UNIMPLEMENTED]: 'unimplemented',
  [GrpcStatus.INVALID_ARGUMENT]: 'invalid',
};

/** An agent to enrol with the site key: where it is, and — once a person approved it — the certificate to pin. */
export interface EnrolTarget {
  /** Names the channel while the enrolment uses it (drop it after). */
  id: string;
  name: string;
  host: string;
  port: number;
  /** Absent at first contact: the certificate the agent presents is read, trusted for that call and reported. */
  fingerprint?: string;
}

/**
 * Opens one TLS connection to read the agent's certificate and checks it against
 * the pinned fingerprint. The certificate then becomes the channel's only trusted
 * root, so the gRPC handshake itself is pinned, not just this probe.
 */
export async function fetchPinnedCertificate(
  endpoint: Omit<AgentEndpoint, 'id' | 'token' | 'fingerprint'> & { fingerprint: string | undefined },
  timeoutMs: number,
): Promise<string> {
  const where = `agent ${endpoint.name} at ${endpoint.host}:${endpoint.port}`;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: endpoint.host,
      port: endpoint.port,
      // Verification is the fingerprint comparison below; a self-signed certificate is expected.
      rejectUnauthorized: false,
      servername: /^[\d.:]+$/.test(endpoint.host) ? undefined : endpoint.host,
      ALPNProtocols: ['h2'],
      timeout: timeoutMs,
    });
    const fail = (e: AgentCallError) => {
      socket.destroy();
      reject(e);
    };
    socket.once('timeout', () => fail(new AgentCallError(`${where} did not complete a TLS handshake within ${timeoutMs} ms`, 'timeout')));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'ECONNREFUSED'
          ? 'refused the connection — is rounds-agent running there and listening on that port?'
          : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
            ? `name ${endpoint.host} does not resolve`
            : e.message;
      fail(new AgentCallError(`${where}: ${why}`, 'unreachable'));
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(false);
      socket.end();
      if (!cert?.raw) return fail(new AgentCallError(`${where} presented no certificate`, 'certificate'));
      const seen = certificateFingerprint(cert.raw);
      // No fingerprint: first contact of a site-key enrolment, which shows this one to a person to approve.
      if (endpoint.fingerprint !== undefined && seen !== endpoint.fingerprint) {
        return fail(
          new AgentCallError(
            `${where} presented certificate sha256 ${seen}, but ${endpoint.fingerprint} was pinned at enrolment — ` +
              'if the agent was re-initialised, enrol it again with its new enrolment string; otherwise something is impersonating it',
            'certificate',
          ),
        );
      }
      resolve(new X509Certificate(cert.raw).toString());
    });
  });
}

type Pooled = { client: AgentServiceClient; endpointKey: string };

/**
 * One long-lived gRPC channel per agent (never one per poll). The channel trusts
 * exactly the agent's pinned certificate; every call carries the bearer token.
 */
@Injectable()
export class AgentClientPool {
  private readonly clients = new Map<string, Pooled>();
  private readonly opening = new Map<string, Promise<AgentServiceClient>>();
  channelsCreated = 0;

  async describe(endpoint: AgentEndpoint, timeoutMs: number): Promise<AgentDescription> {
    return this.call(endpoint, timeoutMs, (c, md, opts, cb) => c.describe({}, md, opts, cb));
  }

  async collect(endpoint: AgentEndpoint, request: CollectRequest, timeoutMs: number): Promise<CollectResponse> {
    return this.call(endpoint, timeoutMs, (c, md, opts, cb) => c.collect(request, md, opts, cb));
  }

  async runCheck(endpoint: AgentEndpoint, request: RunCheckRequest, timeoutMs: number): Promise<CheckResult> {
    return this.call(endpoint, timeoutMs, (c, md, opts, cb) => c.runCheck(request, md, opts, cb));
  }

  /** Has the agent accept a new token (by its SHA-256) beside the current one, which this call presents. */
  async rotateToken(endpoint: AgentEndpoint, newTokenSha256: string, timeoutMs: number): Promise<void> {
    await this.call(endpoint, timeoutMs, (c, md, opts, cb) => c.rotateToken({ newTokenSha256 }, md, opts, cb));
  }

  /**
   * Site-key enrolment, step one (no token): who the agent is, and while it can be claimed a
   * nonce and its proof. At first contact (no fingerprint) the certificate the agent presents
   * now is trusted for this call and returned; the agent must name the same one.
   */
  async enrolChallenge(target: EnrolTarget, collectorNonce: string, timeoutMs: number): Promise<{ answer: EnrolChallengeResponse; certificateSha256: string }> {
    const where = `agent ${target.name} at ${target.host}:${target.port}`;
    const fingerprint = target.fingerprint ?? certificateFingerprint(await fetchPinnedCertificate({ ...target, fingerprint: undefined }, timeoutMs));
    const endpoint: AgentEndpoint = { ...target, token: '', fingerprint };
    const answer = await this.call<EnrolChallengeResponse>(endpoint, timeoutMs, (c, md, opts, cb) => c.enrolChallenge({ collectorNonce }, md, opts, cb));
    if (answer.certificateSha256 !== fingerprint) {
      throw new AgentCallError(
        `${where} says its certificate is sha256 ${answer.certificateSha256 || '(none)'}, but presented ${fingerprint} — something between this collector and the agent answers for it`,
        'certificate',
      );
    }
    return { answer, certificateSha256: fingerprint };
  }

  /** Site-key enrolment, step two: the claim, over the channel pinned to the approved certificate. */
  async claim(target: EnrolTarget & { fingerprint: string }, request: ClaimRequest, timeoutMs: number): Promise<void> {
    await this.call({ ...target, token: '' }, timeoutMs, (c, md, opts, cb) => c.claim(request, md, opts, cb));
  }

  /** Closes the agent's channel (agent removed, or its endpoint changed). */
  drop(agentId: string): void {
    this.clients.get(agentId)?.client.close();
    this.clients.delete(agentId);
  }

  closeAll(): void {
    for (const id of [...this.clients.keys()]) this.drop(id);
  }

  get size(): number {
    return this.clients.size;
  }

  private async client(endpoint: AgentEndpoint, timeoutMs: number): Promise<AgentServiceClient> {
    const key = `${endpoint.host}:${endpoint.port}/${endpoint.fingerprint}`;
    const pooled = this.clients.get(endpoint.id);
    if (pooled && pooled.endpointKey === key) return pooled.client;
    if (pooled) this.drop(endpoint.id);
    const pending = this.opening.get(endpoint.id);
    if (pending) return pending;
    const opening = (async () => {
      const pem = await fetchPinnedCertificate(endpoint, timeoutMs);
      const creds = credentials.createSsl(Buffer.from(pem), null, null, {
        checkServerIdentity: (_host, cert) =>
          certificateFingerprint(cert.raw) === endpoint.fingerprint ? undefined : new Error('certificate does not match the pinned fingerprint'),
      });
      const client = new AgentServiceClient(`${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`, creds, {
        'grpc.keepalive_time_ms': 60_000,
        // A Rounds agent keeps its answers to the documented limit; anything larger is refused unread.
        'grpc.max_receive_message_length': COLLECT_LIMITS.answerBytes,
        // With HTTP/2's default 64 KiB window, a page of results needs a window update from this
        // process every 64 KiB: on a busy event loop each one waits its turn, and a 1 MB answer
        // outlived the poll deadline. A window as large as one answer lets it arrive in one go.
        'grpc-node.flow_control_window': COLLECT_LIMITS.answerBytes,
        // The certificate names whatever host the agent was set up with; the pin, not the name, is what is checked.
        'grpc.ssl_target_name_override': 'localhost',
      });
      this.channelsCreated++;
      this.clients.set(endpoint.id, { client, endpointKey: key });
      return client;
    })();
    this.opening.set(endpoint.id, opening);
    try {
      return await opening;
    } finally {
      this.opening.delete(endpoint.id);
    }
  }

  private async call<T>(
    endpoint: AgentEndpoint,
    timeoutMs: number,
    invoke: (client: AgentServiceClient, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response: T) => void) => void,
  ): Promise<T> {
    const client = await this.client(endpoint, timeoutMs);
    const metadata = new Metadata();
    // Site-key enrolment has no token to present yet.
    if (endpoint.token !== '') metadata.set(AUTH_METADATA_KEY, `Bearer ${endpoint.token}`);
    try {
      return await new Promise<T>((resolve, reject) =>
        invoke(client, metadata, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => (error ? reject(error) : resolve(response))),
      );
    } catch (e) {
      throw this.explain(endpoint, e as ServiceError, timeoutMs);
    }
  }

  private explain(endpoint: AgentEndpoint, error: ServiceError, timeoutMs: number): AgentCallError {
    const where = `agent ${endpoint.name} at ${endpoint.host}:${endpoint.port}`;
    switch (error.code) {
      case GrpcStatus.UNAUTHENTICATED:
        return new AgentCallError(
          `${where} refused the token — re-run \`rounds-agent init\` there and enrol it again with the new enrolment string`,
          'unauthenticated',
        );
      case GrpcStatus.RESOURCE_EXHAUSTED: {
        // The agent's door sets retry-after when it throttles an address after repeated wrong tokens.
        const retryAfter = error.metadata?.get('retry-after')[0];
        if (retryAfter === undefined) {
          // Without it, this is grpc-js refusing an answer over grpc.max_receive_message_length.
          return new AgentCallError(
            `${where} sent an answer over the ${COLLECT_LIMITS.answerBytes / 1024 / 1024} MiB limit of one Collect answer (${error.details || error.message}) — ` +
              'a Rounds agent keeps its answers within it: update rounds-agent there, and make sure that address is a Rounds agent',
            'protocol',
          );
        }
        return new AgentCallError(
          `${where} refused the token too often and refuses this collector's address unchecked for ${String(retryAfter)} s more — ` +
            'if the token is right, something else at this address is guessing it; otherwise re-run `rounds-agent init` there and enrol it again with the new enrolment string',
          'unauthenticated',
          'throttled',
          error.details,
        );
      }
      case GrpcStatus.DEADLINE_EXCEEDED:
        return new AgentCallError(`${where} did not answer within ${timeoutMs} ms`, 'timeout');
      case GrpcStatus.UNIMPLEMENTED:
        // A call added to the contract after the agent's release (proto/rounds/agent/v1: calls are only ever added).
        return new AgentCallError(
          `${where} does not know this call (${error.details || error.message}): it runs an older rounds-agent than this collector — update it there`,
          'protocol',
          'unimplemented',
          error.details,
        );
      case GrpcStatus.UNAVAILABLE:
        // The agent may have come back with another certificate: re-probe on the next call for a clear answer.
        this.drop(endpoint.id);
        return new AgentCallError(`${where} is unreachable: ${error.details || error.message}`, 'unreachable');
    }
    return new AgentCallError(`${where} failed the call: ${error.details || error.message}`, 'protocol', REFUSALS[error.code] ?? 'other', error.details);
  }
}
