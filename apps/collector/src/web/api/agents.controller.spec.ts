import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../../../test/peers/process.js';
import { AgentClientPool } from '../../inventory/agent-client.pool.js';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { openTestDatabase } from '../../storage/testing.js';
import { AgentsService, versionSkew } from '../../inventory/agents.service.js';
import { DependenciesService } from '../../inventory/dependencies.service.js';
import { alertingProviders } from '../../alerting/testing.js';
import { CurrentState } from '../../state/current-state.js';
import { ROUNDS_VERSION } from '#rounds/common';
import { AgentsController } from './agents.controller.js';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';
import { problem } from './problem.js';

/** The agents API over `db`, with the read model; the agent client pool reaches nothing there, so enrolments get a warning. */
function agentsApi(db: Awaited<ReturnType<typeof openTestDatabase>>): Promise<ApiTestApp> {
  return startApiTestApp({
    controllers: [AgentsController],
    dataSource: db.dataSource,
    config: { pollTimeoutMs: 1000 },
    providers: [AgentClientPool, DependenciesService, AgentsService, ...alertingProviders()],
  });
}

describe('AgentsController (/api/v1/agents): names', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let enrol: string;

  before(async () => {
    db = await openTestDatabase();
    // Nothing listens there: the agent is registered with a warning, which is all a name test needs.
    enrol = `rounds://${'t'.repeat(43)}@127.0.0.1:${await freePort()}?fp=${'ab'.repeat(32)}`;
    api = await agentsApi(db);
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('POST refuses a name with a control character (newline, NUL, C1) with a 400 naming the field', async () => {
    for (const name of ['pacs-01\n', 'pacs\u000001', 'pacs-01\u0085']) {
      const res = await api.call<ApiErrorBody>('POST', '/api/v1/agents', { name, enrol });
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.equal(res.json.errors?.[0]?.field, 'name');
    }
    assert.deepEqual((await api.call('GET', '/api/v1/agents')).json, []);
  });

  it('POST with a name that is not text, or without a body, answers 400 naming the fields', async () => {
    const rule = 'must be 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit';
    const res = await api.call('POST', '/api/v1/agents', { name: 42, enrol });
    assert.deepEqual([res.status, res.json], [400, problem(400, 'invalid agent', '/api/v1/agents', [{ field: 'name', message: rule }])]);
    const empty = await api.call<ApiErrorBody>('POST', '/api/v1/agents');
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.json.errors, [
      { field: 'name', message: rule },
      { field: 'enrol', message: 'must be the enrolment string: copy the whole last line printed by `rounds-agent init` (it starts with rounds://)' },
    ]);
    assert.deepEqual((await api.call('GET', '/api/v1/agents')).json, []);
  });

  it('POST with a taken name is a 409 naming the field', async () => {
    const first = await api.call<{ warning: string }>('POST', '/api/v1/agents', { name: 'pacs-01', enrol });
    assert.equal(first.status, 201, first.text);
    assert.match(first.json.warning, /refused the connection/);
    const again = await api.call<ApiErrorBody>('POST', '/api/v1/agents', { name: 'pacs-01', enrol });
    assert.equal(again.status, 409);
    assert.deepEqual(again.json.errors, [{ field: 'name', message: 'an agent named "pacs-01" already exists — pick another name or remove it first' }]);
  });
});

describe('AgentsController (/api/v1/agents): the read model behind the lists', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;

  interface AgentBody {
    id: string;
    name: string;
    state: string;
    token?: unknown;
  }

  before(async () => {
    db = await openTestDatabase();
    api = await agentsApi(db);
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('every route answers 401 without the API token', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/agents'],
      ['GET', '/api/v1/agents/x'],
      ['POST', '/api/v1/agents'],
      ['DELETE', '/api/v1/agents/x'],
    ] as const) {
      assert.equal((await api.call(method, path, method === 'POST' ? {} : undefined, null)).status, 401, `${method} ${path}`);
    }
  });

  it('lists an enrolled agent at once (never its token), finds it by name, and forgets it when removed', async () => {
    const enrol = `rounds://${'s'.repeat(43)}@127.0.0.1:${await freePort()}?fp=${'cd'.repeat(32)}`;
    const created = await api.call<AgentBody>('POST', '/api/v1/agents', { name: 'ward-7', enrol });
    assert.equal(created.status, 201, created.text);
    const listed = await api.call<AgentBody[]>('GET', '/api/v1/agents');
    assert.deepEqual(
      listed.json.map((a) => [a.name, a.state, 'token' in a]),
      [['ward-7', 'UNKNOWN', false]],
    );
    assert.doesNotMatch(listed.text, /s{43}/, 'the agent token is in the answer');
    assert.equal((await api.call<AgentBody>('GET', '/api/v1/agents/ward-7')).json.id, created.json.id);
    assert.equal((await api.call('DELETE', '/api/v1/agents/ward-7')).status, 204);
    assert.equal((await api.call('GET', `/api/v1/agents/${created.json.id}`)).status, 404);
    assert.deepEqual((await api.call('GET', '/api/v1/agents')).json, []);
  });

  it('says when an agent runs another release than the collector, and which side to update', async () => {
    const repo = new AgentsRepository(db.dataSource);
    const describe = (version: string) => JSON.stringify({ agentId: 'x', version, hostname: 'h', os: 'linux', arch: 'x64', plugins: [] });
    for (const [name, version] of [
      ['same', ROUNDS_VERSION],
      ['old', '0.0.9'],
      ['new', '99.0.0'],
    ] as const) {
      const agent = await repo.create({ name: `skew-${name}`, host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
      await repo.update(agent.id, { descriptionJson: describe(version) });
      await api.app.get(CurrentState).refreshAgent(agent.id);
    }
    const skew = async (name: string) =>
      (await api.call<{ versionSkew: { older: string; message: string } | null }>('GET', `/api/v1/agents/skew-${name}`)).json.versionSkew;
    assert.equal(await skew('same'), null);
    const one = await api.call<{ polledBy: string | null }>('GET', '/api/v1/agents/skew-same');
    assert.equal(one.json.polledBy, null, 'one collector (no shared cluster) polls every agent: no collector is named');
    assert.deepEqual(await skew('old'), {
      older: 'agent',
      message: `rounds-agent 0.0.9 is older than this collector (${ROUNDS_VERSION}): update the agent — checks and options added since may be refused there`,
    });
    assert.equal((await skew('new'))?.older, 'collector');
    assert.equal(versionSkew('1.10.0', '1.9.2')?.older, 'collector', 'numbers, not text: 1.10 comes after 1.9');
  });

  it('sorts and pages the agent list on request, with X-Total-Count, and refuses a bad sort naming what is allowed', async () => {
    const repo = new AgentsRepository(db.dataSource);
    const made: string[] = [];
    for (const [name, state] of [
      ['sort-b', 'UP'],
      ['sort-a', 'DOWN'],
      ['sort-c', 'UNKNOWN'],
    ] as const) {
      const agent = await repo.create({ name, host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
      await db.query('UPDATE agents SET state = ? WHERE id = ?', [state, agent.id]);
      await api.app.get(CurrentState).refreshAgent(agent.id);
      made.push(agent.id);
    }
    const names = async (q: string) => {
      const res = await api.call<{ name: string }[]>('GET', `/api/v1/agents?${q}`);
      return { names: res.json.map((a) => a.name).filter((n) => n.startsWith('sort-')), total: res.headers.get('x-total-count'), status: res.status };
    };
    assert.deepEqual((await names('sort=name')).names, ['sort-a', 'sort-b', 'sort-c']);
    assert.deepEqual((await names('sort=-name')).names, ['sort-c', 'sort-b', 'sort-a']);
    assert.deepEqual((await names('sort=state')).names, ['sort-a', 'sort-c', 'sort-b'], 'DOWN, UNKNOWN, UP');
    const all = await api.call<{ name: string }[]>('GET', '/api/v1/agents');
    const page = await api.call<{ name: string }[]>('GET', '/api/v1/agents?limit=1&offset=1');
    assert.deepEqual(
      page.json.map((a) => a.name),
      [all.json[1]!.name],
    );
    assert.equal(page.headers.get('x-total-count'), String(all.json.length));
    const bad = await api.call<ApiErrorBody>('GET', '/api/v1/agents?sort=age');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [{ field: 'sort', message: 'must be one of name, -name, state, -state, lastSeen, -lastSeen' }]);
    for (const id of made) await repo.delete(id);
  });
});
