import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type MethodDefinition,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { certificateFingerprint, formatEnrolment, parseEnrolment, ROUNDS_VERSION, selfSignedCertificate } from '#rounds/common';
import { FIXTURES, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

/**
 * Version skew, both ways, with what an agent of the previous release (0.0.9: before metric
 * declarations and RotateToken) said on the wire — recorded from a real 0.0.9 agent by
 * test/fixtures/wire/record.mjs — and that release's agent.proto.
 */
const RECORDED = join(FIXTURES, 'wire', '0.0.9');
const oldProto = protobuf.parse(readFileSync(join(RECORDED, 'agent.proto'), 'utf8'), { keepCase: true }).root;
const oldType = (name: string) => oldProto.lookupType(`rounds.agent.v1.${name}`);
const recorded = (file: string) => readFileSync(join(RECORDED, file));

interface OldCheckResult {
  seq: string;
  check_id: string;
  status: string;
  reason: string;
  summary: string;
  metrics: { name: string; unit: string }[];
}
interface OldCollectResponse {
  results: OldCheckResult[];
  last_seq: string;
  spool_epoch: string;
  assignment_version: string;
  rejected: { check_id: string; error: string }[];
}
const read = <T>(typeName: string, bytes: Uint8Array): T =>
  oldType(typeName).toObject(oldType(typeName).decode(bytes), { longs: String, enums: String, defaults: true }) as T;
const encode = (typeName: string, value: object): Buffer => Buffer.from(oldType(typeName).encode(oldType(typeName).fromObject(value)).finish());

const raw = (b: Buffer) => b;
const method = (name: string): MethodDefinition<Buffer, Buffer> => ({
  path: `/rounds.agent.v1.AgentService/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});

/**
 * A 0.0.9 agent played back: it serves only the calls that release had, checks the bearer token
 * and answers with the recorded bytes. Check ids and the assignment version are the collector's
 * to choose, so those (and only those) are put into the recorded answers, encoded with the old
 * proto as a 0.0.9 agent would.
 */
class RecordedOldAgent {
  private readonly server = new Server();
  readonly token = 'recorded-old-agent-token-0123456789abcdef';
  /** Collector check id by plugin, learnt from the assignment the collector sends. */
  private readonly idByPlugin = new Map<string, string>();
  private assignment = '';
  requests: { method: string; body: Record<string, unknown> }[] = [];
  port = 0;
  fingerprint = '';

  async start(): Promise<void> {
    const pems = await selfSignedCertificate('rounds-agent 127.0.0.1', ['127.0.0.1', 'localhost']);
    this.fingerprint = certificateFingerprint(pems.cert);
    const handle =
      (name: string, requestType: string, answer: (request: Record<string, unknown>) => Buffer) =>
      (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
        if (call.metadata.get('authorization')[0] !== `Bearer ${this.token}`) return done({ code: GrpcStatus.UNAUTHENTICATED, details: 'wrong token' });
        const body = read<Record<string, unknown>>(requestType, call.request);
        this.requests.push({ method: name, body });
        done(null, answer(body));
      };
    this.server.addService(
      { Describe: method('Describe'), Collect: method('Collect'), RunCheck: method('RunCheck') },
      {
        Describe: handle('Describe', 'DescribeRequest', () => recorded('describe.response.bin')),
        Collect: handle('Collect', 'CollectRequest', (request) => this.collect(request)),
        RunCheck: handle('RunCheck', 'RunCheckRequest', (request) => {
          const result = read<OldCheckResult>('CheckResult', recorded('run-check.response.bin'));
          return encode('CheckResult', { ...result, check_id: (request.check as { id: string }).id });
        }),
      },
    );
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        '127.0.0.1:0',
        ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pems.cert), private_key: Buffer.from(pems.key) }]),
        (e, port) => (e ? reject(e) : resolve(port)),
      ),
    );
  }

  get enrolment(): string {
    return formatEnrolment({ host: '127.0.0.1', port: this.port, token: this.token, fingerprint: this.fingerprint });
  }

  private collect(request: Record<string, unknown>): Buffer {
    if (request.has_checks) {
      this.assignment = String(request.assignment_version);
      for (const c of request.checks as { id: string; plugin: string }[]) this.idByPlugin.set(c.plugin, c.id);
    }
    const drained = read<OldCollectResponse>('CollectResponse', recorded('collect-drain.response.bin'));
    const ids = new Map([...this.idByPlugin].map(([plugin, id]) => [`recorded-${plugin}`, id]));
    const ack = BigInt(String(request.ack_seq));
    const results = drained.results.filter((r) => ids.has(r.check_id) && BigInt(r.seq) > ack).map((r) => ({ ...r, check_id: ids.get(r.check_id) }));
    return encode('CollectResponse', { ...drained, results, assignment_version: this.assignment, more: false });
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

interface AgentView {
  state: string;
  lastError: string | null;
  versionSkew: { older: string; message: string } | null;
  agent: { version: string; plugins: { name: string }[] } | null;
}
interface ResultView {
  status: string;
  reason: string;
  summary: string;
  metrics?: { name: string }[];
}

describe('version skew: a collector and an agent one release apart', { timeout: 240_000 }, () => {
  let collector: CollectorHandle;
  let old: RecordedOldAgent;
  let current: AgentHandle;
  let target: TcpServer;
  let targetPort = 0;

  before(async () => {
    target = createTcpServer((s) => s.end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as { port: number }).port;
    old = new RecordedOldAgent();
    [collector, current] = await Promise.all([startCollector(), startAgent('current'), old.start()]);
  });

  after(async () => {
    old?.stop();
    await Promise.all([collector?.proc.stop(), current?.proc.stop()]);
    target?.close();
  });

  test('this collector polls a 0.0.9 agent: results and metrics land, the agent is flagged as outdated, token rotation is refused naming why', async () => {
    const added = await collector.api<AgentView>('POST', '/api/v1/agents', { name: 'old-pacs', enrol: old.enrolment });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const described = await waitFor('the old agent described', async () => {
      const a = (await collector.api<AgentView>('GET', '/api/v1/agents/old-pacs')).body;
      return a.agent ? a : undefined;
    });
    assert.equal(described.agent?.version, '0.0.9');
    assert.ok(
      described.agent?.plugins.some((p) => p.name === 'tcp'),
      'the plugins of the recorded Describe are listed',
    );
    assert.equal(described.versionSkew?.older, 'agent');
    assert.match(described.versionSkew?.message ?? '', /rounds-agent 0\.0\.9 is older than this collector .*update the agent/);

    const made: Record<string, string> = {};
    for (const spec of [
      { name: 'port', plugin: 'tcp', config: { host: '127.0.0.1', port: targetPort } },
      { name: 'web', plugin: 'http', config: { url: `http://127.0.0.1:${targetPort}/` } },
    ]) {
      const res = await collector.api<{ id: string }>('POST', '/api/v1/checks', { agent: 'old-pacs', intervalMs: 1000, timeoutMs: 900, ...spec });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      made[spec.name] = res.body.id;
    }
    const assigned = await waitFor('the old agent received the assignment', () =>
      old.requests.find((r) => r.method === 'Collect' && r.body.has_checks === true),
    );
    assert.deepEqual(
      (assigned.body.checks as { plugin: string }[]).map((c) => c.plugin).sort(),
      ['http', 'tcp'],
      'the old agent reads the check set this collector sends',
    );

    // The recorded results (an http check that got 200, a tcp connect) arrive under the collector's checks.
    const web = await waitFor('the recorded http result stored', async () => {
      const r = (await collector.api<ResultView[]>('GET', `/api/v1/checks/${made.web}/results?limit=5`)).body;
      return r.length > 0 ? r[0] : undefined;
    });
    assert.equal(web.status, 'OK');
    assert.match(web.summary, /HTTP 200/);
    const agent = (await collector.api<AgentView>('GET', '/api/v1/agents/old-pacs')).body;
    assert.equal(agent.state, 'UP', agent.lastError ?? '');

    // Metrics of an agent from before declarations are exported with the built-in declarations' labels.
    const metrics = await (await fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${collector.token}` } })).text();
    assert.match(metrics, /rounds_check_status\{[^}]*agent="old-pacs"[^}]*\} 0/);
    assert.match(metrics, /_seconds\{[^}]*agent="old-pacs"/, 'the old agent’s timing metrics are exported');

    // "Check now" uses RunCheck, which 0.0.9 has.
    const now = await collector.api<ResultView>('POST', `/api/v1/checks/${made.port}/run`);
    assert.equal(now.status, 200, JSON.stringify(now.body));
    assert.equal(now.body.status, 'OK');

    // RotateToken came after 0.0.9: refused with a reason that says to update the agent, and the token stays.
    const rotate = await collector.api<{ message: string }>('POST', '/api/v1/agents/old-pacs/rotate-token');
    assert.equal(rotate.status, 409, JSON.stringify(rotate.body));
    assert.match(rotate.body.message, /runs an older rounds-agent.*update it/);
    const before = old.requests.length;
    await waitFor('polling goes on with the old token', () => old.requests.length > before + 1);

    const page = await (await fetch(`${collector.url}/agents`, { headers: { authorization: `Bearer ${collector.token}` } })).text();
    assert.match(page, /older: update it/, 'the agents page flags the outdated agent');
  });

  test('a 0.0.9 collector polls this agent: it reads Describe, assigns checks and drains results with the old proto', async () => {
    const enrol = parseEnrolment(current.enrolment);
    const client = new Client(
      `127.0.0.1:${enrol.port}`,
      // As the collector does: the agent's own certificate is the only root, and the pin is checked.
      credentials.createSsl(readFileSync(join(current.dir, 'agent.crt')), null, null, {
        checkServerIdentity: (_host, cert) => (certificateFingerprint(cert.raw) === enrol.fingerprint ? undefined : new Error('pin')),
      }),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    const call = (name: string, body: Buffer) =>
      new Promise<Buffer>((resolve, reject) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${enrol.token}`);
        client.makeUnaryRequest(`/rounds.agent.v1.AgentService/${name}`, raw, raw, body, md, { deadline: Date.now() + 10_000 }, (e, r) =>
          e ? reject(e) : resolve(r!),
        );
      });
    try {
      const description = read<{ version: string; agent_id: string; plugins: { name: string; config_schema_json: string }[] }>(
        'AgentDescription',
        await call('Describe', recorded('describe.request.bin')),
      );
      assert.equal(description.version, ROUNDS_VERSION);
      assert.match(description.agent_id, /^[0-9a-f-]{36}$/);
      const tcp = description.plugins.find((p) => p.name === 'tcp');
      assert.ok(tcp, 'the built-in plugins are listed to the old reader');
      assert.equal((JSON.parse(tcp.config_schema_json) as { type: string }).type, 'object');

      // The recorded assignment names two checks against ports of the recording; the agent takes them.
      const assigned = read<OldCollectResponse>('CollectResponse', await call('Collect', recorded('collect-assign.request.bin')));
      assert.equal(assigned.assignment_version, 'a1');
      assert.deepEqual(assigned.rejected, []);
      assert.ok(assigned.spool_epoch.length > 0);

      const drained = await waitFor('results of both recorded checks', async () => {
        const r = read<OldCollectResponse>('CollectResponse', await call('Collect', recorded('collect-drain.request.bin')));
        const ids = new Set(r.results.map((x) => x.check_id));
        return ids.has('recorded-tcp') && ids.has('recorded-http') ? r : undefined;
      });
      for (const r of drained.results) {
        assert.match(r.status, /^STATUS_(OK|WARNING|CRITICAL|UNKNOWN)$/, 'the status enum reads in the old proto');
        assert.ok(r.reason.length > 0 && r.summary.length > 0);
        assert.ok(Number(r.seq) > 0);
      }
      const seqs = drained.results.map((r) => Number(r.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        'oldest first, as the contract says',
      );

      const ran = read<OldCheckResult>('CheckResult', await call('RunCheck', recorded('run-check.request.bin')));
      assert.equal(ran.check_id, 'recorded-tcp');
      assert.equal(ran.seq, '0', 'RunCheck results are not spooled');
    } finally {
      client.close();
    }
  });
});
