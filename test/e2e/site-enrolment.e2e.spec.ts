import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { claimProof, makeNonce, makeSiteKey, sha256, siteKeyVerifier } from '#rounds/common';
import { AgentCallError, AgentClientPool } from '../../apps/collector/src/inventory/agent-client.pool.js';
import { freePort, startAgent, startCollector, tempDir, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

interface EnrolmentView {
  id: string;
  name: string;
  address: string;
  state: string;
  agent: { id: string; hostname: string | null } | null;
  fingerprint: string | null;
  error: string | null;
  enrolledAs: string | null;
}
interface AgentView {
  id: string;
  name: string;
  state: string;
  fingerprint: string;
  lastSeenAt: number | null;
}
interface ResultView {
  status: string;
}
interface AuditRow {
  action: string;
  target: { name: string | null };
}

const fileOf = (a: AgentHandle) => parseYaml(readFileSync(a.configPath, 'utf8')) as { id: string; tokenSha256?: string; siteKeyVerifier?: string };
/** What the agent printed at start: the fingerprint a person compares. */
const printedFingerprint = (a: AgentHandle) => /certificate sha256 ([0-9a-f]{64})/.exec(a.proc.output)?.[1];

/**
 * Enrolling many agents with a site key, end to end: the collector makes the key, two agents are
 * installed with it (one from a key file, one with --site-key as the Windows installer passes it),
 * a list of both and an address where nothing listens is submitted, the fingerprints shown are
 * the ones the agents print and are approved, both agents are claimed and polled (results
 * arrive), the dead address is reported on its line — and an agent installed with another key is refused.
 */
describe('enrolling many agents with a site key', { timeout: 240_000 }, () => {
  let collector: CollectorHandle;
  let north: AgentHandle;
  let south: AgentHandle;
  let stranger: AgentHandle | undefined;
  let dead: number;
  let siteKey: string;
  let batch: string;
  const pool = new AgentClientPool();

  const enrolments = async () => (await collector.api<EnrolmentView[]>('GET', `/api/v1/enrolments?batch=${batch}`)).body;
  const byName = async () => Object.fromEntries((await enrolments()).map((e) => [e.name, e]));

  before(async () => {
    collector = await startCollector();
    const made = await collector.api<{ key: string }>('POST', '/api/v1/site-key');
    assert.equal(made.status, 201, JSON.stringify(made.body));
    siteKey = made.body.key;
    const keyFile = join(tempDir('site-key'), 'site.key');
    writeFileSync(keyFile, `${siteKey}\n`, { mode: 0o600 });
    const started = await Promise.allSettled([
      startAgent('north', { initArgs: ['--site-key-file', keyFile] }).then((a) => (north = a)),
      startAgent('south', { initArgs: ['--site-key', siteKey] }).then((a) => (south = a)),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    dead = await freePort();
  });

  after(async () => {
    pool.closeAll();
    await Promise.all([collector?.proc.stop(), north?.proc.stop(), south?.proc.stop(), stranger?.proc.stop()]);
  });

  test('an agent installed with the site key keeps no key and no token, and answers nothing that needs one', async () => {
    for (const a of [north, south]) {
      const file = fileOf(a);
      assert.equal(file.tokenSha256, undefined);
      assert.match(file.siteKeyVerifier ?? '', /^[0-9a-f]{64}$/);
      assert.ok(!readFileSync(a.configPath, 'utf8').includes(siteKey), 'the site key in the config file');
      assert.match(a.proc.output, /waiting to be claimed by a collector holding the site key/);
    }
    const endpoint = {
      id: 'no-token',
      name: 'north',
      host: '127.0.0.1',
      port: north.port,
      token: 'guessed-token-0123456789abcdefghijklmn',
      fingerprint: printedFingerprint(north)!,
    };
    await assert.rejects(pool.describe(endpoint, 5000), (e: AgentCallError) => e.code === 'unauthenticated');
  });

  test('a list of both and a dead address: the agents wait with the fingerprints they print, the dead address is reported on its line', async () => {
    const csv = ['name,address,tags', `north,127.0.0.1:${north.port},site=north`, `south,127.0.0.1:${south.port},site=south`, `gone,127.0.0.1:${dead}`].join(
      '\n',
    );
    const submitted = await collector.api<{ batch: string; enrolments: EnrolmentView[] }>('POST', '/api/v1/agents/enrol', { csv });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    batch = submitted.body.batch;
    const rows = await waitFor('every line contacted', async () => {
      const r = await byName();
      return Object.values(r).every((e) => e.state !== 'contacting') ? r : undefined;
    });
    for (const [name, agent] of [
      ['north', north],
      ['south', south],
    ] as const) {
      assert.equal(rows[name]!.state, 'pending', rows[name]!.error ?? '');
      assert.equal(rows[name]!.fingerprint, printedFingerprint(agent), `${name}: the fingerprint to compare is the one the agent prints`);
      assert.equal(rows[name]!.agent?.id, fileOf(agent).id);
    }
    assert.equal(rows['gone']!.state, 'failed');
    assert.match(rows['gone']!.error ?? '', new RegExp(`^agent gone at 127\\.0\\.0\\.1:${dead}: refused the connection .* then submit the line again$`));
    assert.equal((await collector.api<AgentView[]>('GET', '/api/v1/agents')).body.length, 0, 'nothing registered before approval');
  });

  test('approved, both are claimed, registered with their pinned certificates and polled: results arrive', async () => {
    const waiting = (await enrolments()).filter((e) => e.state === 'pending');
    const approved = await collector.api<EnrolmentView[]>('POST', '/api/v1/enrolments/approve', { ids: waiting.map((e) => e.id) });
    assert.equal(approved.status, 202, JSON.stringify(approved.body));
    const rows = await waitFor('both enrolled', async () => {
      const r = await byName();
      return r['north']?.state === 'enrolled' && r['south']?.state === 'enrolled' ? r : undefined;
    });
    for (const [name, agent] of [
      ['north', north],
      ['south', south],
    ] as const) {
      const view = await waitFor(`${name} listed`, async () => {
        const res = await collector.api<AgentView>('GET', `/api/v1/agents/${name}`);
        return res.status === 200 ? res.body : undefined;
      });
      assert.equal(view.id, rows[name]!.enrolledAs);
      assert.equal(view.fingerprint, printedFingerprint(agent));
      assert.match(fileOf(agent).tokenSha256 ?? '', /^[0-9a-f]{64}$/, `${name} holds a token hash now`);
      assert.equal(fileOf(agent).siteKeyVerifier, undefined, `${name} no longer accepts the site key`);
      assert.match(agent.proc.output, /claimed by a collector holding the site key/);
      const check = await collector.api<{ id: string }>('POST', '/api/v1/checks', {
        agent: name,
        name: 'collector web',
        plugin: 'tcp',
        config: { host: '127.0.0.1', port: Number(new URL(collector.url).port) },
        intervalMs: 1000,
        timeoutMs: 1000,
      });
      assert.equal(check.status, 201, JSON.stringify(check.body));
      await waitFor(`${name}: results polled`, async () => {
        const results = (await collector.api<ResultView[]>('GET', `/api/v1/checks/${check.body.id}/results?limit=5`)).body;
        return results.length >= 2 && results.every((r) => r.status === 'OK');
      });
      assert.equal((await collector.api<AgentView>('GET', `/api/v1/agents/${name}`)).body.state, 'UP');
    }
    const audit = (await collector.api<AuditRow[]>('GET', '/api/v1/audit?limit=50')).body;
    assert.deepEqual(
      audit
        .filter((r) => r.action.startsWith('enrolment.') || r.action === 'agent.enrol' || r.action.startsWith('site-key.'))
        .map((r) => r.action)
        .sort(),
      ['agent.enrol', 'agent.enrol', 'enrolment.approve', 'enrolment.submit', 'site-key.create'],
    );
    assert.ok(!JSON.stringify(audit).includes(siteKey), 'the site key in the audit log');
  });

  test('the site key no longer opens a claimed agent, and an agent installed with another key is refused', async () => {
    // The same list again: both agents are known here now.
    const again = await collector.api<{ batch: string }>('POST', '/api/v1/agents/enrol', { csv: `north-2,127.0.0.1:${north.port}` });
    batch = again.body.batch;
    const [row] = await waitFor('contacted', async () => ((await enrolments())[0]?.state === 'failed' ? enrolments() : undefined));
    assert.equal(row!.error, `agent ${fileOf(north).id.slice(0, 8)}… is already enrolled as north`);

    const otherKeyFile = join(tempDir('other-key'), 'site.key');
    writeFileSync(otherKeyFile, makeSiteKey(), { mode: 0o600 });
    stranger = await startAgent('stranger', { initArgs: ['--site-key-file', otherKeyFile] });
    const submitted = await collector.api<{ batch: string }>('POST', '/api/v1/agents/enrol', { csv: `stranger,127.0.0.1:${stranger.port}` });
    batch = submitted.body.batch;
    const [refused] = await waitFor('contacted', async () => ((await enrolments())[0]?.state === 'failed' ? enrolments() : undefined));
    assert.match(
      refused!.error ?? '',
      new RegExp(`^agent ${fileOf(stranger).id.slice(0, 8)}… at 127\\.0\\.0\\.1:${stranger.port} was installed with another site key than this collector’s`),
    );
    assert.equal(fileOf(stranger).tokenSha256, undefined, 'not claimed');
    assert.equal((await collector.api('GET', '/api/v1/agents/stranger')).status, 404, 'not registered');
    // Its own door refuses this collector's key too: a claim proved with it is denied, and nothing is written.
    const target = { id: 'stranger', name: 'stranger', host: '127.0.0.1', port: stranger.port };
    const { answer, certificateSha256 } = await pool.enrolChallenge(target, makeNonce(), 5000);
    const newTokenSha256 = sha256('a-token-for-the-stranger-0123456789abc').toString('hex');
    const proof = claimProof(await siteKeyVerifier(siteKey, answer.agentId), {
      nonce: answer.nonce,
      agentId: answer.agentId,
      certificateSha256,
      newTokenSha256,
    });
    await assert.rejects(
      pool.claim({ ...target, fingerprint: certificateSha256 }, { nonce: answer.nonce, newTokenSha256, proof }, 5000),
      (e: AgentCallError) => e.refusal === 'denied' && /the proof does not match/.test(e.details ?? ''),
    );
    assert.equal(fileOf(stranger).tokenSha256, undefined, 'still not claimed');
  });
});
