import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AUTH_METADATA_KEY } from '#rounds/common';
import { describePlugin, PluginRegistry } from '#rounds/plugins';
import {
  AgentServiceService,
  type AgentDescription,
  type PluginDescription,
  type CheckResult,
  type CollectRequest,
  type CollectResponse,
} from '#rounds/common/wire';

/**
 * What a real agent's Describe lists: every built-in plugin with its JSON Schema (~20 KB in
 * all). The collector stores it per agent, so the farm hands over the real size.
 */
let builtinDescriptions: PluginDescription[] | undefined;
function pluginDescriptions(): PluginDescription[] {
  builtinDescriptions ??= PluginRegistry.withBuiltins().list().map(describePlugin);
  return builtinDescriptions;
}

/** Results one fake agent keeps unacknowledged before it drops the oldest (like the real spool's cap). */
const SPOOL_CAP = 5000;

export function sampleResult(checkId: string, seq: number, now = Date.now()): CheckResult {
  return {
    seq,
    checkId,
    startedAtMs: now - 3,
    durationMs: 3,
    status: 0,
    reason: 'ok',
    summary: 'HTTP 200 in 0.003 s, 3 B',
    metrics: [
      { name: 'connect_seconds', value: 0.0004, unit: 'seconds', labels: {} },
      { name: 'first_byte_seconds', value: 0.002, unit: 'seconds', labels: {} },
      { name: 'total_seconds', value: 0.003, unit: 'seconds', labels: {} },
      { name: 'status_code', value: 200, unit: '', labels: {} },
    ],
  };
}

/**
 * A light stand-in for rounds-agent: the same AgentService contract over TLS with a bearer
 * token checked against its SHA-256, and a spool with sequence numbers and acks. Every
 * Collect runs each assigned check once (one new result per check), so a poll per check
 * interval hands over one result per check, as the real agent does at steady state.
 */
export class FakeAgent {
  readonly id = randomUUID();
  readonly epoch = randomUUID();
  readonly arrivals: number[] = [];
  private readonly tokenDigest: Buffer;
  private checks: string[] = [];
  private assignment = '';
  private seq = 0;
  private spool: CheckResult[] = [];
  private dropped = 0;
  private server: Server | undefined;
  port = 0;

  constructor(token: string) {
    this.tokenDigest = createHash('sha256').update(token).digest();
  }

  /** Binds an OS-assigned port, or `port` again after close() (the agent coming back after an outage). */
  async listen(credentials: ServerCredentials, port = 0): Promise<number> {
    const server = new Server();
    server.addService(AgentServiceService, {
      describe: (call: ServerUnaryCall<unknown, AgentDescription>, cb: sendUnaryData<AgentDescription>) => {
        if (!this.authorized(call, cb)) return;
        cb(null, {
          agentId: this.id,
          version: '0.0.0-bench',
          hostname: 'bench-farm',
          os: process.platform,
          arch: process.arch,
          plugins: pluginDescriptions(),
          assignmentVersion: this.assignment,
          startedAtMs: Date.now(),
        });
      },
      collect: (call: ServerUnaryCall<CollectRequest, CollectResponse>, cb: sendUnaryData<CollectResponse>) => {
        if (!this.authorized(call, cb)) return;
        this.arrivals.push(Date.now());
        cb(null, this.collect(call.request));
      },
      runCheck: (_call: unknown, cb: sendUnaryData<CheckResult>) => cb({ code: status.UNIMPLEMENTED, details: 'the bench agent runs no checks on demand' }),
    });
    this.server = server;
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, credentials, (e, bound) => (e ? reject(e) : resolve(bound))),
    );
    return this.port;
  }

  collect(req: CollectRequest): CollectResponse {
    if (req.hasChecks) {
      this.checks = req.checks.map((c) => c.id);
      this.assignment = req.assignmentVersion;
    }
    if (req.spoolEpoch === this.epoch && req.ackSeq > 0) {
      let keep = 0;
      while (keep < this.spool.length && this.spool[keep]!.seq <= req.ackSeq) keep++;
      if (keep > 0) this.spool = this.spool.slice(keep);
    }
    const now = Date.now();
    for (const id of this.checks) this.spool.push(sampleResult(id, ++this.seq, now));
    if (this.spool.length > SPOOL_CAP) {
      this.dropped += this.spool.length - SPOOL_CAP;
      this.spool = this.spool.slice(-SPOOL_CAP);
    }
    const max = req.maxResults || 5000;
    return {
      results: this.spool.slice(0, max),
      lastSeq: this.seq,
      more: this.spool.length > max,
      assignmentVersion: this.assignment,
      dropped: this.dropped,
      health: { rssBytes: 0, cpuSeconds: 0, spoolDepth: this.spool.length, spoolBytes: 0, pluginErrors: 0, checks: this.checks.length, uptimeSeconds: 1 },
      rejected: [],
      spoolEpoch: this.epoch,
    };
  }

  private authorized(call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<never>): boolean {
    const header = call.metadata.get(AUTH_METADATA_KEY)[0];
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    if (timingSafeEqual(createHash('sha256').update(presented).digest(), this.tokenDigest)) return true;
    cb({ code: status.UNAUTHENTICATED, details: 'wrong token' });
    return false;
  }

  /** Stops at once, connections and all, as a crashed agent or a cut network would. */
  kill(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.tryShutdown(() => resolve()) : resolve()));
  }
}

/** A bare unary method with raw-bytes (de)serialisers: the anchor the poll path is compared with. */
export const ECHO_SERVICE = {
  echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} as const;

/** The anchor's server: answers every call with `reply` (sized like a poll's response). */
export async function listenEcho(credentials: ServerCredentials, reply: Buffer): Promise<{ port: number; server: Server }> {
  const server = new Server();
  server.addService(ECHO_SERVICE, {
    echo: (_call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => cb(null, reply),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (e, p) => (e ? reject(e) : resolve(p))));
  return { port, server };
}
