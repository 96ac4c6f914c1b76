import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import type { CheckSpec } from '#rounds/common/wire';
import { PluginRegistry } from '#rounds/plugins';
import type { AgentConfig } from '../config/agent-config.js';
import { MemorySpool } from '../spool/memory-spool.js';
import { ROOMY_LIMITS } from '../spool/testing.js';
import { ChecksService } from './checks.service.js';

const CONFIG_PATH = '/etc/rounds/agent.yaml';

describe('ChecksService.apply (the safety bounds of a received check set)', () => {
  let service: ChecksService | undefined;
  afterEach(async () => service?.onModuleDestroy());

  // A manual clock that is never advanced: checks are scheduled, none runs.
  function start(checks: { maxChecks?: number; minIntervalMs?: number } = {}): ChecksService {
    const config = { path: CONFIG_PATH, checks: { concurrency: 4, maxChecks: 1000, minIntervalMs: 1000, ...checks } } as AgentConfig;
    service = new ChecksService(config, PluginRegistry.withBuiltins(), new MemorySpool(ROOMY_LIMITS), new ManualClock(1_000_000));
    return service;
  }
  const tcp = (id: string, intervalMs = 10_000, timeoutMs = 2000): CheckSpec => ({
    id,
    plugin: 'tcp',
    configJson: JSON.stringify({ host: '127.0.0.1', port: 104 }),
    intervalMs,
    timeoutMs,
  });

  it('refuses a check whose timeout exceeds its interval, with the reason, and runs the others', () => {
    const checks = start();
    const rejected = checks.apply('v1', [tcp('fits', 5000, 5000), tcp('too-long', 5000, 10_000)]);
    assert.deepEqual(rejected, [
      {
        checkId: 'too-long',
        error: 'timeout 10s is longer than the interval 5s — a check must end before its next run is due: shorten the timeout or lengthen the interval',
      },
    ]);
    assert.equal(checks.checkCount, 1);
  });

  it("refuses an interval below the agent's floor, naming checks.minIntervalMs in its config file", () => {
    const rejected = start().apply('v1', [tcp('fast', 500, 200)]);
    assert.deepEqual(rejected, [
      { checkId: 'fast', error: `interval 500ms is below this agent's minimum of 1s — set checks.minIntervalMs in ${CONFIG_PATH} to allow shorter intervals` },
    ]);
  });

  it('runs a shorter interval once checks.minIntervalMs allows it', () => {
    const checks = start({ minIntervalMs: 200 });
    assert.deepEqual(checks.apply('v1', [tcp('fast', 500, 200)]), []);
    assert.equal(checks.checkCount, 1);
  });

  it('accepts a set of exactly checks.maxChecks checks', () => {
    const checks = start({ maxChecks: 3 });
    assert.deepEqual(checks.apply('v1', [tcp('a'), tcp('b'), tcp('c')]), []);
    assert.equal(checks.checkCount, 3);
  });

  it('refuses a set larger than checks.maxChecks as a whole: every check carries the reason and none runs, not even the previous set', () => {
    const checks = start({ maxChecks: 3 });
    checks.apply('v1', [tcp('a'), tcp('b')]);
    assert.equal(checks.checkCount, 2);
    const rejected = checks.apply('v2', [tcp('a'), tcp('b'), tcp('c'), tcp('d')]);
    const error = `the collector assigned 4 checks, more than this agent's limit of 3 — set checks.maxChecks in ${CONFIG_PATH} to allow more, or move checks to another agent`;
    assert.deepEqual(
      rejected,
      ['a', 'b', 'c', 'd'].map((checkId) => ({ checkId, error })),
    );
    assert.equal(checks.checkCount, 0);
    // The refusal is the agent's answer to this version: the collector records it instead of resending the set on every poll.
    assert.equal(checks.assignmentVersion, 'v2');
  });
});
