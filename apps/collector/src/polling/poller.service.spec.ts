import { PluginRegistry } from '#rounds/plugins';
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Logger, type LoggerService } from '@nestjs/common';
import { ManualClock, type Scheduler } from '#rounds/common';
import { Status, type AgentDescription, type CheckResult, type CollectRequest, type CollectResponse } from '#rounds/common/wire';
import { readCollectorConfig, type CollectorConfig } from '../config/env.js';
import { AgentCallError, type AgentClientPool, type AgentEndpoint } from '../inventory/agent-client.pool.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultsRepository } from '../history/results.repository.js';
import { ResultWriter } from './result-writer.js';
import { openTestDatabase, postgresOnly } from '../storage/testing.js';
import type { Cluster } from '../cluster/cluster.js';
import { PollerService, type PollObserver } from './poller.service.js';
import { CurrentState } from '../state/current-state.js';
import { StateRepository } from '../state/state.repository.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

/** A realistic epoch, so stored timestamps look like the real thing. */
const T0 = 1_700_000_000_000;
const INTERVAL = 1000;
const DOWN_AFTER = 3;
const MAX_BACKOFF = 8000;

interface CollectCall {
  agentId: string;
  at: number;
  request: CollectRequest;
  token: string;
}

type Step = Partial<CollectResponse> | Error;

/**
 * Stands in for AgentClientPool: answers Collect from a per-agent script (a response or
 * an error per call), and otherwise like an agent with nothing new — one that applies
 * every assignment it is sent, as a real agent does.
 */
class FakeAgentPool {
  readonly calls: CollectCall[] = [];
  readonly describes: string[] = [];
  readonly dropped: string[] = [];
  closedAll = false;
  private readonly scripts = new Map<string, Step[]>();
  private readonly failing = new Map<string, Error>();
  private readonly applied = new Map<string, string>();

  constructor(private readonly clock: ManualClock) {}

  /** The next calls for this agent, in order; after them the default answer resumes. */
  script(agentId: string, ...steps: Step[]): void {
    this.scripts.set(agentId, [...(this.scripts.get(agentId) ?? []), ...steps]);
  }

  /** Every call for this agent throws `error` until {@link recover}. */
  failAlways(agentId: string, error: Error): void {
    this.failing.set(agentId, error);
  }

  recover(agentId: string): void {
    this.failing.delete(agentId);
  }

  callsFor(agentId: string): CollectCall[] {
    return this.calls.filter((c) => c.agentId === agentId);
  }

  /** Runs once, at the start of the next call (something that happens while a poll is under way). */
  meanwhile: (() => Promise<void>) | undefined;

  async collect(endpoint: AgentEndpoint, request: CollectRequest, _timeoutMs: number): Promise<CollectResponse> {
    const meanwhile = this.meanwhile;
    this.meanwhile = undefined;
    await meanwhile?.();
    this.calls.push({ agentId: endpoint.id, at: this.clock.now(), request: structuredClone(request), token: endpoint.token });
    const failure = this.failing.get(endpoint.id);
    if (failure) throw failure;
    const step = this.scripts.get(endpoint.id)?.shift();
    if (step instanceof Error) throw step;
    if (request.hasChecks) this.applied.set(endpoint.id, request.assignmentVersion);
    return {
      results: [],
      lastSeq: 0,
      more: false,
      assignmentVersion: this.applied.get(endpoint.id) ?? '',
      dropped: 0,
      health: undefined,
      rejected: [],
      spoolEpoch: 'epoch-1',
      ...step,
    };
  }

  async describe(endpoint: AgentEndpoint, _timeoutMs: number): Promise<AgentDescription> {
    this.describes.push(endpoint.id);
    return {
      agentId: endpoint.id,
      version: '0.1.0',
      hostname: endpoint.name,
      os: 'linux',
      arch: 'x64',
      plugins: [],
      assignmentVersion: this.applied.get(endpoint.id) ?? '',
      startedAtMs: T0,
    };
  }

  drop(agentId: string): void {
    this.dropped.push(agentId);
  }

  closeAll(): void {
    this.closedAll = true;
  }
}

/** Captures what the poller tells the operator. */
class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warnings(containing: string): string[] {
    return this.lines.filter((l) => l.level === 'warn' && l.message.includes(containing)).map((l) => l.message);
  }
}

function unreachable(name = 'pacs-01'): AgentCallError {
  return new AgentCallError(`agent ${name} at 127.0.0.1:7443 is unreachable: connect ECONNREFUSED — is rounds-agent running there?`, 'unreachable');
}

function unauthenticated(name = 'pacs-01'): AgentCallError {
  return new AgentCallError(`agent ${name} at 127.0.0.1:7443 refused the token — re-run \`rounds-agent init\` there`, 'unauthenticated');
}

describe('PollerService', () => {
  let db: Db;
  let clock: ManualClock;
  let agents: AgentsRepository;
  let checks: ChecksRepository;
  let results: ResultsRepository;
  let writer: ResultWriter;
  let pool: FakeAgentPool;
  let poller: PollerService;
  let logger: CapturingLogger;
  let agentId: string;

  const config: CollectorConfig = Object.freeze({
    ...readCollectorConfig({}),
    pollIntervalMs: INTERVAL,
    pollTimeoutMs: 500,
    downAfter: DOWN_AFTER,
    maxBackoffMs: MAX_BACKOFF,
  });

  /**
   * Lets in-flight polls finish. A poll awaits real database I/O, which the manual clock's
   * few microtask turns do not cover, so this waits on the event loop until the poller's
   * scheduler has no poll running (its reschedule happens in the same turn).
   */
  async function settle(): Promise<void> {
    const scheduler = (poller as unknown as { scheduler: Scheduler }).scheduler;
    await until('the polls in flight to finish', () => scheduler.active === 0);
    await writer.flush();
  }

  /** Advances the clock by `ms` and lets the polls that became due run to their end. */
  async function tick(ms: number): Promise<void> {
    await clock.advance(ms);
    await settle();
  }

  /** Advances in whole intervals so every poll starts exactly at its due time. */
  async function runFor(ms: number, step = INTERVAL): Promise<void> {
    for (let t = 0; t < ms; t += step) await tick(step);
  }

  /** Waits on the real event loop (not the manual clock) until `condition` holds. */
  async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (condition()) return;
      if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
  }

  async function agent(id = agentId) {
    const a = await agents.findById(id);
    assert.ok(a, `agent ${id} is gone`);
    return a;
  }

  async function newCheck(name: string, enabled = true): Promise<string> {
    const c = await checks.create({
      agentId,
      name,
      plugin: 'tcp',
      config: { host: '10.0.4.7', port: 104 },
      intervalMs: 30_000,
      timeoutMs: 5_000,
      enabled,
    });
    return c.id;
  }

  function result(checkId: string, seq: number, status: CheckResult['status'] = 0): CheckResult {
    return {
      seq,
      checkId,
      startedAtMs: T0 - 10_000 + seq * 100,
      durationMs: 7,
      status,
      reason: status === Status.STATUS_OK ? 'ok' : 'refused',
      summary: `run ${seq}`,
      metrics: [{ name: 'connect_seconds', value: 0.007, unit: 'seconds', labels: {} }],
    };
  }

  before(() => {
    logger = new CapturingLogger();
    Logger.overrideLogger(logger);
  });
  after(() => {
    Logger.overrideLogger(false);
  });

  /** The poller over the spec's repositories, writer and fake pool, with its own read model. */
  const newPoller = (observer?: PollObserver, cluster?: Cluster) =>
    new PollerService(
      agents,
      checks,
      pool as unknown as AgentClientPool,
      writer,
      new CurrentState(new StateRepository(db.dataSource), config, PluginRegistry.withBuiltins()),
      config,
      clock,
      observer,
      undefined,
      cluster,
    );

  beforeEach(async () => {
    logger.lines.length = 0;
    db = await openTestDatabase();
    clock = new ManualClock(T0);
    agents = new AgentsRepository(db.dataSource);
    checks = new ChecksRepository(db.dataSource);
    results = new ResultsRepository(db.dataSource);
    writer = new ResultWriter(db.dataSource, { coalesceMs: 0 });
    pool = new FakeAgentPool(clock);
    poller = newPoller();
    agentId = (await agents.create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't'.repeat(43), fingerprint: 'f'.repeat(64) }, T0)).id;
  });
  afterEach(async () => {
    await poller.onApplicationShutdown();
    await db.close();
  });

  describe('check assignment', () => {
    it('sends every enabled check on the first poll, and nothing on later polls until a check changes', async () => {
      const web = await newCheck('PACS web');
      const dicom = await newCheck('DICOM echo');
      const archive = await newCheck('archive share', false);
      const version = (await agent()).assignmentVersion;

      poller.pollSoon(agentId);
      await tick(0);

      assert.equal(pool.calls.length, 1);
      const first = pool.calls[0]!.request;
      assert.equal(first.hasChecks, true);
      assert.equal(first.assignmentVersion, version);
      assert.deepEqual(
        first.checks.map((c) => c.id),
        [dicom, web],
        'the enabled checks, by name; the disabled one is left out',
      );
      assert.deepEqual(first.checks[0], {
        id: dicom,
        plugin: 'tcp',
        configJson: JSON.stringify({ host: '10.0.4.7', port: 104 }),
        intervalMs: 30_000,
        timeoutMs: 5_000,
      });
      assert.equal(first.maxResults, config.pollBatch);
      assert.equal((await agent()).agentAssignmentVersion, version, 'the version the agent reported is kept');

      await tick(INTERVAL);
      assert.equal(pool.calls.length, 2);
      assert.equal(pool.calls[1]!.request.hasChecks, false);
      assert.deepEqual(pool.calls[1]!.request.checks, []);
      assert.equal(pool.calls[1]!.request.assignmentVersion, version);

      await checks.update(archive, { enabled: true });
      const bumped = (await agent()).assignmentVersion;
      assert.notEqual(bumped, version);

      await tick(INTERVAL);
      assert.equal(pool.calls.length, 3);
      const third = pool.calls[2]!.request;
      assert.equal(third.hasChecks, true);
      assert.equal(third.assignmentVersion, bumped);
      assert.deepEqual(
        third.checks.map((c) => c.id),
        [dicom, web, archive],
      );

      await tick(INTERVAL);
      assert.equal(pool.calls[3]!.request.hasChecks, false);
    });

    it('sends an empty check set when the agent has no checks, so the agent stops any it still runs', async () => {
      poller.pollSoon(agentId);
      await tick(0);

      assert.equal(pool.calls[0]!.request.hasChecks, true);
      assert.deepEqual(pool.calls[0]!.request.checks, []);
    });

    it('sends the check set again when the agent reports a version other than the one sent', async () => {
      await newCheck('PACS web');
      pool.script(agentId, { assignmentVersion: 'something-older' });

      poller.pollSoon(agentId);
      await tick(0);
      await tick(INTERVAL);

      assert.equal(pool.calls[1]!.request.hasChecks, true);
      assert.equal(pool.calls[1]!.request.checks.length, 1);
      await tick(INTERVAL);
      assert.equal(pool.calls[2]!.request.hasChecks, false, 'once applied, the set is not sent again');
    });
  });

  describe('results and acknowledgements', () => {
    it('stores the results and acknowledges the last seq with the same spool epoch on the next poll', async () => {
      const checkId = await newCheck('DICOM echo');
      pool.script(agentId, { spoolEpoch: 'e1', lastSeq: 3, results: [result(checkId, 1), result(checkId, 2), result(checkId, 3, 2)] });

      poller.pollSoon(agentId);
      await tick(0);

      assert.equal(pool.calls[0]!.request.ackSeq, 0, 'nothing is acknowledged on first contact');
      assert.equal(pool.calls[0]!.request.spoolEpoch, '');
      const stored = await results.recent(checkId, 10);
      assert.deepEqual(
        stored.map((r) => [r.seq, r.status, r.summary, r.agentId]),
        [
          [3, 2, 'run 3', agentId],
          [2, 0, 'run 2', agentId],
          [1, 0, 'run 1', agentId],
        ],
      );
      const [state] = await results.stateFor([checkId]);
      assert.equal(state?.status, 2);
      assert.equal(state?.reason, 'refused');
      assert.equal(state?.lastSeq, 3);
      const a = await agent();
      assert.equal(a.ackSeq, 3);
      assert.equal(a.spoolEpoch, 'e1');
      assert.equal(a.state, 'UP');
      assert.equal(a.lastSeenAt, T0);
      assert.equal(poller.stats.resultsReceived, 3);

      await tick(INTERVAL);

      assert.equal(pool.calls.length, 2);
      assert.equal(pool.calls[1]!.request.ackSeq, 3);
      assert.equal(pool.calls[1]!.request.spoolEpoch, 'e1');
    });

    it('a poll in flight when the collector stops (Nest: onModuleDestroy, then beforeApplicationShutdown) is stored, not refused by a closed writer', async () => {
      const checkId = await newCheck('DICOM echo');
      pool.script(agentId, { spoolEpoch: 'e1', lastSeq: 2, results: [result(checkId, 1), result(checkId, 2)] });
      let stopping: Promise<void> | undefined;
      // The shutdown hooks begin while the agent is still answering, in the order Nest runs them.
      pool.meanwhile = async () => {
        stopping = poller.onModuleDestroy().then(() => writer.beforeApplicationShutdown());
      };
      poller.pollSoon(agentId);
      await tick(0);
      await until('the shutdown to start', () => stopping !== undefined);
      await stopping;

      assert.deepEqual(
        logger.lines.filter((l) => l.level === 'error').map((l) => l.message),
        [],
      );
      assert.deepEqual(
        (await results.recent(checkId, 10)).map((r) => r.seq),
        [2, 1],
      );
      assert.equal((await agent()).ackSeq, 2);
      await tick(INTERVAL);
      assert.equal(pool.calls.length, 1, 'no poll after the stop');
    });

    it('keeps the ack when a poll brings no new results in the same spool epoch', async () => {
      const checkId = await newCheck('DICOM echo');
      pool.script(agentId, { spoolEpoch: 'e1', results: [result(checkId, 1), result(checkId, 2)] }, { spoolEpoch: 'e1' });

      poller.pollSoon(agentId);
      await tick(0);
      await tick(INTERVAL);
      await tick(INTERVAL);

      assert.equal(pool.calls[2]!.request.ackSeq, 2);
      assert.equal(pool.calls[2]!.request.spoolEpoch, 'e1');
      assert.equal((await results.recent(checkId, 10)).length, 2);
    });

    it('polls again at once when the response says more results are waiting, then returns to the interval', async () => {
      const checkId = await newCheck('DICOM echo');
      pool.script(
        agentId,
        { spoolEpoch: 'e1', more: true, results: [result(checkId, 1), result(checkId, 2)] },
        { spoolEpoch: 'e1', results: [result(checkId, 3)] },
      );

      poller.pollSoon(agentId);
      await tick(0);
      assert.equal(pool.calls.length, 1);

      await tick(0);
      assert.equal(pool.calls.length, 2, 'the follow-up poll is due immediately');
      assert.equal(pool.calls[1]!.at, pool.calls[0]!.at);
      assert.equal(pool.calls[1]!.request.ackSeq, 2, 'the follow-up acknowledges the first batch');

      await tick(INTERVAL - 1);
      assert.equal(pool.calls.length, 2, 'without more, the next poll waits for the interval');
      await tick(1);
      assert.equal(pool.calls.length, 3);
      assert.equal(pool.calls[2]!.request.ackSeq, 3);
      assert.equal((await results.recent(checkId, 10)).length, 3);
    });

    it('resets the ack when the agent answers with a new spool epoch, and sends the new epoch next time', async () => {
      const checkId = await newCheck('DICOM echo');
      pool.script(
        agentId,
        { spoolEpoch: 'e1', results: [1, 2, 3, 4, 5].map((seq) => result(checkId, seq)) },
        // The agent started over with a new spool (new epoch): its seqs start over.
        { spoolEpoch: 'e2', results: [result(checkId, 1, 2), result(checkId, 2, 2)].map((r) => ({ ...r, startedAtMs: T0 + r.seq })) },
        // And once more, this time with nothing measured yet.
        { spoolEpoch: 'e3' },
      );

      poller.pollSoon(agentId);
      await tick(0);
      await tick(INTERVAL);

      assert.equal(pool.calls[1]!.request.ackSeq, 5);
      assert.equal(pool.calls[1]!.request.spoolEpoch, 'e1');
      const stored = await results.recent(checkId, 10);
      assert.equal(stored.length, 7, 'seqs 1 and 2 of the new epoch are new results, not duplicates of the old ones');
      assert.deepEqual(
        stored.slice(0, 2).map((r) => [r.seq, r.status]),
        [
          [2, 2],
          [1, 2],
        ],
      );
      assert.equal((await agent()).ackSeq, 2);
      assert.equal((await agent()).spoolEpoch, 'e2');

      await tick(INTERVAL);
      assert.equal(pool.calls[2]!.request.ackSeq, 2);
      assert.equal(pool.calls[2]!.request.spoolEpoch, 'e2');

      await tick(INTERVAL);
      assert.equal(pool.calls[3]!.request.ackSeq, 0, 'an empty new spool has nothing acknowledged');
      assert.equal(pool.calls[3]!.request.spoolEpoch, 'e3');
    });

    it('gives a check the agent refused an UNKNOWN/config_error state naming the agent and why', async () => {
      const good = await newCheck('DICOM echo');
      const refused = await newCheck('PACS web');
      pool.script(agentId, {
        spoolEpoch: 'e1',
        results: [result(good, 1)],
        rejected: [{ checkId: refused, error: 'no plugin "telnet" on this agent' }],
      });

      poller.pollSoon(agentId);
      await tick(0);

      const states = new Map((await results.stateFor([good, refused])).map((s) => [s.checkId, s]));
      assert.equal(states.get(refused)?.status, 3);
      assert.equal(states.get(refused)?.reason, 'config_error');
      assert.equal(states.get(refused)?.summary, 'refused by agent pacs-01: no plugin "telnet" on this agent');
      assert.equal(states.get(refused)?.lastResultAt, T0);
      assert.equal(states.get(good)?.status, 0, 'the other checks were applied and report normally');
      assert.equal((await agent()).ackSeq, 1, 'a refusal is not a spooled result and does not move the ack');
    });

    it('stores a result over the limits cut to them, says so in its summary, counts each field and warns once per check', async () => {
      const checkId = await newCheck('hostile');
      const truncated: string[][] = [];
      const observer = { pollFinished: () => {}, pollLate: () => {}, resultTruncated: (fields: readonly string[]) => void truncated.push([...fields]) };
      await poller.onApplicationShutdown();
      writer = new ResultWriter(db.dataSource, { coalesceMs: 0 });
      poller = newPoller(observer);
      const huge = (seq: number): CheckResult => ({
        ...result(checkId, seq),
        summary: 'z'.repeat(2_000_000),
        metrics: Array.from({ length: 20_000 }, (_, i) => ({ name: `m_${i}`, value: i, unit: 'count', labels: { label: 'v'.repeat(i === 0 ? 300 : 1) } })),
      });
      pool.script(agentId, { spoolEpoch: 'e1', results: [huge(1), huge(2), result(checkId, 3)] });

      poller.pollSoon(agentId);
      await tick(0);

      const stored = await results.recent(checkId, 10);
      assert.deepEqual(
        stored.map((r) => r.seq),
        [3, 2, 1],
      );
      const cut = stored.find((r) => r.seq === 2)!;
      const note =
        '… [truncated: 2,000,000 characters, limit 4096] [19,743 of 20,000 metrics dropped: limit 256 per result; ' +
        '1 metrics dropped: name over 128, unit over 32, over 16 labels, label name over 64 or value over 256 characters]';
      assert.equal(cut.summary, 'z'.repeat(4096 - note.length) + note);
      const metrics = JSON.parse(cut.metricsJson) as { name: string }[];
      assert.equal(metrics.length, 256);
      assert.equal(metrics[0]!.name, 'm_1');
      assert.ok(cut.metricsJson.length < 20_000, `${cut.metricsJson.length} characters of metrics stored`);
      assert.equal(stored.find((r) => r.seq === 3)!.summary, 'run 3', 'a result within the limits is stored as it came');
      assert.deepEqual(truncated, [
        ['summary', 'metrics', 'label_value'],
        ['summary', 'metrics', 'label_value'],
      ]);
      assert.deepEqual(logger.warnings('over the result limits'), [
        `agent pacs-01 sent results of check ${checkId} over the result limits (summary, metrics, label_value): they are stored cut to the limits — ` +
          'update rounds-agent there, whose runner keeps to them (README: Limits)',
      ]);
      assert.equal((await agent()).ackSeq, 3);
    });

    it('describes the agent after its first successful poll and not on every poll', async () => {
      poller.pollSoon(agentId);
      await tick(0);
      await tick(INTERVAL);
      await tick(INTERVAL);

      assert.deepEqual(pool.describes, [agentId]);
      const description = JSON.parse((await agent()).descriptionJson ?? 'null') as AgentDescription | null;
      assert.equal(description?.hostname, 'pacs-01');
    });
  });

  describe('agent state', () => {
    it('leaves a new agent UNKNOWN through its first failures and makes it DOWN at ROUNDS_DOWN_AFTER, with the error as lastError', async () => {
      pool.script(agentId, unreachable(), unauthenticated(), unreachable());

      poller.pollSoon(agentId);
      await tick(0);
      let a = await agent();
      assert.equal(a.state, 'UNKNOWN');
      assert.equal(a.consecutiveFailures, 1);
      assert.equal(a.lastError, unreachable().message);

      await tick(INTERVAL);
      a = await agent();
      assert.equal(a.state, 'UNKNOWN');
      assert.equal(a.lastError, unauthenticated().message, 'lastError is the latest failure');

      await tick(INTERVAL);
      a = await agent();
      assert.equal(a.state, 'DOWN');
      assert.equal(a.consecutiveFailures, DOWN_AFTER);
      assert.equal(a.lastError, unreachable().message);
      assert.equal(a.lastSeenAt, null, 'an agent that never answered was never seen');
    });

    it('keeps an UP agent UP through fewer than ROUNDS_DOWN_AFTER failures, then makes it DOWN and says so once', async () => {
      pool.script(agentId, {}, unreachable(), unreachable());

      poller.pollSoon(agentId);
      await tick(0);
      assert.equal((await agent()).state, 'UP');

      await tick(INTERVAL);
      await tick(INTERVAL);
      let a = await agent();
      assert.equal(a.state, 'UP');
      assert.equal(a.consecutiveFailures, 2);
      assert.equal(a.lastError, unreachable().message);
      assert.equal(a.lastSeenAt, T0, 'last seen stays at the last answer');
      assert.deepEqual(logger.warnings('is DOWN'), []);

      pool.failAlways(agentId, unreachable());
      await runFor(3 * INTERVAL);
      a = await agent();
      assert.equal(a.state, 'DOWN');
      assert.equal(a.lastError, unreachable().message);
      assert.deepEqual(logger.warnings('is DOWN'), [`agent pacs-01 is DOWN: ${unreachable().message}`]);
    });

    it('polls a DOWN agent at doubling intervals up to ROUNDS_MAX_BACKOFF_MS', async () => {
      pool.failAlways(agentId, unreachable());

      poller.pollSoon(agentId);
      await tick(0);
      await runFor(40 * INTERVAL);

      const gaps = pool.calls.slice(1).map((c, i) => c.at - pool.calls[i]!.at);
      // Three failures at the normal interval make it DOWN; each failure after that doubles the wait.
      assert.deepEqual(gaps, [INTERVAL, INTERVAL, INTERVAL, 2 * INTERVAL, 4 * INTERVAL, MAX_BACKOFF, MAX_BACKOFF, MAX_BACKOFF]);
      assert.equal(pool.calls[0]!.at, T0);
      assert.equal((await agent()).state, 'DOWN');
    });

    it('makes a DOWN agent UP on its next successful poll, clears lastError and returns to the normal interval', async () => {
      pool.failAlways(agentId, unreachable());
      poller.pollSoon(agentId);
      await tick(0);
      await runFor(3 * INTERVAL);
      assert.equal((await agent()).state, 'DOWN');
      assert.equal(pool.calls.length, 4);
      const lastFailureAt = pool.calls[3]!.at;

      pool.recover(agentId);
      await runFor(2 * INTERVAL);

      assert.equal(pool.calls.length, 5);
      assert.equal(pool.calls[4]!.at, lastFailureAt + 2 * INTERVAL, 'the recovering poll came at the backed-off time');
      const a = await agent();
      assert.equal(a.state, 'UP');
      assert.equal(a.lastError, null);
      assert.equal(a.consecutiveFailures, 0);
      assert.equal(a.lastSeenAt, pool.calls[4]!.at);

      await tick(INTERVAL);
      assert.equal(pool.calls.length, 6);
      assert.equal(pool.calls[5]!.at - pool.calls[4]!.at, INTERVAL);
    });

    it('asks again with the stored token when a rotation retired the one the poll read a moment before — and only then', async () => {
      const before = (await agent()).token;
      // The rotation commits while the poll's call is under way; the agent refuses the token the poll read.
      pool.meanwhile = async () => void (await agents.update(agentId, { token: 'rotated-token' }));
      pool.script(agentId, unauthenticated());
      poller.pollSoon(agentId);
      await tick(0);
      assert.deepEqual(
        pool.calls.map((c) => c.token),
        [before, 'rotated-token'],
      );
      const a = await agent();
      assert.deepEqual([a.state, a.lastError, a.consecutiveFailures], ['UP', null, 0]);

      // A refused token that is still the stored one is a failure, not retried.
      pool.script(agentId, unauthenticated());
      await tick(INTERVAL);
      assert.equal(pool.calls.length, 3);
      assert.equal((await agent()).lastError, unauthenticated().message);
    });

    it('counts failed polls by error code in stats.pollErrors', async () => {
      pool.script(agentId, unreachable(), unauthenticated(), unreachable(), new Error('response is not a CollectResponse'), {});

      poller.pollSoon(agentId);
      await tick(0);
      // The fourth failure comes after DOWN, so the fifth poll waits twice the interval.
      await runFor(5 * INTERVAL);

      assert.equal(poller.stats.polls, 5);
      assert.deepEqual(poller.stats.pollErrors, { unreachable: 2, unauthenticated: 1, protocol: 1 });
      assert.equal(pool.calls.length, 5);
    });

    it('names the agent in lastError when the call fails with an unexpected error', async () => {
      pool.script(agentId, new Error('response is not a CollectResponse'));

      poller.pollSoon(agentId);
      await tick(0);

      assert.equal((await agent()).lastError, 'agent pacs-01: response is not a CollectResponse');
    });
  });

  describe('syncAgents', () => {
    it('starts polling agents added to the database later and drops removed ones from the pool', async () => {
      await poller.onApplicationBootstrap();
      // First polls are spread over at most min(interval, 2 s).
      await runFor(INTERVAL);
      assert.equal(pool.callsFor(agentId).length, 1);

      const later = (await agents.create({ name: 'nas-02', host: '127.0.0.2', port: 7443, token: 'u'.repeat(43), fingerprint: 'e'.repeat(64) }, T0)).id;
      await runFor(INTERVAL);
      assert.equal(pool.callsFor(later).length, 0, 'not before the next sync');
      await agents.delete(agentId);
      const callsBeforeDelete = pool.callsFor(agentId).length;

      // The sync runs every 5 s; the first one ran at bootstrap.
      await runFor(3 * INTERVAL);
      await until('the removed agent to be dropped from the pool', () => pool.dropped.includes(agentId));
      await runFor(2 * INTERVAL);

      assert.ok(pool.callsFor(later).length >= 1, 'the new agent is polled');
      assert.equal(pool.callsFor(later)[0]!.request.hasChecks, true);
      assert.deepEqual(pool.dropped, [agentId]);
      assert.equal(pool.callsFor(agentId).length, callsBeforeDelete, 'the removed agent is not polled again');
    });

    it('closes the pool and stops polling on shutdown', async () => {
      poller.pollSoon(agentId);
      await tick(0);
      await poller.onApplicationShutdown();
      await runFor(3 * INTERVAL);

      assert.equal(pool.calls.length, 1);
      assert.equal(pool.closedAll, true);
    });
  });

  describe('leases (several collectors)', () => {
    /** A cluster whose leases the spec hands out and takes away. */
    class FakeCluster implements Cluster {
      readonly collectorId = 'collector-a';
      readonly shared = true;
      readonly held = new Map<string, number>();
      private readonly listeners: (() => void)[] = [];
      isLeader = () => true;
      onLeaderChange(): void {}
      leaseOf(agentId: string): number | null {
        return this.held.get(agentId) ?? null;
      }
      onLeasesChange(listener: () => void): void {
        this.listeners.push(listener);
      }
      changed(): void {
        for (const listener of this.listeners) listener();
      }
    }

    /** The spec's poller replaced by one that asks `cluster` (the old one closed the writer on its way out). */
    async function withCluster(cluster: Cluster): Promise<PollerService> {
      await poller.onApplicationShutdown();
      writer = new ResultWriter(db.dataSource, { coalesceMs: 0 });
      return newPoller(undefined, cluster);
    }

    /** Gives `cluster` the agent's lease, in its memory and (what the writer checks on PostgreSQL) in the leases table. */
    async function hold(cluster: FakeCluster, id: string, epoch: number): Promise<void> {
      cluster.held.set(id, epoch);
      await db.query('DELETE FROM leases WHERE name = ?', [`agent:${id}`]);
      await db.query('INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?, ?, ?, ?)', [`agent:${id}`, cluster.collectorId, epoch, T0 + 600_000]);
    }

    it('polls only the agents it holds: one it loses is no longer polled and its client is dropped, one it gains is polled at once', async () => {
      const cluster = new FakeCluster();
      poller = await withCluster(cluster);
      const other = (await agents.create({ name: 'nas-02', host: '127.0.0.2', port: 7443, token: 'u'.repeat(43), fingerprint: 'e'.repeat(64) }, T0)).id;
      await hold(cluster, agentId, 1);
      await poller.onApplicationBootstrap();
      await runFor(2 * INTERVAL);
      assert.ok(pool.callsFor(agentId).length >= 1);
      assert.equal(pool.callsFor(other).length, 0, 'held by another collector');

      cluster.held.delete(agentId);
      await hold(cluster, other, 3);
      cluster.changed();
      const callsBefore = pool.callsFor(agentId).length;
      await runFor(40, 10);
      assert.ok(pool.callsFor(other).length >= 1, 'gained: polled at once (one agent: within 20 ms), not at the next sync nor spread over 2 s');
      assert.deepEqual(pool.dropped, [agentId]);
      await runFor(3 * INTERVAL);
      assert.equal(pool.callsFor(agentId).length, callsBefore, 'lost: not polled again');
      assert.ok(pool.callsFor(other).length >= 3);
    });

    it(
      'a poll whose lease changed hands meanwhile stores nothing, unschedules the agent and does not count as its failure',
      { skip: postgresOnly('leases are kept on PostgreSQL only') },
      async () => {
        const cluster = new FakeCluster();
        poller = await withCluster(cluster);
        const checkId = await newCheck('DICOM echo');
        cluster.held.set(agentId, 1);
        // Collector b took the agent over at epoch 2 before collector a's poll commits.
        await db.query('INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?, ?, ?, ?)', [`agent:${agentId}`, 'collector-b', 2, T0 + 60_000]);
        pool.script(agentId, { results: [result(checkId, 1)] });
        poller.pollSoon(agentId);
        await tick(0);
        await runFor(3 * INTERVAL);

        assert.equal(pool.callsFor(agentId).length, 1, 'unscheduled after the refusal');
        assert.deepEqual(await results.recent(checkId, 10), []);
        const stored = await agent();
        assert.equal(stored.ackSeq, 0);
        assert.equal(stored.consecutiveFailures, 0);
        assert.equal(poller.stats.pollErrors['storage'], undefined);
        assert.ok(logger.lines.some((l) => l.message.includes(`stopped polling agent pacs-01: the lease on agent ${agentId} was lost`)));
        assert.deepEqual(pool.dropped, [agentId]);
      },
    );

    it("a call that fails because the lease moved meanwhile (its channel closed under it) is not the agent's failure and is not logged as one", async () => {
      const cluster = new FakeCluster();
      poller = await withCluster(cluster);
      await hold(cluster, agentId, 1);
      // While the agent is being asked, its lease goes to another collector: the pool drops its channel, the call fails.
      pool.meanwhile = async () => {
        cluster.held.delete(agentId);
        cluster.changed();
      };
      pool.script(agentId, new AgentCallError('agent pacs-01 at 127.0.0.1:7443 is unreachable: Channel closed before call started', 'unreachable'));
      await poller.onApplicationBootstrap();
      await runFor(2 * INTERVAL);
      await until('the channel to be dropped', () => pool.dropped.includes(agentId));

      assert.equal(pool.callsFor(agentId).length, 1);
      const stored = await agent();
      assert.deepEqual([stored.consecutiveFailures, stored.lastError, stored.state], [0, null, 'UNKNOWN']);
      assert.deepEqual(logger.warnings('poll failed'), []);
    });
  });
});
