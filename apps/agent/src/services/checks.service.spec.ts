import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import { Status, type CheckSpec } from '#rounds/common/wire';
import { PluginRegistry } from '#rounds/plugins';
import type { AgentConfig } from '../config/agent-config.js';
import { MemorySpool } from '../spool/memory-spool.js';
import { ROOMY_LIMITS } from '../spool/testing.js';
import { ChecksService } from './checks.service.js';

const CONFIG_PATH = '/etc/rounds/agent.yaml';

const tcp = (id: string, intervalMs = 10_000, timeoutMs = 2000, port = 104): CheckSpec => ({
  id,
  plugin: 'tcp',
  configJson: JSON.stringify({ host: '127.0.0.1', port }),
  intervalMs,
  timeoutMs,
});

const started: ChecksService[] = [];
afterEach(async () => {
  for (const service of started.splice(0)) await service.onModuleDestroy();
});

// A manual clock: checks are scheduled, and run only when a test advances it.
function start(checks: { maxChecks?: number; minIntervalMs?: number } = {}) {
  const config = { path: CONFIG_PATH, checks: { concurrency: 4, maxChecks: 1000, minIntervalMs: 1000, ...checks } } as AgentConfig;
  const spool = new MemorySpool(ROOMY_LIMITS);
  const clock = new ManualClock(Date.now());
  const service = new ChecksService(config, PluginRegistry.withBuiltins(), spool, clock);
  started.push(service);
  return { service, spool, clock };
}

describe('ChecksService.apply (the safety bounds of a received check set)', () => {
  it('refuses a check whose timeout exceeds its interval, with the reason, and runs the others', () => {
    const checks = start().service;
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
    const rejected = start().service.apply('v1', [tcp('fast', 500, 200)]);
    assert.deepEqual(rejected, [
      { checkId: 'fast', error: `interval 500ms is below this agent's minimum of 1s — set checks.minIntervalMs in ${CONFIG_PATH} to allow shorter intervals` },
    ]);
  });

  it('runs a shorter interval once checks.minIntervalMs allows it', () => {
    const checks = start({ minIntervalMs: 200 }).service;
    assert.deepEqual(checks.apply('v1', [tcp('fast', 500, 200)]), []);
    assert.equal(checks.checkCount, 1);
  });

  it('accepts a set of exactly checks.maxChecks checks', () => {
    const checks = start({ maxChecks: 3 }).service;
    assert.deepEqual(checks.apply('v1', [tcp('a'), tcp('b'), tcp('c')]), []);
    assert.equal(checks.checkCount, 3);
  });

  it('refuses a set larger than checks.maxChecks as a whole: every check carries the reason and none runs, not even the previous set', () => {
    const checks = start({ maxChecks: 3 }).service;
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

describe('ChecksService.apply (what a check set refuses, by field)', () => {
  const refusal = (spec: CheckSpec) => start().service.apply('v1', [spec]);

  it('refuses a plugin config value with the field it is in', () => {
    const [rejected] = refusal({ ...tcp('zero-port'), configJson: JSON.stringify({ host: '127.0.0.1', port: 0 }) });
    assert.equal(rejected?.checkId, 'zero-port');
    assert.match(rejected.error, /^port: /);
  });

  it('refuses a config key the plugin does not know, naming it', () => {
    const [rejected] = refusal({ ...tcp('typo'), configJson: JSON.stringify({ host: '127.0.0.1', port: 104, colour: 'red' }) });
    assert.equal(rejected?.error, 'colour: unknown field');
  });

  it('refuses a plugin this agent does not have, naming the field and the plugins it has', () => {
    const [rejected] = refusal({ ...tcp('ftp'), plugin: 'ftp' });
    assert.match(rejected!.error, /^plugin: unknown plugin "ftp" \(this agent has: .*\btcp\b.*\)$/);
  });

  it('refuses config_json that is not JSON', () => {
    const [rejected] = refusal({ ...tcp('broken'), configJson: '{"host":' });
    assert.match(rejected!.error, /^config_json is not JSON: /);
  });

  it('refuses a check without an id', () => {
    assert.deepEqual(refusal(tcp('')), [{ checkId: '', error: 'check id is empty' }]);
  });

  it('refuses a timeout outside 100 ms to 10 minutes, naming timeout_ms and the bounds', () => {
    assert.deepEqual(refusal(tcp('hasty', 10_000, 50)), [{ checkId: 'hasty', error: 'timeout_ms 50 must be between 100 and 600000' }]);
  });
});

describe('ChecksService.apply (replacing the check set) and runOnce, against a real TCP server', () => {
  let server: Server;
  let openPort: number;
  let closedPort: number;
  const listen = async (s: Server) => {
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return (s.address() as { port: number }).port;
  };
  before(async () => {
    server = createServer((socket) => socket.end());
    openPort = await listen(server);
    const closed = createServer();
    closedPort = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  // The deadline is far beyond the jitter of the first run, so advancing past the jitter starts each check once and never times one out.
  const check = (id: string, port = openPort) => tcp(id, 60_000, 30_000, port);
  async function runFirstRounds({ service, clock }: ReturnType<typeof start>): Promise<void> {
    await clock.advance(5000);
    // Stopping waits for the runs in flight, so their results are in the spool afterwards.
    await service.onModuleDestroy();
  }
  const ranChecks = (spool: MemorySpool) =>
    spool
      .read(0, 100)
      .results.map((r) => r.checkId)
      .sort();

  it('runs the checks of a new set and stops the ones it no longer has', async () => {
    const agent = start();
    agent.service.apply('v1', [check('a'), check('b')]);
    agent.service.apply('v2', [check('b'), check('c')]);
    assert.equal(agent.service.checkCount, 2);
    await runFirstRounds(agent);
    assert.deepEqual(ranChecks(agent.spool), ['b', 'c']);
  });

  it('runs a check whose definition changed with its new config', async () => {
    const agent = start();
    agent.service.apply('v1', [check('pacs', closedPort)]);
    agent.service.apply('v2', [check('pacs', openPort)]);
    await runFirstRounds(agent);
    const [result] = agent.spool.read(0, 100).results;
    assert.equal(result?.status, Status.STATUS_OK, result?.summary);
    assert.equal(agent.spool.depth, 1);
  });

  it('stops a check whose new definition is refused instead of running its old one', async () => {
    const agent = start();
    agent.service.apply('v1', [check('pacs')]);
    const rejected = agent.service.apply('v2', [{ ...check('pacs'), configJson: '{}' }]);
    assert.equal(rejected.length, 1);
    assert.equal(agent.service.checkCount, 0);
    await runFirstRounds(agent);
    assert.equal(agent.spool.depth, 0);
  });

  it('runOnce runs a valid check now, answers with seq 0 and spools nothing', async () => {
    const { service, spool } = start();
    const result = await service.runOnce(check('now'));
    assert.equal(result.status, Status.STATUS_OK, result.summary);
    assert.equal(result.checkId, 'now');
    assert.equal(result.seq, 0);
    assert.equal(spool.depth, 0);
  });

  it('runOnce answers an invalid check with UNKNOWN/config_error and the refusal, without running it', async () => {
    const { service, clock } = start();
    const result = await service.runOnce(tcp('hasty', 10_000, 50, openPort));
    assert.deepEqual(result, {
      seq: 0,
      checkId: 'hasty',
      startedAtMs: clock.now(),
      durationMs: 0,
      status: Status.STATUS_UNKNOWN,
      reason: 'config_error',
      summary: 'timeout_ms 50 must be between 100 and 600000',
      metrics: [],
    });
  });

  it('runOnce answers a RunCheck that carries no check with UNKNOWN/config_error saying it needs one', async () => {
    const result = await start().service.runOnce(undefined);
    assert.equal(result.status, Status.STATUS_UNKNOWN);
    assert.equal(result.reason, 'config_error');
    assert.equal(result.summary, 'RunCheck needs a check');
  });
});
