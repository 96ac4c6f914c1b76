import { systemClock } from '#rounds/common';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PluginRegistry } from '#rounds/plugins';
import type { CollectorConfig } from '../config/env.js';
import { AgentClientPool } from './agent-client.pool.js';
import { AgentsRepository } from './agents.repository.js';
import { ChecksRepository } from './checks.repository.js';
import { DependenciesService } from './dependencies.service.js';
import { openTestDatabase } from '../storage/testing.js';
import { AgentsService } from './agents.service.js';
import { ChecksService } from './checks.service.js';
import { createCheckDto } from './checks.dto.js';
import { ValidationFailedError } from '../shared/errors.js';
import { SPEC_AUDIT } from '../audit/testing.js';

const INTERVAL_FLOOR = 'set ROUNDS_MIN_CHECK_INTERVAL_MS on the collector to allow shorter intervals';
const TIMEOUT_RULE = 'a check must end before its next run is due: shorten the timeout or lengthen the interval';

describe('ChecksService limits (checks per agent, interval floor, timeout within interval)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let pool: AgentClientPool;
  let agents: AgentsRepository;
  const registry = PluginRegistry.withBuiltins();

  const service = (limits: Partial<CollectorConfig> = {}) => {
    const config = { pollTimeoutMs: 1000, maxChecksPerAgent: 1000, minCheckIntervalMs: 1000, ...limits } as CollectorConfig;
    const checks = new ChecksRepository(db.dataSource);
    const dependencies = new DependenciesService(checks, agents);
    return new ChecksService(checks, new AgentsService(agents, pool, dependencies, config), dependencies, pool, registry, config, systemClock);
  };
  const addAgent = (name: string) => agents.create({ name, host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
  const tcp = (agent: string, name: string, timing: { intervalMs?: number; timeoutMs?: number } = {}) =>
    createCheckDto.parse({
      agent,
      name,
      plugin: 'tcp',
      config: { host: 'pacs', port: 104 },
      ...timing,
    });
  /** The field errors of a refused call. */
  async function refusal(call: Promise<unknown>): Promise<{ field: string; message: string }[]> {
    const e = await call.then(
      () => assert.fail('expected a refusal'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof ValidationFailedError, `expected a ValidationFailedError, got ${String(e)}`);
    return e.errors;
  }

  before(async () => {
    db = await openTestDatabase();
    pool = new AgentClientPool();
    agents = new AgentsRepository(db.dataSource);
    await addAgent('pacs-01');
  });
  after(() => db.close());

  it('refuses an interval below ROUNDS_MIN_CHECK_INTERVAL_MS, saying the minimum and the variable', async () => {
    assert.deepEqual(await refusal(service().create(tcp('pacs-01', 'fast', { intervalMs: 200, timeoutMs: 100 }), SPEC_AUDIT)), [
      { field: 'intervalMs', message: `interval 200ms is below the minimum of 1s — ${INTERVAL_FLOOR}` },
    ]);
  });

  it('accepts that interval when ROUNDS_MIN_CHECK_INTERVAL_MS allows it', async () => {
    const check = await service({ minCheckIntervalMs: 200 }).create(tcp('pacs-01', 'fast', { intervalMs: 200, timeoutMs: 100 }), SPEC_AUDIT);
    assert.equal(check.intervalMs, 200);
  });

  it('refuses a timeout longer than the interval, on the timeoutMs field', async () => {
    assert.deepEqual(await refusal(service().create(tcp('pacs-01', 'slow', { intervalMs: 5000, timeoutMs: 30_000 }), SPEC_AUDIT)), [
      { field: 'timeoutMs', message: `timeout 30s is longer than the interval 5s — ${TIMEOUT_RULE}` },
    ]);
  });

  it('gives an unset timeout 10 s, or the interval when that is shorter', async () => {
    assert.equal((await service().create(tcp('pacs-01', 'default timing'), SPEC_AUDIT)).timeoutMs, 10_000);
    assert.equal((await service().create(tcp('pacs-01', 'every 2s', { intervalMs: 2000 }), SPEC_AUDIT)).timeoutMs, 2000);
  });

  it('refuses a check beyond ROUNDS_MAX_CHECKS_PER_AGENT on that agent only, saying how to allow more', async () => {
    await addAgent('ward-02');
    await addAgent('ward-03');
    const limited = service({ maxChecksPerAgent: 2 });
    await limited.create(tcp('ward-02', 'one'), SPEC_AUDIT);
    await limited.create({ ...tcp('ward-02', 'two'), enabled: false }, SPEC_AUDIT);
    assert.deepEqual(await refusal(limited.create(tcp('ward-02', 'three'), SPEC_AUDIT)), [
      {
        field: 'agent',
        message:
          'agent ward-02 has 2 checks, the most one agent may have is 2 — set ROUNDS_MAX_CHECKS_PER_AGENT on the collector to allow more, or add the check to another agent',
      },
    ]);
    assert.equal((await limited.listViews('ward-02')).length, 2);
    assert.equal((await limited.create(tcp('ward-03', 'three'), SPEC_AUDIT)).name, 'three');
  });

  it('PATCH judges the timeout against the stored interval and names the field it changed', async () => {
    const s = service();
    const check = await s.create(tcp('pacs-01', 'patched', { intervalMs: 10_000, timeoutMs: 5000 }), SPEC_AUDIT);
    assert.deepEqual(await refusal(s.update(check.id, { timeoutMs: 20_000 }, SPEC_AUDIT)), [
      { field: 'timeoutMs', message: `timeout 20s is longer than the interval 10s — ${TIMEOUT_RULE}` },
    ]);
    assert.deepEqual(await refusal(s.update(check.id, { intervalMs: 2000 }, SPEC_AUDIT)), [
      { field: 'intervalMs', message: `timeout 5s is longer than the interval 2s — ${TIMEOUT_RULE}` },
    ]);
    assert.deepEqual(await refusal(s.update(check.id, { intervalMs: 500 }, SPEC_AUDIT)), [
      { field: 'intervalMs', message: `interval 500ms is below the minimum of 1s — ${INTERVAL_FLOOR}` },
    ]);
    const both = await s.update(check.id, { intervalMs: 2000, timeoutMs: 2000 }, SPEC_AUDIT);
    assert.deepEqual([both.intervalMs, both.timeoutMs], [2000, 2000]);
    const stored = await s.get(check.id);
    assert.deepEqual([stored.intervalMs, stored.timeoutMs], [2000, 2000]);
  });
});
