import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Param, Post, UseFilters } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { ChannelsRepository } from '../../notifications/channels.repository.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { openTestDatabase } from '../../storage/testing.js';
import { uniqueViolation } from '../../shared/unique-violation.js';
import { Access } from '../../auth/access.decorator.js';
import { ApiErrorFilter } from './error.filter.js';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';
import { problem } from './problem.js';

/** What node-postgres raises for a duplicate key (its DatabaseError fields), wrapped the way TypeORM wraps it. */
function postgresDuplicate(table: string, columns: string): QueryFailedError {
  const driverError = Object.assign(new Error(`duplicate key value violates unique constraint "uq_${table}"`), {
    code: '23505',
    table,
    constraint: `uq_${table}`,
    detail: `Key (${columns})=(x) already exists.`,
  });
  return new QueryFailedError('INSERT …', [], driverError);
}

/** Writes straight through the repositories, past the services' own name checks: what a race looks like. */
@Controller('test')
@Access('operator')
@UseFilters(ApiErrorFilter)
class WritesController {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly checks: ChecksRepository,
    private readonly channels: ChannelsRepository,
  ) {}

  @Post('agents/:name')
  agent(@Param('name') name: string) {
    return this.agents.create({ name, host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' });
  }

  @Post('checks/:agentId/:name')
  check(@Param('agentId') agentId: string, @Param('name') name: string) {
    return this.checks.create({ agentId, name, plugin: 'tcp', config: {}, intervalMs: 60_000, timeoutMs: 5_000 });
  }

  @Post('channels/:name')
  channel(@Param('name') name: string) {
    return this.channels.create({ name, type: 'webhook', config: { url: 'http://127.0.0.1:9/' } });
  }

  @Post('postgres')
  postgres(): never {
    throw postgresDuplicate('checks', 'agent_id, name');
  }
}

describe('ApiErrorFilter: unique-constraint failures', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;

  before(async () => {
    db = await openTestDatabase();
    api = await startApiTestApp({
      controllers: [WritesController],
      dataSource: db.dataSource,
      providers: [AgentsRepository, ChecksRepository, ChannelsRepository],
    });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('a duplicate agent, check or channel name from SQLite is a 409 naming the field, not a 500', async () => {
    const agent = await api.call<{ id: string }>('POST', '/test/agents/pacs-01');
    assert.equal(agent.status, 201, agent.text);
    const cases: [string, string][] = [
      ['/test/agents/pacs-01', 'another agent has the same name — choose another name'],
      [`/test/checks/${agent.json.id}/web`, 'another check has the same agentId and name — choose another name'],
      ['/test/channels/on-call', 'another notification channel has the same name — choose another name'],
    ];
    for (const [path] of cases.slice(1)) assert.equal((await api.call('POST', path)).status, 201, `first ${path}`);
    for (const [path, message] of cases) {
      const res = await api.call('POST', path);
      assert.equal(res.status, 409, `${path}: ${res.text}`);
      assert.deepEqual(res.json, problem(409, message, path, [{ field: 'name', message }]));
    }
  });

  it("PostgreSQL's 23505 is the same 409 as SQLite's", async () => {
    const res = await api.call<ApiErrorBody>('POST', '/test/postgres');
    assert.equal(res.status, 409);
    assert.deepEqual(res.json.errors, [{ field: 'name', message: 'another check has the same agentId and name — choose another name' }]);
  });
});

describe('uniqueViolation', () => {
  it('reads table and columns from a real SQLite error and from a PostgreSQL one, and nothing from other errors', async () => {
    const db = await openTestDatabase();
    try {
      const agents = new AgentsRepository(db.dataSource);
      await agents.create({ name: 'a', host: 'h', port: 1, token: 't', fingerprint: 'f' });
      const sqlite = await agents.create({ name: 'a', host: 'h', port: 1, token: 't', fingerprint: 'f' }).catch((e: unknown) => e);
      assert.deepEqual(uniqueViolation(sqlite), { table: 'agents', columns: ['name'] });
      const notNull = await db.query('INSERT INTO agents (id) VALUES (?)', ['x']).catch((e: unknown) => e);
      assert.ok(notNull instanceof Error);
      assert.equal(uniqueViolation(notNull), undefined, 'a NOT NULL failure is not a conflict');
    } finally {
      await db.close();
    }
    assert.deepEqual(uniqueViolation(postgresDuplicate('notification_channels', 'name')), { table: 'notification_channels', columns: ['name'] });
    assert.equal(uniqueViolation(new Error('disk I/O error')), undefined);
    assert.equal(uniqueViolation(undefined), undefined);
  });
});
