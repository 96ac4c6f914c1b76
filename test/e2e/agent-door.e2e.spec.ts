import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { AGENT_PROTO_PACKAGE, AGENT_SERVICE_NAME, parseEnrolment } from '#rounds/common';
import { AgentCallError, AgentClientPool } from '../../apps/collector/src/inventory/agent-client.pool.js';
import { sleep, startAgent, type AgentHandle } from './harness.js';

const DESCRIBE = `/${AGENT_PROTO_PACKAGE}.${AGENT_SERVICE_NAME}/Describe`;
/** Field 1, length-delimited, claims 127 bytes and has none: no protobuf parser accepts it. */
const MALFORMED = Buffer.from([0x0a, 0x7f]);
const EMPTY = Buffer.alloc(0);

interface Answer {
  code: number;
  details: string;
  retryAfter?: string;
}

/** One raw Describe call: the body is sent as given, so the agent's parser sees exactly these bytes. */
function describeCall(client: Client, body: Buffer, token?: string): Promise<Answer> {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest<Buffer, Buffer>(
      DESCRIBE,
      (b) => b,
      (b) => b,
      body,
      metadata,
      { deadline: new Date(Date.now() + 10_000) },
      () => {},
    );
    call.on('status', (s) => {
      const retry = s.metadata.get('retry-after')[0];
      resolve({ code: s.code, details: s.details, ...(retry === undefined ? {} : { retryAfter: String(retry) }) });
    });
  });
}

function refusalLines(output: string, peer: string): string[] {
  return output.split('\n').filter((line) => line.includes('refused') && line.includes(`from ${peer}`));
}

/**
 * The agent's door against a real started agent and real gRPC clients: the token is checked on
 * the call's metadata before the body is parsed, a peer that keeps guessing is throttled and
 * logged in aggregate, and the right token still gets in from another address or after the
 * penalty. The agent listens on [::] so IPv4 (127.0.0.1) and IPv6 (::1) are two peers.
 */
describe("the agent's door", { timeout: 120_000 }, () => {
  let agent: AgentHandle;
  let token: string;
  let v4: Client;
  let v6: Client;
  /** Seconds to wait after the burst for its last penalty to end. */
  let burstRetryAfter = 0;

  before(async () => {
    agent = await startAgent('door');
    token = decodeURIComponent(new URL(agent.enrolment).username);
    await agent.proc.stop();
    await agent.start({ ROUNDS_AGENT_LISTEN: `[::]:${agent.port}` });
    const cert = readFileSync(join(agent.dir, 'agent.crt'));
    // The certificate is self-signed for the agent's name: trust it, skip the name check (pinning is the collector's job).
    const creds = credentials.createSsl(cert, null, null, { checkServerIdentity: () => undefined });
    const options = { 'grpc.ssl_target_name_override': 'rounds-agent' };
    v4 = new Client(`127.0.0.1:${agent.port}`, creds, options);
    v6 = new Client(`[::1]:${agent.port}`, creds, options);
  });

  after(async () => {
    v4?.close();
    v6?.close();
    await agent?.proc.stop();
  });

  test('a malformed body without a token gets UNAUTHENTICATED, not a parse error', async () => {
    const anonymous = await describeCall(v4, MALFORMED);
    assert.equal(anonymous.code, GrpcStatus.UNAUTHENTICATED, anonymous.details);
    assert.match(anonymous.details, /^no bearer token — /);
    // The same bytes with the right token do reach the parser, which refuses them: the order is what was tested.
    const authorised = await describeCall(v6, MALFORMED, token);
    assert.notEqual(authorised.code, GrpcStatus.OK);
    assert.notEqual(authorised.code, GrpcStatus.UNAUTHENTICATED);
    assert.equal((await describeCall(v6, EMPTY, token)).code, GrpcStatus.OK);
  });

  test('500 wrong-token calls from one peer are throttled and logged in at most a couple of lines', async () => {
    const linesBefore = refusalLines(agent.proc.output, '127.0.0.1').length;
    const answers: Answer[] = [];
    for (let batch = 0; batch < 10; batch++) {
      answers.push(...(await Promise.all(Array.from({ length: 50 }, () => describeCall(v4, EMPTY, 'w'.repeat(43))))));
    }
    const byCode = new Map<number, number>();
    for (const a of answers) byCode.set(a.code, (byCode.get(a.code) ?? 0) + 1);
    const checked = byCode.get(GrpcStatus.UNAUTHENTICATED) ?? 0;
    const throttled = byCode.get(GrpcStatus.RESOURCE_EXHAUSTED) ?? 0;
    assert.equal(checked + throttled, 500, `every call is refused: ${JSON.stringify([...byCode])}`);
    // 4 free failures are left after the anonymous call above; a few more are checked when a penalty runs out mid-burst.
    assert.ok(checked >= 4 && checked <= 10, `${checked} calls had their token checked`);
    assert.match(answers.find((a) => a.code === GrpcStatus.RESOURCE_EXHAUSTED)!.details, /too many failed token attempts from 127\.0\.0\.1/);
    // The longest penalty any answer reported bounds what is left of the last one.
    burstRetryAfter = Math.max(...answers.map((a) => Number(a.retryAfter ?? 0)));
    await sleep(300);
    const lines = refusalLines(agent.proc.output, '127.0.0.1').length - linesBefore;
    assert.ok(lines <= 2, `${lines} log lines for 500 refused calls`);
    assert.ok(!agent.proc.output.includes('w'.repeat(43)), 'the guessed token appears in the log');
  });

  test('the right token still gets in from another peer at once, and from the throttled peer after its penalty', async () => {
    assert.equal((await describeCall(v6, EMPTY, token)).code, GrpcStatus.OK, 'refused from ::1 while 127.0.0.1 is throttled');
    // Let the burst's penalty end, then fail once more: the next penalty is at least twice the first, from now.
    await sleep(burstRetryAfter * 1000 + 100);
    assert.equal((await describeCall(v4, EMPTY, 'w'.repeat(43))).code, GrpcStatus.UNAUTHENTICATED, 'still throttled after the penalty it reported');
    const throttled = await describeCall(v4, EMPTY, token);
    assert.equal(throttled.code, GrpcStatus.RESOURCE_EXHAUSTED, 'the throttled peer is refused unchecked, even with the right token');
    // The collector's own client says what is going on instead of a bare RESOURCE_EXHAUSTED.
    const pool = new AgentClientPool();
    const { host, port, fingerprint } = parseEnrolment(agent.enrolment);
    const refused = await pool.describe({ id: 'door', name: 'door', host, port, token, fingerprint }, 5_000).catch((e: unknown) => e);
    pool.closeAll();
    assert.ok(refused instanceof AgentCallError, String(refused));
    assert.equal(refused.code, 'unauthenticated');
    assert.match(
      refused.message,
      /^agent door at 127\.0\.0\.1:\d+ refused the token too often and refuses this collector's address unchecked for \d+ s more — /,
    );
    const wait = Number(throttled.retryAfter);
    assert.ok(wait >= 2 && wait <= 60, `retry-after ${throttled.retryAfter}`);
    await sleep(wait * 1000 + 100);
    assert.equal((await describeCall(v4, EMPTY, token)).code, GrpcStatus.OK, `refused after waiting retry-after (${wait} s)`);
  });

  test('at shutdown the refusals not yet logged are written as one line with their count', async () => {
    await agent.proc.stop();
    // 1 anonymous call logged at once; then 501 wrong tokens and 2 right tokens (raw and the collector's client) while throttled.
    const lines = refusalLines(agent.proc.output, '127.0.0.1');
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[1]!, /refused 503 calls from 127\.0\.0\.1 in the last \d+ s: \d+ with a wrong token, \d+ unchecked while throttled — /);
  });
});
