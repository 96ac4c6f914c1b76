import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseEnrolment, sha256 } from '#rounds/common';
import { AgentCallError, AgentClientPool } from '../../apps/collector/src/inventory/agent-client.pool.js';
import { startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

interface AgentView {
  id: string;
  state: string;
  lastSeenAt: number | null;
  lastError: string | null;
  warning?: string;
}
interface AuditRow {
  action: string;
  target: { name: string };
}

/**
 * Token rotation end to end, against real agents: the collector makes the token, the agent
 * writes its hash, the old token stops opening the agent's door from the collector's first call
 * with the new one, polling never stops, a restarted agent keeps the new token, and an agent
 * that cannot take a token (down, or its token set by ROUNDS_AGENT_TOKEN) keeps the old one on
 * both sides with a reason that says what to do.
 */
describe('rotating an agent token', { timeout: 180_000 }, () => {
  let collector: CollectorHandle;
  let agent: AgentHandle;
  let pinned: AgentHandle;
  const pool = new AgentClientPool();

  const view = async (name: string) => (await collector.api<AgentView>('GET', `/api/v1/agents/${name}`)).body;
  /** Waits for a poll that started after `since` and succeeded. */
  const polledAfter = (name: string, since: number) =>
    waitFor(`${name} polled after ${new Date(since).toISOString()}`, async () => {
      const v = await view(name);
      return v.state === 'UP' && v.lastError === null && (v.lastSeenAt ?? 0) > since ? v : undefined;
    });
  const fileOf = (a: AgentHandle) => parseYaml(readFileSync(a.configPath, 'utf8')) as { tokenSha256: string; nextTokenSha256?: string };

  before(async () => {
    [collector, agent, pinned] = await Promise.all([startCollector(), startAgent('rotating'), startAgent('pinned')]);
    // This one's token comes from the environment (a container's secret): the same token as its enrolment string.
    await pinned.proc.stop();
    await pinned.start({ ROUNDS_AGENT_TOKEN: parseEnrolment(pinned.enrolment).token });
    for (const a of [agent, pinned]) {
      const added = await collector.api('POST', '/api/v1/agents', { name: a.name, enrol: a.enrolment });
      assert.equal(added.status, 201, JSON.stringify(added.body));
    }
    await Promise.all([polledAfter('rotating', 0), polledAfter('pinned', 0)]);
  });

  after(async () => {
    pool.closeAll();
    await Promise.all([collector?.proc.stop(), agent?.proc.stop(), pinned?.proc.stop()]);
  });

  test('the agent takes the new token and refuses the old one; polling goes on, across an agent restart too', async () => {
    const old = parseEnrolment(agent.enrolment);
    const oldEndpoint = { id: 'old-token', name: 'rotating', ...old };
    assert.equal(fileOf(agent).tokenSha256, sha256(old.token).toString('hex'));

    const started = Date.now();
    const rotated = await collector.api<AgentView>('POST', '/api/v1/agents/rotating/rotate-token');
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.warning, undefined, 'the agent answered the first call with the new token');

    // The agent switched on that first call and writes the file just after answering it.
    const file = await waitFor('the rotation written to the config file', () => {
      const f = fileOf(agent);
      return f.nextTokenSha256 === undefined ? f : undefined;
    });
    assert.notEqual(file.tokenSha256, sha256(old.token).toString('hex'), 'a new token hash in the file');
    assert.equal(statSync(agent.configPath).mode & 0o777, 0o600);
    assert.match(readFileSync(agent.configPath, 'utf8'), /^# rounds-agent configuration, written by `rounds-agent init`\./, 'its comments kept');

    await assert.rejects(pool.describe(oldEndpoint, 5000), (e: AgentCallError) => e.code === 'unauthenticated');
    await polledAfter('rotating', started);

    assert.match(agent.proc.output, /token rotation: a new token is accepted beside the current one until the collector uses it/);
    assert.match(agent.proc.output, /the collector uses the new token: the old one is no longer accepted/);
    const restarted = Date.now();
    await agent.proc.stop();
    await agent.start();
    await polledAfter('rotating', restarted);
    await assert.rejects(pool.describe(oldEndpoint, 5000), (e: AgentCallError) => e.code === 'unauthenticated', 'still refused after a restart');

    const audit = await collector.api<AuditRow[]>('GET', '/api/v1/audit?action=agent.rotate-token');
    assert.deepEqual(
      audit.body.map((r) => [r.action, r.target.name]),
      [['agent.rotate-token', 'rotating']],
    );
    assert.ok(!JSON.stringify(audit.body).includes(old.token));
  });

  test('an agent whose token the environment sets, or that is down, keeps its token on both sides, with a reason', async () => {
    const refused = await collector.api<{ message: string }>('POST', '/api/v1/agents/pinned/rotate-token');
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /ROUNDS_AGENT_TOKEN.*the token was not changed/);
    assert.equal(fileOf(pinned).nextTokenSha256, undefined);
    await polledAfter('pinned', Date.now());

    await pinned.proc.stop();
    const down = await collector.api<{ message: string }>('POST', '/api/v1/agents/pinned/rotate-token');
    assert.equal(down.status, 409);
    assert.match(down.body.message, /unreachable.*ECONNREFUSED.*the token was not changed; try again once the agent answers/);
    const back = Date.now();
    await pinned.start({ ROUNDS_AGENT_TOKEN: parseEnrolment(pinned.enrolment).token });
    await polledAfter('pinned', back);
  });
});
