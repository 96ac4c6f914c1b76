import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadSync, type MessageTypeDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import {
  AGENT_PROTO_LOADER,
  AGENT_PROTO_PACKAGE,
  AGENT_SERVICE_NAME,
  agentProtoDefinition,
  agentProtoDefinitionFromText,
  agentProtoPath,
} from './agent-proto.js';
import { embeddedFile, isSingleFileBuild } from './embedded.js';

const SERVICE = `${AGENT_PROTO_PACKAGE}.${AGENT_SERVICE_NAME}`;

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

/**
 * The agent parses agent.proto's text (embedded in the single-file build, read from proto/
 * otherwise), where it used to hand proto-loader the file: the definitions must be the same.
 */
describe('agentProtoDefinition', () => {
  const fromFile = loadSync(agentProtoPath(), AGENT_PROTO_LOADER);
  const fromText = agentProtoDefinitionFromText(readFileSync(agentProtoPath(), 'utf8'));

  it('defines the same services and message types as proto-loader reading the file', () => {
    assert.deepEqual(Object.keys(fromText).sort(), Object.keys(fromFile).sort());
    const methods = (d: typeof fromFile) =>
      Object.entries(d[SERVICE] as ServiceDefinition).map(([name, m]) => [name, m.path, m.requestStream, m.responseStream]);
    assert.deepEqual(methods(fromText), methods(fromFile));
    assert.ok(methods(fromText).length >= 4, 'Describe, Collect, RunCheck and RotateToken at least');
  });

  it('encodes and decodes a Collect response to the same bytes and the same object as proto-loader reading the file', () => {
    const collect = (d: typeof fromFile) => (d[SERVICE] as ServiceDefinition).Collect!;
    const bytes = collect(fromText).responseSerialize(RESPONSE);
    assert.deepEqual(bytes, collect(fromFile).responseSerialize(RESPONSE));
    assert.deepEqual(collect(fromText).responseDeserialize(bytes), collect(fromFile).responseDeserialize(bytes));
    assert.equal((collect(fromText).responseDeserialize(bytes) as typeof RESPONSE).results[0]!.startedAtMs, RESPONSE.results[0]!.startedAtMs);
  });

  it('describes every message type with the same descriptor as proto-loader reading the file', () => {
    let compared = 0;
    for (const [name, definition] of Object.entries(fromFile)) {
      if (!('type' in definition)) continue;
      compared++;
      assert.deepEqual((fromText[name] as MessageTypeDefinition<object, object>).type, (definition as MessageTypeDefinition<object, object>).type, name);
    }
    assert.ok(compared >= 10, `only ${compared} message types compared`);
  });

  it('refuses a contract that imports another file, naming the import', () => {
    const text = 'syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\npackage x;\nmessage A { google.protobuf.Timestamp at = 1; }\n';

    assert.throws(() => agentProtoDefinitionFromText(text), /^Error: agent\.proto imports google\/protobuf\/timestamp\.proto: embed those too/);
  });

  it('reads proto/ when not running as the single-file build', () => {
    assert.equal(isSingleFileBuild(), false);
    assert.equal(embeddedFile('agent.proto'), undefined);
    assert.deepEqual(Object.keys(agentProtoDefinition()).sort(), Object.keys(fromFile).sort());
  });
});
