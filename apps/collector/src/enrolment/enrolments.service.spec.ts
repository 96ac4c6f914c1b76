import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { makeNonce, makeSiteKey, sha256, systemClock } from '#rounds/common';
import { EnrolState, type ClaimRequest } from '#rounds/common/wire';
import { freePort, startAgent, type AgentHandle } from '../../../../test/e2e/harness.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { readCollectorConfig } from '../config/env.js';
import { AgentCallError, AgentClientPool, type EnrolTarget } from '../inventory/agent-client.pool.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { DependenciesService } from '../inventory/dependencies.service.js';
import { AgentsService } from '../inventory/agents.service.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { openTestDatabase } from '../storage/testing.js';
import { parseEnrolCsv, type EnrolLine } from './enrolment.dto.js';
import { EnrolmentsRepository } from './enrolments.repository.js';
import { EnrolmentsService, type EnrolmentView } from './enrolments.service.js';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

/** A claim whose answer is lost on the way back (the agent took it): what a cut connection or a restart mid-claim leaves. */
class LosingPool extends AgentClientPool {
  loseNextClaimAnswer = false;

  override async claim(target: EnrolTarget & { fingerprint: string }, request: ClaimRequest, timeoutMs: number): Promise<void> {
    await super.claim(target, request, timeoutMs);
    if (this.loseNextClaimAnswer) {
      this.loseNextClaimAnswer = false;
      throw new AgentCallError(`agent ${target.name} at ${target.host}:${target.port} did not answer within ${timeoutMs} ms`, 'timeout');
    }
  }
}

function lines(csv: string): EnrolLine[] {
  const parsed = parseEnrolCsv(csv);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.lines;
}

const fileOf = (a: AgentHandle) => parseYaml(readFileSync(a.configPath, 'utf8')) as { id: string; tokenSha256?: string; siteKeyVerifier?: string };
const byName = (rows: EnrolmentView[]) => Object.fromEntries(rows.map((r) => [r.name, r]));

/**
 * Site-key enrolment on the collector against real agents (rounds-agent processes): agents
 * installed with the site key, one installed with another key, one enrolled with its enrolment
 * string, and an address where nothing listens.
 */
describe('EnrolmentsService: enrolling many agents with the site key', { timeout: 180_000 }, () => {
  const SITE_KEY = makeSiteKey();
  const OTHER_KEY = makeSiteKey();
  let db: Db;
  let pool: LosingPool;
  let service: EnrolmentsService;
  let agentsRepo: AgentsRepository;
  let good: AgentHandle;
  let second: AgentHandle;
  let wrongKey: AgentHandle;
  let enrolled: AgentHandle;
  let dead: number;

  /** Rounds until nothing is due: every line contacted or claimed. */
  const settle = async () => {
    while ((await service.runDue()) > 0);
  };

  before(async () => {
    db = await openTestDatabase();
    const config = readCollectorConfig({ ROUNDS_DATA_DIR: db.dataDir, ROUNDS_POLL_TIMEOUT_MS: '5000' });
    pool = new LosingPool();
    agentsRepo = new AgentsRepository(db.dataSource);
    // One line at a time: which of two lines naming one agent is reported is then always the later one.
    service = new EnrolmentsService(
      new EnrolmentsRepository(db.dataSource),
      agentsRepo,
      new AgentsService(agentsRepo, pool, new DependenciesService(new ChecksRepository(db.dataSource), agentsRepo), config),
      pool,
      config,
      systemClock,
      {
        concurrency: 1,
      },
    );
    // Each kept as it starts, and all waited for, so that after() stops those that started when another did not.
    const started = await Promise.allSettled([
      startAgent('site-good', { initArgs: ['--site-key', SITE_KEY] }).then((a) => (good = a)),
      startAgent('site-second', { initArgs: ['--site-key', SITE_KEY] }).then((a) => (second = a)),
      startAgent('site-wrong', { initArgs: ['--site-key', OTHER_KEY] }).then((a) => (wrongKey = a)),
      startAgent('by-string').then((a) => (enrolled = a)),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    dead = await freePort();
  });

  after(async () => {
    pool.closeAll();
    await Promise.all([good, second, wrongKey, enrolled].map((a) => a?.proc.stop()));
    await db?.close();
  });

  it('refuses a list while there is no site key, saying how to make one', async () => {
    await assert.rejects(service.submit(lines(`pacs-01,127.0.0.1:${good.port}`), SPEC_AUDIT), (e: ConflictError) => {
      assert.match(e.message, /^there is no site key yet: make one \(Agents → Enrol many agents, or POST \/api\/v1\/site-key\)/);
      return true;
    });
    assert.deepEqual(await service.siteKeyStatus(), { set: false, createdAt: null, createdBy: null });
  });

  it('keeps the site key sealed, says only since when and by whom, and audits every change of it', async () => {
    const made = await service.makeSiteKey(SPEC_AUDIT);
    assert.match(made.key, /^[A-Za-z0-9_-]{43}$/);
    const stored = await db.dataSource.query<{ key: string }[]>('SELECT key FROM site_keys');
    assert.equal(stored.length, 1);
    assert.match(stored[0]!.key, /^enc:v1:/, 'sealed like the other secrets');
    assert.ok(!stored[0]!.key.includes(made.key));
    await service.removeSiteKey(SPEC_AUDIT);
    await assert.rejects(service.removeSiteKey(SPEC_AUDIT), NotFoundError);
    const status = await service.setSiteKey(SITE_KEY, SPEC_AUDIT);
    assert.deepEqual({ ...status, createdAt: typeof status.createdAt }, { set: true, createdAt: 'number', createdBy: 'spec' });
    const audit = await db.dataSource.query<{ action: string; after_json: string | null }[]>(
      "SELECT action, after_json FROM audit_log WHERE action LIKE 'site-key.%' ORDER BY id",
    );
    assert.deepEqual(
      audit.map((a) => a.action),
      ['site-key.create', 'site-key.remove', 'site-key.set'],
    );
    assert.ok(!JSON.stringify(audit).includes(SITE_KEY) && !JSON.stringify(audit).includes(made.key), 'a site key in the audit log');
  });

  it('contacts each line: an agent with the site key waits for approval with its id, fingerprint and host; the others are reported on their line, naming the agent', async () => {
    const csv = [
      'name,address,tags',
      `pacs-01,127.0.0.1:${good.port},site=north;department=radiology`,
      `pacs-dead,127.0.0.1:${dead}`,
      `pacs-wrong,127.0.0.1:${wrongKey.port}`,
      `pacs-string,127.0.0.1:${enrolled.port}`,
      `pacs-01-again,localhost:${good.port}`,
      `pacs-01,127.0.0.1:${second.port}`,
    ].join('\n');
    const { batch, enrolments } = await service.submit(lines(csv), SPEC_AUDIT);
    assert.deepEqual(
      enrolments.map((e) => [e.line, e.name, e.state]),
      [
        [2, 'pacs-01', 'contacting'],
        [3, 'pacs-dead', 'contacting'],
        [4, 'pacs-wrong', 'contacting'],
        [5, 'pacs-string', 'contacting'],
        [6, 'pacs-01-again', 'contacting'],
        [7, 'pacs-01', 'failed'],
      ],
    );
    assert.equal(enrolments[5]!.error, 'line 2 names pacs-01 already — pick another name', 'a duplicate name fails at once');
    await settle();

    const rows = byName((await service.list({ batch })).filter((r) => r.line !== 7));
    const goodId = fileOf(good).id;
    assert.equal(rows['pacs-01']!.state, 'pending');
    assert.deepEqual(rows['pacs-01']!.agent, {
      id: goodId,
      hostname: rows['pacs-01']!.agent?.hostname ?? null,
      version: rows['pacs-01']!.agent?.version ?? null,
    });
    assert.ok(rows['pacs-01']!.agent?.hostname, 'its host name is shown for approval');
    assert.match(rows['pacs-01']!.fingerprint ?? '', /^[0-9a-f]{64}$/);
    assert.match(good.proc.output, new RegExp(`certificate sha256 ${rows['pacs-01']!.fingerprint}`), 'the fingerprint the agent itself prints');
    assert.deepEqual(rows['pacs-01']!.tags, { department: 'radiology', site: 'north' });

    assert.equal(rows['pacs-dead']!.state, 'failed');
    assert.match(
      rows['pacs-dead']!.error ?? '',
      new RegExp(
        `^agent pacs-dead at 127\\.0\\.0\\.1:${dead}: refused the connection — .* — not enrolled: check the address and that the agent runs, then submit the line again$`,
      ),
    );
    assert.equal(rows['pacs-wrong']!.state, 'failed');
    assert.equal(
      rows['pacs-wrong']!.error,
      `agent ${fileOf(wrongKey).id.slice(0, 8)}… at 127.0.0.1:${wrongKey.port} was installed with another site key than this collector’s — ` +
        'run `rounds-agent init --force --site-key-file …` on it with this collector’s site key, then submit the line again',
    );
    assert.equal(rows['pacs-string']!.state, 'failed');
    assert.match(
      rows['pacs-string']!.error ?? '',
      new RegExp(
        `^agent ${fileOf(enrolled).id.slice(0, 8)}… at 127\\.0\\.0\\.1:${enrolled.port} is enrolled already \\(claimed by a collector, or set up with an enrolment string\\)`,
      ),
    );
    assert.equal(rows['pacs-01-again']!.state, 'failed');
    assert.equal(rows['pacs-01-again']!.error, `agent ${goodId.slice(0, 8)}… is already listed as pacs-01 (line 2)`);
    assert.equal((await agentsRepo.findAll()).length, 0, 'nothing registered before approval');
    assert.equal(fileOf(good).tokenSha256, undefined, 'nothing claimed before approval');
  });

  it('approved, the agent is claimed and registered with its pinned certificate in one step; its token opens it and the site key is refused from then on', async () => {
    const waiting = (await service.list({ state: 'pending' })).find((r) => r.name === 'pacs-01')!;
    const approved = await service.approve([waiting.id], { ...SPEC_AUDIT, actor: 'radiology-it' });
    assert.deepEqual(
      approved.map((r) => [r.name, r.state, r.approvedBy]),
      [['pacs-01', 'approved', 'radiology-it']],
    );
    await settle();

    const row = await service.get(waiting.id);
    assert.equal(row.state, 'enrolled', row.error ?? '');
    const agent = (await agentsRepo.findByName('pacs-01'))!;
    assert.equal(row.enrolledAs, agent.id);
    assert.deepEqual(
      [agent.host, agent.port, agent.fingerprint, agent.tagsJson],
      ['127.0.0.1', good.port, waiting.fingerprint, '{"department":"radiology","site":"north"}'],
    );
    assert.equal(fileOf(good).tokenSha256, sha256(agent.token).toString('hex'), "the agent's file holds the hash of the token the collector keeps");
    assert.equal(fileOf(good).siteKeyVerifier, undefined);
    assert.equal((JSON.parse(agent.descriptionJson ?? '{}') as { agentId?: string }).agentId, fileOf(good).id, 'described with its new token');
    const raw = await db.query<{ token: string | null }>('SELECT token FROM enrolments WHERE id = ?', [waiting.id]);
    assert.equal(raw[0]!.token, null, 'the claim token left the row with the registration');

    const target = { id: 'spec-after', name: 'pacs-01', host: '127.0.0.1', port: good.port, fingerprint: agent.fingerprint };
    const { answer } = await pool.enrolChallenge(target, makeNonce(), 5000);
    pool.drop(target.id);
    assert.equal(answer.state, EnrolState.ENROL_STATE_ENROLLED);
    assert.equal(answer.nonce, '');

    const audit = await db.dataSource.query<{ actor: string; action: string; target_name: string; after_json: string }[]>(
      "SELECT actor, action, target_name, after_json FROM audit_log WHERE action IN ('enrolment.submit', 'enrolment.approve', 'agent.enrol') ORDER BY id",
    );
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor]),
      [
        ['enrolment.submit', 'spec'],
        ['enrolment.approve', 'radiology-it'],
        ['agent.enrol', 'radiology-it'],
      ],
    );
    assert.deepEqual(JSON.parse(audit[1]!.after_json), [
      { name: 'pacs-01', address: `127.0.0.1:${good.port}`, agentId: fileOf(good).id, fingerprint: waiting.fingerprint },
    ]);
    assert.equal((JSON.parse(audit[2]!.after_json) as { enrolment: { via: string } }).enrolment.via, 'site key');
    assert.ok(!JSON.stringify(audit).includes(agent.token), 'a token in the audit log');
  });

  it('a line naming an agent already enrolled here says which, and a name that is taken fails at once', async () => {
    const { batch, enrolments } = await service.submit(
      lines(`pacs-09,localhost:${good.port}\npacs-01,127.0.0.1:${second.port}\nward-9,127.0.0.1:${second.port}\nward-10,127.0.0.1:${second.port}`),
      SPEC_AUDIT,
    );
    assert.deepEqual(
      enrolments.map((e) => [e.name, e.state, e.error]),
      [
        ['pacs-09', 'contacting', null],
        ['pacs-01', 'failed', `the name pacs-01 is taken by agent pacs-01 (127.0.0.1:${good.port}) — pick another name`],
        ['ward-9', 'contacting', null],
        ['ward-10', 'failed', `line 3 lists 127.0.0.1:${second.port} already`],
      ],
    );
    await settle();
    const rows = byName(await service.list({ batch }));
    assert.equal(rows['pacs-09']!.error, `agent ${fileOf(good).id.slice(0, 8)}… is already enrolled as pacs-01`);
    assert.equal(rows['ward-9']!.state, 'pending');
    const again = await service.submit(lines(`ward-9,127.0.0.1:${dead}`), SPEC_AUDIT);
    assert.equal(
      again.enrolments[0]!.error,
      'the name ward-9 is already waiting for enrolment (line 3 of an earlier list) — pick another name, or dismiss that line',
    );
  });

  it('approves all of a selection or nothing: a line that does not wait is named, and unknown ids are refused', async () => {
    const waiting = (await service.list({ state: 'pending' })).find((r) => r.name === 'ward-9')!;
    const failed = (await service.list({ state: 'failed' })).find((r) => r.name === 'pacs-dead')!;
    await assert.rejects(service.approve([waiting.id, failed.id], SPEC_AUDIT), (e: ConflictError) => {
      assert.equal(e.field, 'ids');
      assert.equal(e.message, 'nothing approved: pacs-dead (line 3) is failed — only lines waiting for approval (pending) can be approved');
      return true;
    });
    await assert.rejects(service.approve(['no-such-id'], SPEC_AUDIT), { message: 'no enrolment with id "no-such-id" — list them with GET /api/v1/enrolments' });
    assert.equal((await service.get(waiting.id)).state, 'pending');
  });

  it('a claim whose answer was lost is found to have landed by its token, and the agent registered — not claimed twice, not lost', async () => {
    const waiting = (await service.list({ state: 'pending' })).find((r) => r.name === 'ward-9')!;
    pool.loseNextClaimAnswer = true;
    await service.approve([waiting.id], SPEC_AUDIT);
    await settle();
    const row = await service.get(waiting.id);
    assert.equal(row.state, 'enrolled', row.error ?? '');
    const agent = (await agentsRepo.findByName('ward-9'))!;
    assert.equal(fileOf(second).tokenSha256, sha256(agent.token).toString('hex'));
  });

  it('an agent approved under one site key is not claimed after the key changed: its proof does not hold any more', async () => {
    await service.setSiteKey(OTHER_KEY, SPEC_AUDIT);
    const { batch } = await service.submit(lines(`ct-ward,127.0.0.1:${wrongKey.port}`), SPEC_AUDIT);
    await settle();
    const [waiting] = await service.list({ batch });
    assert.equal(waiting!.state, 'pending', waiting!.error ?? '');
    await service.setSiteKey(SITE_KEY, SPEC_AUDIT);
    await service.approve([waiting!.id], SPEC_AUDIT);
    await settle();
    const row = await service.get(waiting!.id);
    assert.equal(row.state, 'failed');
    assert.match(row.error ?? '', /was installed with another site key than this collector’s/);
    assert.equal(fileOf(wrongKey).tokenSha256, undefined, 'not claimed');
    assert.equal(await agentsRepo.findByName('ct-ward'), null, 'not registered');
  });

  it('dismisses a line that is not being worked on, audited; an unknown one is a 404', async () => {
    const failed = (await service.list({ state: 'failed' })).find((r) => r.name === 'pacs-dead')!;
    await service.dismiss(failed.id, SPEC_AUDIT);
    await assert.rejects(service.get(failed.id), NotFoundError);
    await assert.rejects(service.dismiss(failed.id, SPEC_AUDIT), NotFoundError);
    const audit = await db.dataSource.query<{ target_name: string }[]>("SELECT target_name FROM audit_log WHERE action = 'enrolment.dismiss'");
    assert.deepEqual(
      audit.map((a) => a.target_name),
      ['pacs-dead'],
    );
  });
});
