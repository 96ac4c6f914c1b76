import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

interface ResultView {
  seq: number;
  startedAt: number;
  status: string;
}
interface Spooled {
  seq: number;
  checkId: string;
  startedAtMs: number;
}

/** What the agent's spool folder holds, read the way a person would: every complete line of every segment. */
function spooledOnDisk(spoolDir: string): Spooled[] {
  const records: Spooled[] = [];
  for (const name of readdirSync(spoolDir)
    .filter((f) => /^seg-\d+\.jsonl$/.test(f))
    .sort()) {
    const lines = readFileSync(join(spoolDir, name), 'utf8').split('\n');
    lines.pop();
    for (const line of lines) records.push(JSON.parse(line) as Spooled);
  }
  return records;
}

/**
 * The spool across an agent restart, end to end: with the collector stopped, the agent
 * keeps measuring, is killed with SIGKILL (no chance to flush or say goodbye) and started
 * again; the collector, back, stores every result from before the kill exactly once.
 */
describe('an agent killed while the collector is away', { timeout: 180_000 }, () => {
  let target: Server;
  let collector: CollectorHandle;
  let agent: AgentHandle;
  const checkIds: string[] = [];

  const storedPerCheck = () =>
    Promise.all(checkIds.map(async (id) => (await collector.api<ResultView[]>('GET', `/api/v1/checks/${id}/results?limit=10000`)).body));
  const stored = async () => (await storedPerCheck()).flat().filter((r) => r.seq > 0);

  before(async () => {
    target = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const port = (target.address() as { port: number }).port;

    collector = await startCollector();
    agent = await startAgent('restarted');
    const added = await collector.api('POST', '/api/v1/agents', { name: 'restarted', enrol: agent.enrolment });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    for (const name of ['port-a', 'port-b']) {
      const res = await collector.api<{ id: string }>('POST', '/api/v1/checks', {
        agent: 'restarted',
        name,
        plugin: 'tcp',
        config: { host: '127.0.0.1', port },
        intervalMs: 1000,
        timeoutMs: 1000,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      checkIds.push(res.body.id);
    }
  });

  after(async () => {
    await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
    await new Promise((resolve) => target?.close(resolve));
  });

  test('comes back with the same spool epoch, and the collector stores every result from before the kill once, then numbers on above its reservation', async () => {
    const spoolDir = join(agent.dir, 'spool');
    await waitFor('results from both checks stored', async () => (await storedPerCheck()).every((list) => list.some((r) => r.seq > 0)));
    // A lower bound: the last poll before the stop may store a few more.
    const storedBeforeStop = Math.max(...(await stored()).map((r) => r.seq));
    assert.equal(await collector.proc.stop(), 0);

    await waitFor('the agent to spool results while the collector is away', () => spooledOnDisk(spoolDir).filter((r) => r.seq > storedBeforeStop).length >= 6);
    await agent.proc.kill();
    assert.equal(agent.proc.running, false);
    // Read after the process is gone: exactly what it left behind.
    const { epoch, discardedThrough } = JSON.parse(readFileSync(join(spoolDir, 'state.json'), 'utf8')) as { epoch: string; discardedThrough: number };
    const waiting = spooledOnDisk(spoolDir).filter((r) => r.seq > discardedThrough).length;
    const atKill = spooledOnDisk(spoolDir).filter((r) => r.seq > storedBeforeStop);
    assert.ok(atKill.length >= 6, `only ${atKill.length} results spooled`);
    const lastSeqAtKill = atKill.at(-1)!.seq;

    await agent.start();
    const replayed = await agent.proc.waitForOutput(/spool \S+ replayed: epoch ([0-9a-f-]{36}), (\d+) results waiting for the collector/);
    assert.equal(replayed[1], epoch, 'the restarted agent started a new spool epoch');
    assert.equal(Number(replayed[2]), waiting, 'the restarted agent does not offer every unacknowledged result it spooled');

    await collector.start();
    await waitFor('the results measured after the restart', async () => (await stored()).some((r) => r.seq > lastSeqAtKill));

    const results = await stored();
    const bySeq = new Map(results.map((r) => [r.seq, r]));
    for (const r of atKill) {
      const got = bySeq.get(r.seq);
      assert.ok(got, `seq ${r.seq} (${r.checkId}), measured before the kill, was never stored`);
      assert.equal(got.startedAt, r.startedAtMs, `seq ${r.seq} was stored with another result's data`);
    }
    const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
    assert.equal(new Set(seqs).size, seqs.length, 'a result was stored twice');
    // Up to the kill, every seq is there; after it, numbering resumes above the spool's
    // reservation (a process that was killed cannot prove which seqs it handed out).
    const upToKill = seqs.filter((s) => s <= lastSeqAtKill);
    const sinceRestart = seqs.filter((s) => s > lastSeqAtKill);
    assert.equal(upToKill[0], 1);
    assert.equal(upToKill.length, lastSeqAtKill, 'a result from before the kill is missing');
    assert.ok(sinceRestart.length > 0);
    for (let i = 1; i < sinceRestart.length; i++)
      assert.equal(sinceRestart[i], sinceRestart[i - 1]! + 1, `gap between seq ${sinceRestart[i - 1]} and ${sinceRestart[i]}`);
  });
});
