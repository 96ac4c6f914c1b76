import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSync, type ServiceDefinition } from '@grpc/proto-loader';
import { AGENT_PROTO_PACKAGE, AGENT_SERVICE_NAME, agentServiceDefinition } from './agent-service.js';

const SERVICE = `${AGENT_PROTO_PACKAGE}.${AGENT_SERVICE_NAME}`;
/** The contract itself (compiled to dist/libs/common/src/: the package root is four levels up). */
const AGENT_PROTO = fileURLToPath(new URL('../../../../proto/rounds/agent/v1/agent.proto', import.meta.url));

/** A CollectResponse with a field of each kind that has a conversion option: uint64, int64, enum, map, repeated, nested. */
const RESPONSE = {
  results: [
    {
      seq: 41,
      checkId: 'pacs-http',
      startedAtMs: 1_780_000_000_123,
      durationMs: 12,
      status: 2,
      reason: 'refused',
      summary: 'connection refused',
      metrics: [{ name: 'connect_seconds', value: 0.0125, unit: 'seconds', labels: { port: '104' } }],
    },
  ],
  lastSeq: 41,
  more: true,
  assignmentVersion: 'v7',
  dropped: 3,
  health: { rssBytes: 90_000_000, cpuSeconds: 1.5, spoolDepth: 1 },
  spoolEpoch: 'epoch-1',
};

/** One message of each kind per AgentService method, with fields of every type the contract uses. */
const MESSAGES: Record<string, { request: object; response: object }> = {
  Describe: {
    request: {},
    response: {
      agentId: 'a-1',
      version: '0.1.0',
      hostname: 'pacs-01',
      os: 'linux',
      arch: 'x64',
      plugins: [
        {
          name: 'http',
          version: '1.0.0',
          description: 'Requests a URL',
          configSchemaJson: '{"type":"object"}',
          source: 'builtin',
          metrics: [{ name: 'total_seconds', unit: 'seconds', help: 'The whole check.', labels: ['phase'] }],
        },
      ],
      assignmentVersion: 'v7',
      startedAtMs: 1_780_000_000_000,
    },
  },
  Collect: {
    request: {
      ackSeq: 40,
      assignmentVersion: 'v7',
      checks: [{ id: 'pacs-http', plugin: 'http', configJson: '{"url":"http://pacs"}', intervalMs: 20_000, timeoutMs: 5000 }],
      hasChecks: true,
      maxResults: 5000,
      spoolEpoch: 'epoch-1',
    },
    response: {
      ...RESPONSE,
      results: [
        ...RESPONSE.results,
        { ...RESPONSE.results[0]!, seq: 42, status: 0, reason: 'ok', metrics: [{ name: 'total_seconds', value: 0, unit: 'seconds', labels: {} }] },
      ],
      rejected: [{ checkId: 'bad', error: 'config_json is not JSON' }],
      health: { rssBytes: 90_000_000, cpuSeconds: 1.5, spoolDepth: 2, spoolBytes: 600, pluginErrors: 1, checks: 1000, uptimeSeconds: 3600.5 },
    },
  },
  RunCheck: {
    request: { check: { id: 'dicom', plugin: 'dicom-echo', configJson: '{"host":"pacs","port":104}', intervalMs: 60_000, timeoutMs: 10_000 } },
    response: { ...RESPONSE.results[0]!, seq: 0, metrics: [{ name: 'value', value: Number.NaN, unit: '', labels: {} }] },
  },
  RotateToken: { request: { newTokenSha256: 'ab'.repeat(32) }, response: {} },
  EnrolChallenge: {
    request: { collectorNonce: 'n'.repeat(22) },
    response: {
      agentId: 'a-1',
      certificateSha256: 'cd'.repeat(32),
      state: 1,
      nonce: 'agent-nonce-123456',
      nonceTtlMs: 60_000,
      hostname: 'ct-01',
      version: '0.1.0',
      agentProof: 'ef'.repeat(32),
    },
  },
  Claim: { request: { nonce: 'agent-nonce-123456', newTokenSha256: 'ab'.repeat(32), proof: '01'.repeat(32) }, response: {} },
};

/**
 * The agent serves the generated codecs (ts-proto); agent.proto read by reflection (protobufjs
 * through proto-loader, with the options that give ts-proto's shapes) is the yardstick: the
 * same methods at the same paths, and each side reads what the other writes as it reads its own.
 */
describe('agentServiceDefinition', () => {
  const reflected = loadSync(AGENT_PROTO, { keepCase: false, longs: Number, enums: Number, defaults: true, arrays: true, objects: true, oneofs: true })[
    SERVICE
  ] as ServiceDefinition;
  const served = agentServiceDefinition()[SERVICE] as unknown as ServiceDefinition;

  it('serves every method of agent.proto, at the same paths, under the names Nest matches handlers by', () => {
    assert.deepEqual(
      Object.entries(served).map(([name, m]) => [name, m.path, m.requestStream, m.responseStream]),
      Object.entries(reflected).map(([name, m]) => [name, m.path, m.requestStream, m.responseStream]),
    );
    assert.deepEqual(
      Object.values(served).map((m) => m.originalName),
      Object.values(reflected).map((m) => m.originalName),
    );
    assert.deepEqual(Object.keys(MESSAGES).sort(), Object.keys(served).sort(), 'a message fixture for every method');
  });

  for (const [name, { request, response }] of Object.entries(MESSAGES)) {
    it(`${name}: what the agent writes reads back through protobufjs' reflection as what reflection writes itself`, () => {
      const r = reflected[name]!;
      const s = served[name]!;
      assert.deepEqual(r.responseDeserialize(s.responseSerialize(response)), r.responseDeserialize(r.responseSerialize(response)));
      assert.deepEqual(r.requestDeserialize(s.requestSerialize(request)), r.requestDeserialize(r.requestSerialize(request)));
    });

    it(`${name}: what reflection writes (an older collector or agent) the agent reads as what it writes itself`, () => {
      const r = reflected[name]!;
      const s = served[name]!;
      assert.deepEqual(s.requestDeserialize(r.requestSerialize(request)), s.requestDeserialize(s.requestSerialize(request)));
      assert.deepEqual(s.responseDeserialize(r.responseSerialize(response)), s.responseDeserialize(s.responseSerialize(response)));
    });
  }

  it('reads a Collect request with the field types its handler expects (numbers for uint64, arrays for repeated)', () => {
    const bytes = reflected['Collect']!.requestSerialize(MESSAGES['Collect']!.request);
    const decoded = served['Collect']!.requestDeserialize(bytes) as { ackSeq: unknown; checks: unknown[]; maxResults: unknown };

    assert.equal(decoded.ackSeq, 40);
    assert.equal(decoded.checks.length, 1);
    assert.equal(decoded.maxResults, 5000);
  });
});
