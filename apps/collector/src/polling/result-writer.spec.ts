import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultsRepository } from '../history/results.repository.js';
import { ResultWriter, ResultWriterClosedError, type StoredResult } from './result-writer.js';
import { openTestDatabase, postgresOnly, refuseWrites } from '../storage/testing.js';
import { LeaseLostError } from '../cluster/lease-fence.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

function result(checkId: string, seq: number, startedAt: number, status: StoredResult['status'] = 0): StoredResult {
  return {
    checkId,
    seq,
    startedAt,
    durationMs: 10 + seq,
    status,
    reason: status === 0 ? 'ok' : 'refused',
    summary: `run ${seq}`,
    metrics: [{ name: 'connect_seconds', value: seq / 1000, unit: 'seconds', labels: { port: '104' } }],
  };
}

describe('ResultWriter', () => {
  let db: Db;
  let agents: AgentsRepository;
  let checks: ChecksRepository;
  let results: ResultsRepository;
  let writer: ResultWriter;
  let agentId: string;

  async function newCheck(name: string, owner = agentId): Promise<string> {
    const c = await checks.create({ agentId: owner, name, plugin: 'tcp', config: {}, intervalMs: 1000, timeoutMs: 500 });
    return c.id;
  }

  beforeEach(async () => {
    db = await openTestDatabase();
    agents = new AgentsRepository(db.dataSource);
    checks = new ChecksRepository(db.dataSource);
    results = new ResultsRepository(db.dataSource);
    writer = new ResultWriter(db.dataSource, { coalesceMs: 5 });
    agentId = (await agents.create({ name: 'pacs', host: 'h', port: 1, token: 't', fingerprint: 'f' })).id;
  });
  afterEach(async () => {
    await writer.close();
    await db.close();
  });

  it('stores the results, the current state and the new ack together', async () => {
    const checkId = await newCheck('dicom');
    await writer.write({ agentId, ackSeq: 2, spoolEpoch: 'e1', results: [result(checkId, 1, 1_000), result(checkId, 2, 2_000)] });

    const stored = await results.recent(checkId, 10);
    assert.deepEqual(
      stored.map((r) => [r.seq, r.startedAt, r.status, r.agentId]),
      [
        [2, 2_000, 0, agentId],
        [1, 1_000, 0, agentId],
      ],
    );
    assert.deepEqual(JSON.parse(stored[0]!.metricsJson), [{ name: 'connect_seconds', value: 0.002, unit: 'seconds', labels: { port: '104' } }]);
    assert.equal((await results.recent(checkId, 1)).length, 1);

    const [state] = await results.stateFor([checkId]);
    assert.ok(state);
    assert.equal(state.status, 0);
    assert.equal(state.summary, 'run 2');
    assert.equal(state.lastResultAt, 2_000);
    assert.equal(state.lastOkAt, 2_000);
    assert.equal(state.lastDurationMs, 12);
    assert.equal(state.lastSeq, 2);
    assert.equal(state.consecutiveFailures, 0);

    const agent = (await agents.findById(agentId))!;
    assert.equal(agent.ackSeq, 2);
    assert.equal(agent.spoolEpoch, 'e1');
  });

  it('counts consecutive failures, resets them on OK and moves last_change_at only when the status changes', async () => {
    const checkId = await newCheck('dicom');
    const steps: [StoredResult['status'], number, number | null][] = [
      // status, expected consecutive failures, expected last_change_at
      [0, 0, 1_000],
      [2, 1, 2_000],
      [2, 2, 2_000],
      [1, 3, 4_000],
      [0, 0, 5_000],
    ];
    let seq = 0;
    for (const [status, failures, changedAt] of steps) {
      seq += 1;
      await writer.write({ agentId, ackSeq: seq, spoolEpoch: 'e', results: [result(checkId, seq, seq * 1_000, status)] });
      const [state] = await results.stateFor([checkId]);
      assert.equal(state!.status, status);
      assert.equal(state!.consecutiveFailures, failures, `failures after seq ${seq}`);
      assert.equal(state!.lastChangeAt, changedAt, `last_change_at after seq ${seq}`);
    }
    const [state] = await results.stateFor([checkId]);
    assert.equal(state!.lastOkAt, 5_000);
  });

  it('applies every result of one batch in time order to the state, not just the last one', async () => {
    const checkId = await newCheck('dicom');
    await writer.write({
      agentId,
      ackSeq: 4,
      spoolEpoch: 'e',
      // Deliberately out of order: the state must follow started_at.
      results: [result(checkId, 3, 3_000, 2), result(checkId, 1, 1_000, 0), result(checkId, 4, 4_000, 2), result(checkId, 2, 2_000, 2)],
    });
    const [state] = await results.stateFor([checkId]);
    assert.equal(state!.status, 2);
    assert.equal(state!.consecutiveFailures, 3);
    assert.equal(state!.lastChangeAt, 2_000);
    assert.equal(state!.lastOkAt, 1_000);
    assert.equal(state!.lastSeq, 4);
  });

  it('stores a late result as history without rolling the state back', async () => {
    const checkId = await newCheck('dicom');
    await writer.write({ agentId, ackSeq: 0, spoolEpoch: 'e', results: [result(checkId, 0, 5_000, 0)] });
    await writer.write({ agentId, ackSeq: 0, spoolEpoch: 'e', results: [result(checkId, 0, 1_000, 2)] });
    const [state] = await results.stateFor([checkId]);
    assert.equal(state!.status, 0);
    assert.equal(state!.lastResultAt, 5_000);
    assert.equal((await results.recent(checkId, 10)).length, 2);
  });

  it('commits a batch of 2,000 results across 20 checks in one transaction', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) ids.push(await newCheck(`check-${i}`));
    const batch = Array.from({ length: 2_000 }, (_, i) => result(ids[i % 20]!, i + 1, 1_000 + i, i % 7 === 0 ? 2 : 0));
    await writer.write({ agentId, ackSeq: 2_000, spoolEpoch: 'e', results: batch });

    const c = writer.counters;
    assert.equal(c.transactions, 1);
    assert.equal(c.resultsWritten, 2_000);
    assert.equal(c.lastTransactionResults, 2_000);
    assert.ok(c.lastTransactionMs > 0);
    const [{ n }] = (await db.query<{ n: number }>('SELECT CAST(COUNT(*) AS integer) AS n FROM check_results')) as [{ n: number }];
    assert.equal(n, 2_000);
    const states = await results.stateFor();
    assert.equal(states.length, 20);
    // check-19 receives seq 20, 40, …, 2000; its latest is seq 2000.
    assert.equal(states.find((s) => s.checkId === ids[19])!.lastSeq, 2_000);
    assert.equal((await agents.findById(agentId))!.ackSeq, 2_000);
  });

  it('coalesces concurrent write() calls into fewer transactions', async () => {
    const checkId = await newCheck('dicom');
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => writer.write({ agentId, ackSeq: i + 1, spoolEpoch: 'e', results: [result(checkId, i + 1, 1_000 * (i + 1))] })),
    );
    const c = writer.counters;
    assert.equal(c.writes, 25);
    assert.equal(c.batches, 25);
    assert.ok(c.transactions < 25, `expected fewer than 25 transactions, got ${c.transactions}`);
    assert.equal(c.resultsWritten, 25);
    assert.equal((await agents.findById(agentId))!.ackSeq, 25);
    assert.equal((await results.stateFor([checkId]))[0]!.lastSeq, 25);
  });

  it('commits the writes that arrive during a running transaction together in the next one', async () => {
    const eager = new ResultWriter(db.dataSource, { coalesceResults: 1 });
    const checkId = await newCheck('dicom');
    const writes = [1, 2, 3, 4].map((seq) => eager.write({ agentId, ackSeq: seq, spoolEpoch: 'e', results: [result(checkId, seq, seq)] }));
    await Promise.all(writes);
    assert.equal(eager.counters.transactions, 2);
    assert.equal(eager.counters.resultsWritten, 4);
    await eager.close();
  });

  it('skips results for checks that no longer exist or belong to another agent, and still commits the rest', async () => {
    const kept = await newCheck('kept');
    const deleted = await newCheck('deleted');
    await checks.delete(deleted);
    const other = await agents.create({ name: 'ris', host: 'h', port: 1, token: 't', fingerprint: 'f' });
    const foreign = await newCheck('foreign', other.id);

    await writer.write({
      agentId,
      ackSeq: 4,
      spoolEpoch: 'e',
      results: [result(kept, 1, 1), result(deleted, 2, 2), result('never-existed', 3, 3), result(foreign, 4, 4)],
    });
    assert.equal((await results.recent(kept, 10)).length, 1);
    assert.deepEqual(await results.recent(foreign, 10), []);
    assert.deepEqual(
      (await results.stateFor()).map((s) => s.checkId),
      [kept],
    );
    assert.equal(writer.counters.resultsSkipped, 3);
    assert.equal((await agents.findById(agentId))!.ackSeq, 4);
  });

  it('does not store again results at or below the stored ack of the same spool epoch', async () => {
    const checkId = await newCheck('dicom');
    await writer.write({ agentId, ackSeq: 2, spoolEpoch: 'e1', results: [result(checkId, 1, 1), result(checkId, 2, 2)] });
    await writer.write({ agentId, ackSeq: 3, spoolEpoch: 'e1', results: [result(checkId, 2, 2), result(checkId, 3, 3)] });
    assert.deepEqual(
      (await results.recent(checkId, 10)).map((r) => r.seq),
      [3, 2, 1],
    );

    // A new epoch restarts the agent's numbering: seq 1 is a new result again.
    await writer.write({ agentId, ackSeq: 1, spoolEpoch: 'e2', results: [result(checkId, 1, 10)] });
    assert.equal((await results.recent(checkId, 10)).length, 4);
    const agent = (await agents.findById(agentId))!;
    assert.equal(agent.ackSeq, 1);
    assert.equal(agent.spoolEpoch, 'e2');
  });

  it('a batch whose transaction fails rejects alone; the batches coalesced with it are committed', async () => {
    const checkId = await newCheck('dicom');
    const broken = { ...result(checkId, 2, 2), status: null as unknown as 0 };
    const good = writer.write({ agentId, ackSeq: 1, spoolEpoch: 'e', results: [result(checkId, 1, 1)] });
    const bad = writer.write({ agentId, ackSeq: 2, spoolEpoch: 'e', results: [broken] });
    await good;
    await assert.rejects(bad, /NOT NULL|not-null constraint/);
    assert.deepEqual(
      (await results.recent(checkId, 10)).map((r) => r.seq),
      [1],
    );
    assert.equal((await agents.findById(agentId))!.ackSeq, 1);
    assert.equal(writer.counters.batchesFailed, 1);
  });

  it('remembers a state only once its transaction committed: a failed one does not count twice', async () => {
    const checkId = await newCheck('dicom');
    await writer.write({ agentId, ackSeq: 1, spoolEpoch: 'e', results: [result(checkId, 1, 1_000, 2)] });
    // The state row refuses its update: the transaction rolls back after the writer computed the new state.
    const lift = await refuseWrites(db.dataSource, 'check_state', 'UPDATE', 'state refused');
    await assert.rejects(writer.write({ agentId, ackSeq: 2, spoolEpoch: 'e', results: [result(checkId, 2, 2_000, 2)] }), /state refused/);
    await lift();
    await writer.write({ agentId, ackSeq: 3, spoolEpoch: 'e', results: [result(checkId, 3, 3_000, 2)] });
    const [state] = await results.stateFor([checkId]);
    assert.equal(state!.consecutiveFailures, 2, 'the rolled-back result is not counted');
    assert.equal(state!.lastSeq, 3);
  });

  it('a new writer (a restarted collector) continues from the stored states', async () => {
    const checkId = await newCheck('dicom');
    await writer.write({ agentId, ackSeq: 1, spoolEpoch: 'e', results: [result(checkId, 1, 1_000, 2)] });
    const restarted = new ResultWriter(db.dataSource);
    await restarted.write({ agentId, ackSeq: 2, spoolEpoch: 'e', results: [result(checkId, 2, 2_000, 2)] });
    await restarted.close();
    const [state] = await results.stateFor([checkId]);
    assert.equal(state!.consecutiveFailures, 2);
    assert.equal(state!.lastChangeAt, 1_000);
  });

  it('flush() commits pending writes without waiting for the coalescing window', async () => {
    const slow = new ResultWriter(db.dataSource, { coalesceMs: 60_000 });
    const checkId = await newCheck('dicom');
    const pending = slow.write({ agentId, ackSeq: 1, spoolEpoch: 'e', results: [result(checkId, 1, 1)] });
    await slow.flush();
    await pending;
    assert.equal((await results.recent(checkId, 10)).length, 1);
    await slow.close();
  });

  it('close() commits what is pending, then write() rejects with a message saying the writer is closed', async () => {
    const checkId = await newCheck('dicom');
    const pending = writer.write({ agentId, ackSeq: 1, spoolEpoch: 'e', results: [result(checkId, 1, 1)] });
    await writer.close();
    await pending;
    assert.equal((await results.recent(checkId, 10)).length, 1);

    await assert.rejects(
      writer.write({ agentId, ackSeq: 2, spoolEpoch: 'e', results: [result(checkId, 2, 2)] }),
      (error: unknown) => error instanceof ResultWriterClosedError && /ResultWriter is closed/.test(error.message),
    );
    assert.equal((await results.recent(checkId, 10)).length, 1);
  });

  it('two writers (two collectors) racing the same batch store it once', async () => {
    const checkId = await newCheck('dicom');
    const other = new ResultWriter(db.dataSource);
    const batch = { agentId, ackSeq: 3, spoolEpoch: 'e1', results: [result(checkId, 1, 1_000), result(checkId, 2, 2_000), result(checkId, 3, 3_000)] };
    try {
      await Promise.all([writer.write(batch), other.write(batch), writer.write(batch), other.write(batch)]);
    } finally {
      await other.close();
    }
    assert.deepEqual(
      (await results.recent(checkId, 10)).map((r) => r.seq),
      [3, 2, 1],
    );
    assert.equal((await agents.findById(agentId))!.ackSeq, 3);
  });

  it(
    'refuses a batch polled under a lease that is no longer current, naming the agent and the epochs; the other batches of its transaction commit',
    { skip: postgresOnly('leases are kept on PostgreSQL only (several collectors)') },
    async () => {
      const checkId = await newCheck('dicom');
      const second = (await agents.create({ name: 'ris', host: 'h2', port: 2, token: 't', fingerprint: 'f' })).id;
      const secondCheck = await newCheck('hl7', second);
      // collector-b took `agentId` over (epoch 2); `second` is still collector-a's at epoch 1.
      await db.query('INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [
        `agent:${agentId}`,
        'collector-b',
        2,
        Date.now() + 60_000,
        `agent:${second}`,
        'collector-a',
        1,
        Date.now() + 60_000,
      ]);
      const stale = writer.write({ agentId, ackSeq: 1, spoolEpoch: 'e1', results: [result(checkId, 1, 1_000)], lease: { collector: 'collector-a', epoch: 1 } });
      const current = writer.write({
        agentId: second,
        ackSeq: 1,
        spoolEpoch: 'e1',
        results: [result(secondCheck, 1, 1_000)],
        lease: { collector: 'collector-a', epoch: 1 },
      });
      await assert.rejects(stale, (e: unknown) => {
        assert.ok(e instanceof LeaseLostError);
        assert.equal(e.agentId, agentId);
        assert.match(
          e.message,
          new RegExp(`agent ${agentId} was lost: polled under epoch 1 of collector collector-a, the lease is now at epoch 2 of collector collector-b`),
        );
        return true;
      });
      await current;
      assert.deepEqual(await results.recent(checkId, 10), []);
      assert.equal((await agents.findById(agentId))!.ackSeq, 0);
      assert.equal((await results.recent(secondCheck, 10)).length, 1);
      assert.equal((await agents.findById(second))!.ackSeq, 1);
      // The holder's own write goes through.
      await writer.write({ agentId, ackSeq: 1, spoolEpoch: 'e1', results: [result(checkId, 1, 1_000)], lease: { collector: 'collector-b', epoch: 2 } });
      assert.equal((await results.recent(checkId, 10)).length, 1);
      // A poll outcome under the lost lease is not recorded either.
      assert.equal(await agents.recordPollFailure(agentId, { at: 5_000, error: 'refused', downAfter: 1 }, { collector: 'collector-a', epoch: 1 }), null);
      assert.equal((await agents.findById(agentId))!.consecutiveFailures, 0);
    },
  );
});
