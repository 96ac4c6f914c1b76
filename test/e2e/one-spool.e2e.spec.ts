import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSpool } from '../../apps/agent/src/spool/file-spool.js';
import { ROOMY_LIMITS, spoolResult } from '../../apps/agent/src/spool/testing.js';
import { Proc, ROOT, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

/** Every file in the folder with its bytes, to compare before and after. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

/**
 * Two agents started on one config: the second must stop before it replays, compacts or
 * rewrites anything in the first one's spool, and say which agent holds it. A lock left by
 * a killed agent must not keep the next start out.
 */
describe('a second agent on the same config', { timeout: 120_000 }, () => {
  let agent: AgentHandle;
  let collector: CollectorHandle | undefined;
  let spoolDir: string;
  const seeded: string[] = [];

  before(async () => {
    agent = await startAgent('one-spool');
    await agent.proc.stop();
    spoolDir = join(agent.dir, 'spool');
    // Results waiting for a collector that has not come yet: the segments the second agent must leave alone.
    const spool = await FileSpool.open({
      dir: spoolDir,
      limits: ROOMY_LIMITS,
      configPath: agent.configPath,
      log: { debug() {}, log() {}, warn() {} },
      syncIntervalMs: 0,
    });
    for (const id of ['a', 'b', 'c']) seeded.push(spool.append(spoolResult(`seeded-${id}`, { startedAtMs: Date.now() })).checkId);
    await spool.close();
    await agent.start();
  });
  after(async () => {
    await agent.proc.stop();
    await collector?.proc.stop();
  });

  test('exits non-zero naming the folder and the running pid, and leaves every spool file byte for byte as it was', async () => {
    const before = snapshot(spoolDir);
    assert.ok(
      [...before.keys()].some((f) => /^seg-\d+\.jsonl$/.test(f)),
      `no segment to protect in ${[...before.keys()].join(', ')}`,
    );
    const second = new Proc('second agent', [join(ROOT, 'bin', 'rounds-agent.js'), 'start', '--config', agent.configPath], {}, join(agent.dir, 'second.log'));
    const code = await second.exited;
    assert.notEqual(code, 0, second.output);
    assert.match(
      second.output,
      new RegExp(
        `rounds-agent: spool\\.dir ${spoolDir} is in use by another rounds-agent \\(pid ${agent.proc.pid}, since [^;]+; lock ${join(spoolDir, 'agent.lock')}\\): ` +
          `.*Stop that agent first \\(kill ${agent.proc.pid}, or systemctl stop rounds-agent\\), or give this one its own spool\\.dir and listen address in ${agent.configPath}`,
      ),
    );
    assert.doesNotMatch(second.output, /replayed/);
    assert.deepEqual(snapshot(spoolDir), before, "the refused agent changed the running one's spool");
    assert.ok(agent.proc.running, 'the first agent stopped');

    // The first one still serves, from its intact spool: a collector gets every seeded result.
    collector = await startCollector();
    const added = await collector.api('POST', '/api/v1/agents', { name: 'one-spool', enrol: agent.enrolment });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    await waitFor('the agent to be polled', async () => {
      const agents = (await collector!.api<{ name: string; state: string }[]>('GET', '/api/v1/agents')).body;
      return agents.find((a) => a.name === 'one-spool')?.state === 'UP';
    });
    await waitFor('the seeded results to be acknowledged', () => JSON.parse(readFileSync(join(spoolDir, 'state.json'), 'utf8')).ackedSeq === seeded.length);
  });

  test('a lock left by a killed agent is taken over, with a warning naming the dead pid', async () => {
    const killedPid = agent.proc.pid;
    await agent.proc.kill();
    assert.equal(JSON.parse(readFileSync(join(spoolDir, 'agent.lock'), 'utf8')).pid, killedPid, 'SIGKILL left no lock to take over');
    const proc = await agent.start();
    assert.match(
      proc.output,
      new RegExp(
        `took over the lock ${join(spoolDir, 'agent.lock')} left by an agent that did not stop cleanly \\(no process has pid ${killedPid} any more\\)`,
      ),
    );
    assert.equal(JSON.parse(readFileSync(join(spoolDir, 'agent.lock'), 'utf8')).pid, proc.pid);
    assert.equal(await proc.stop(), 0);
    assert.deepEqual(
      readdirSync(spoolDir).filter((f) => f.startsWith('agent.lock')),
      [],
      'a clean stop left the lock behind',
    );
  });
});
