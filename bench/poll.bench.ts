import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { CollectRequest, CollectResponse, type CheckSpec } from '#rounds/common/wire';
import { AgentClientPool, type AgentEndpoint } from '../apps/collector/src/inventory/agent-client.pool.js';
import { absolute, compared, type Benchmark } from './lib/figure.js';
import { ECHO_SERVICE, sampleResult } from './lib/fake-agent.js';
import { interleave, median } from './lib/measure.js';
import { Worker } from './lib/processes.js';
import { agentTls, agentToken } from './lib/tls.js';

const AGENTS = 16;
const CONCURRENCY = 16;
const CHECKS = 10;
const POLLS_PER_PAIR = 3000;
const PAIRS = 10;

/**
 * The collector's poll call through AgentClientPool (one persistent channel per agent,
 * pinned TLS, bearer token, ts-proto codec) against fake agents that hand over 10 results
 * per Collect, versus a bare grpc-js unary call over TLS whose request and response are
 * as many bytes as a poll's. Both sides: 16 channels, 16 calls in flight, servers in one
 * farm process, clients in this process.
 */
export const bench: Benchmark = {
  name: 'poll',
  description: 'collector polls/s via AgentClientPool vs bare grpc-js unary call (TLS, 16 channels, concurrency 16)',
  async run(ctx) {
    const tls = await agentTls();
    const farm = new Worker('agent-farm');
    ctx.defer(() => farm.stop());
    const tokens = Array.from({ length: AGENTS }, agentToken);
    const { ports } = await farm.call<{ ports: number[] }>('agents', { cert: tls.cert, key: tls.key, tokens });

    const checks: CheckSpec[] = Array.from({ length: CHECKS }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      plugin: 'http',
      configJson: '{"url":"http://127.0.0.1/"}',
      intervalMs: 30_000,
      timeoutMs: 5000,
    }));
    const sizedRequest = CollectRequest.encode({
      ackSeq: 123456,
      assignmentVersion: 'v1',
      checks: [],
      hasChecks: false,
      maxResults: 5000,
      spoolEpoch: 'e7f1c2a4-3b5d-4c6e-8f90-123456789abc',
    }).finish();
    const sizedResponse = CollectResponse.encode({
      results: checks.map((c, i) => sampleResult(c.id, 123457 + i)),
      lastSeq: 123466,
      more: false,
      assignmentVersion: 'v1',
      dropped: 0,
      health: { rssBytes: 0, cpuSeconds: 0, spoolDepth: 10, spoolBytes: 0, pluginErrors: 0, checks: 10, uptimeSeconds: 1 },
      rejected: [],
      spoolEpoch: 'e7f1c2a4-3b5d-4c6e-8f90-123456789abc',
    }).finish();
    const echo = await farm.call<{ ports: number[] }>('echo', { cert: tls.cert, key: tls.key, count: AGENTS, replyBytes: sizedResponse.length });

    const pool = new AgentClientPool();
    ctx.defer(() => pool.closeAll());
    const endpoints: AgentEndpoint[] = ports.map((port, i) => ({
      id: `agent-${i}`,
      name: `bench-${i}`,
      host: '127.0.0.1',
      port,
      token: tokens[i]!,
      fingerprint: tls.fingerprint,
    }));
    const state = endpoints.map(() => ({ ackSeq: 0, epoch: '', assigned: false }));
    const poll = async (i: number): Promise<void> => {
      const s = state[i]!;
      const res = await pool.collect(
        endpoints[i]!,
        { ackSeq: s.ackSeq, assignmentVersion: 'v1', checks: s.assigned ? [] : checks, hasChecks: !s.assigned, maxResults: 5000, spoolEpoch: s.epoch },
        10_000,
      );
      s.assigned = res.assignmentVersion === 'v1';
      s.epoch = res.spoolEpoch;
      if (res.results.length > 0) s.ackSeq = res.results.at(-1)!.seq;
      else if (s.assigned) throw new Error(`agent ${i} returned no results`);
    };

    const echoClients = echo.ports.map(
      (port) =>
        new Client(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(tls.cert)), {
          'grpc.ssl_target_name_override': 'localhost',
          'grpc.keepalive_time_ms': 60_000,
        }),
    );
    ctx.defer(() => echoClients.forEach((c) => c.close()));
    const request = Buffer.from(sizedRequest);
    const call = (i: number): Promise<void> =>
      new Promise((resolve, reject) =>
        echoClients[i]!.makeUnaryRequest(
          ECHO_SERVICE.echo.path,
          ECHO_SERVICE.echo.requestSerialize,
          ECHO_SERVICE.echo.responseDeserialize,
          request,
          new Metadata(),
          { deadline: new Date(Date.now() + 10_000) },
          (e, reply) => (e ? reject(e) : reply && reply.length === sizedResponse.length ? resolve() : reject(new Error('short echo reply'))),
        ),
      );

    // One lane per agent/channel, one call at a time on each: 16 in flight, like the poller.
    const lanes = async (each: (i: number) => Promise<void>): Promise<number> => {
      const perLane = POLLS_PER_PAIR / CONCURRENCY;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, i) => {
          for (let k = 0; k < perLane; k++) await each(i);
        }),
      );
      return (POLLS_PER_PAIR / (performance.now() - start)) * 1000;
    };
    const samples = await interleave(
      PAIRS,
      1,
      () => lanes(poll),
      () => lanes(call),
    );
    const totalPolls = (PAIRS + 1) * POLLS_PER_PAIR;
    ctx.log(`${totalPolls} polls over ${pool.channelsCreated} channels`);
    return [
      compared(
        'poll',
        'Poll path polls/s (AgentClientPool, 10 results/poll)',
        'polls/s',
        median(samples.a),
        'bare grpc-js unary call, TLS, same bytes',
        median(samples.b),
        { on: 'ratio', op: '>=', bound: 0.6 },
        `${PAIRS} pairs × ${POLLS_PER_PAIR} calls, ${AGENTS} channels, concurrency ${CONCURRENCY}; request ${sizedRequest.length} B, response ${sizedResponse.length} B`,
      ),
      absolute(
        'poll',
        `Channels created for ${totalPolls} polls of ${AGENTS} agents`,
        'channels',
        pool.channelsCreated,
        { on: 'value', op: '==', bound: AGENTS },
        'pool.channelsCreated: one per agent, none per poll',
      ),
    ];
  },
};
