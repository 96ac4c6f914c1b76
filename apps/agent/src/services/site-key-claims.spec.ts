import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { agentProof, claimProof, makeNonce, makeSiteKey, ManualClock, proofsEqual, siteKeyVerifier, type ClaimFacts } from '#rounds/common';
import { initAgent } from '../cli/init.js';
import { loadAgentConfig, sha256Hex } from '../config/agent-config.js';
import { TokenGuard } from '../controllers/token.guard.js';
import { ClaimRefused, SiteKeyClaims, type ChallengeAnswer } from './site-key-claims.js';
import { TokenKeeper } from './token-keeper.js';

const SITE_KEY = makeSiteKey();
const TOKEN = 'claimed-token-0123456789abcdefghijklmnop';
const COLLECTOR = '10.0.0.9';

const bearer = (token: string) => {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
};

function claimable(answer: ChallengeAnswer): Extract<ChallengeAnswer, { state: 'claimable' }> {
  assert.equal(answer.state, 'claimable');
  return answer;
}

/** What a collector holding `siteKey` sends to claim the agent that gave `answer`. */
async function claimFor(answer: Extract<ChallengeAnswer, { state: 'claimable' }>, siteKey: string, token = TOKEN, facts: Partial<ClaimFacts> = {}) {
  const verifier = await siteKeyVerifier(siteKey, answer.agentId);
  const claim = { nonce: answer.nonce, agentId: answer.agentId, certificateSha256: answer.certificateSha256, newTokenSha256: sha256Hex(token), ...facts };
  return { nonce: claim.nonce, newTokenSha256: claim.newTokenSha256, proof: claimProof(verifier, claim) };
}

async function refusal(promise: Promise<unknown>): Promise<ClaimRefused> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ClaimRefused, String(e));
    return e;
  }
  assert.fail('the claim was accepted');
}

describe('site-key enrolment on the agent (SiteKeyClaims, TokenKeeper and the door)', () => {
  let root: string;
  let n = 0;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'rounds-claims-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** An agent initialised with SITE_KEY (a real config file), its keeper, its door and its claim service. */
  async function setup(limits: ConstructorParameters<typeof SiteKeyClaims>[5] = {}) {
    const configPath = join(root, `case-${++n}`, 'agent.yaml');
    await initAgent({ configPath, listen: '127.0.0.1:7443', force: false, siteKey: SITE_KEY });
    const config = loadAgentConfig(configPath, { logLevel: 'error' });
    const clock = new ManualClock(1_700_000_000_000);
    const lines: string[] = [];
    const keeper = new TokenKeeper(configPath, config, config.tokenFromEnv, { log: (l) => lines.push(l), error: (l) => lines.push(`ERROR ${l}`) });
    const guard = new TokenGuard(keeper, clock, () => {});
    const identity = { agentId: config.id, certificateSha256: 'cd'.repeat(32), hostname: 'ward-pc', version: '9.9.9' };
    const claims = new SiteKeyClaims(identity, config.siteKeyVerifier, keeper, clock, (l) => lines.push(l), limits);
    const call = (token: string) => guard.check(bearer(token), COLLECTOR, 'Collect')?.code ?? 'ok';
    return { configPath, config, clock, keeper, claims, call, lines, identity };
  }

  it('a collector that proves it holds the site key gets its token accepted, written in place of the verifier; the site key is no longer accepted', async () => {
    const { configPath, claims, call, keeper, lines } = await setup();
    assert.equal(call(TOKEN), GrpcStatus.UNAUTHENTICATED, 'no token opens the door before the claim');
    const answer = claimable(claims.challenge(makeNonce(), COLLECTOR));
    await claims.claim(await claimFor(answer, SITE_KEY), COLLECTOR);

    assert.equal(call(TOKEN), 'ok');
    assert.equal(call('another-token-0123456789abcdefghijklmn'), GrpcStatus.UNAUTHENTICATED);
    assert.equal(keeper.enrolled, true);
    const file = readFileSync(configPath, 'utf8');
    assert.match(file, new RegExp(`^tokenSha256: ${sha256Hex(TOKEN)}$`, 'm'));
    assert.doesNotMatch(file, /^siteKeyVerifier:/m);
    assert.doesNotMatch(file, /No token yet/, "init's note about waiting is gone");
    assert.match(file, /^# rounds-agent configuration, written by `rounds-agent init`\./, 'its comments kept');
    assert.equal(statSync(configPath).mode & 0o777, 0o600);
    assert.equal(loadAgentConfig(configPath, { logLevel: 'error' }).tokenSha256, sha256Hex(TOKEN), 'a restart reads the token');
    assert.match(lines.join('\n'), /claimed by a collector holding the site key/);

    const after = claims.challenge(makeNonce(), COLLECTOR);
    assert.deepEqual(after, { state: 'enrolled', agentId: answer.agentId, certificateSha256: answer.certificateSha256 }, 'no nonce, no proof, no host name');
    const again = await refusal(claims.claim(await claimFor(answer, SITE_KEY, 'second-token-0123456789abcdefghijklmn'), COLLECTOR));
    assert.equal(again.reason, 'enrolled');
    assert.match(
      again.message,
      /enrolled already .* the site key is not accepted — if it should be enrolled again, run `rounds-agent init --force --site-key-file …`/,
    );
    assert.equal(call(TOKEN), 'ok', 'the refused claim changed nothing');
  });

  it("the agent's answer proves it was installed with the site key, over the collector's nonce: another key or nonce does not verify", async () => {
    const { claims, identity } = await setup();
    const collectorNonce = makeNonce();
    const answer = claimable(claims.challenge(collectorNonce, COLLECTOR));
    assert.deepEqual({ ...answer, nonce: '', agentProof: '' }, { state: 'claimable', ...identity, nonce: '', nonceTtlMs: 30_000, agentProof: '' });
    const facts = { collectorNonce, nonce: answer.nonce, agentId: answer.agentId, certificateSha256: answer.certificateSha256 };
    assert.ok(proofsEqual(agentProof(await siteKeyVerifier(SITE_KEY, answer.agentId), facts), answer.agentProof));
    assert.ok(!proofsEqual(agentProof(await siteKeyVerifier(makeSiteKey(), answer.agentId), facts), answer.agentProof), 'another site key');
    assert.ok(
      !proofsEqual(agentProof(await siteKeyVerifier(SITE_KEY, answer.agentId), { ...facts, collectorNonce: makeNonce() }), answer.agentProof),
      'a replayed answer',
    );
  });

  it('refuses a claim proved with another site key, and writes nothing', async () => {
    const { configPath, claims, call } = await setup();
    const before = readFileSync(configPath, 'utf8');
    const wrong = await refusal(claims.claim(await claimFor(claimable(claims.challenge(makeNonce(), COLLECTOR)), makeSiteKey()), COLLECTOR));
    assert.equal(wrong.reason, 'proof');
    assert.match(wrong.message, /^the proof does not match: the collector holds another site key than the one this agent was installed with/);
    assert.equal(readFileSync(configPath, 'utf8'), before);
    assert.equal(call(TOKEN), GrpcStatus.UNAUTHENTICATED);
    assert.equal(claims.claimable, true, 'still waiting for the right key');
  });

  it('refuses a claim whose proof names another token, agent or certificate than the one it claims for', async () => {
    const { claims } = await setup();
    for (const facts of [
      { newTokenSha256: sha256Hex('a-token-the-proof-was-not-made-for-0123') },
      { agentId: '00000000-0000-4000-8000-000000000000' },
      { certificateSha256: 'ab'.repeat(32) },
    ]) {
      const answer = claimable(claims.challenge(makeNonce(), COLLECTOR));
      const claim = await claimFor(answer, SITE_KEY, TOKEN, facts);
      // The token the request names is TOKEN's; the proof covers what `facts` says.
      const refused = await refusal(claims.claim({ ...claim, newTokenSha256: sha256Hex(TOKEN) }, COLLECTOR));
      assert.equal(refused.reason, 'proof', JSON.stringify(facts));
    }
  });

  it('a nonce is spent by the first claim naming it: a replayed one is refused, even after a failed claim, and so is an expired one', async () => {
    const { claims, clock, call } = await setup();
    const answer = claimable(claims.challenge(makeNonce(), COLLECTOR));
    const wrong = await refusal(claims.claim(await claimFor(answer, makeSiteKey()), COLLECTOR));
    assert.equal(wrong.reason, 'proof');
    const replayed = await refusal(claims.claim(await claimFor(answer, SITE_KEY), COLLECTOR));
    assert.equal(replayed.reason, 'nonce');
    assert.equal(replayed.message, 'the nonce is unknown, expired or spent: ask for a new challenge and claim within its time');
    assert.equal((await refusal(claims.claim(await claimFor({ ...answer, nonce: makeNonce() }, SITE_KEY), COLLECTOR))).reason, 'nonce', 'one never handed out');

    const late = claimable(claims.challenge(makeNonce(), COLLECTOR));
    await clock.advance(30_000);
    assert.equal((await refusal(claims.claim(await claimFor(late, SITE_KEY), COLLECTOR))).reason, 'nonce', 'expired');
    assert.equal(call(TOKEN), GrpcStatus.UNAUTHENTICATED);

    const fresh = claimable(claims.challenge(makeNonce(), COLLECTOR));
    await claims.claim(await claimFor(fresh, SITE_KEY), COLLECTOR);
    assert.equal(call(TOKEN), 'ok', 'a fresh nonce still works');
  });

  it('refuses malformed claims and challenges, naming what is wrong', async () => {
    const { claims } = await setup();
    assert.throws(() => claims.challenge('short', COLLECTOR), { message: 'collector_nonce must be 16–128 base64url characters' });
    const answer = claimable(claims.challenge(makeNonce(), COLLECTOR));
    for (const bad of [{ proof: 'xyz' }, { newTokenSha256: 'XYZ' }, { nonce: '' }]) {
      const refused = await refusal(claims.claim({ ...(await claimFor(answer, SITE_KEY)), ...bad }, COLLECTOR));
      assert.equal(refused.reason, 'invalid', JSON.stringify(bad));
    }
  });

  it('after 5 failed proofs an address is refused unchecked with the time to wait; after 20 from any addresses, every address is', async () => {
    const { claims, clock } = await setup();
    const fail = async (peer: string) => {
      const answer = claimable(claims.challenge(makeNonce(), peer));
      return refusal(claims.claim(await claimFor(answer, makeSiteKey()), peer));
    };
    for (let i = 0; i < 6; i++) assert.equal((await fail('10.0.0.66')).reason, 'proof', `attempt ${i + 1}`);
    const throttled = await refusal(claims.claim(await claimFor(claimable(claims.challenge(makeNonce(), COLLECTOR)), SITE_KEY), '10.0.0.66'));
    assert.equal(throttled.reason, 'throttled');
    assert.equal(throttled.retryAfterMs, 1000);
    assert.match(throttled.message, /^too many failed site-key proofs: refused without checking for 1 s more — /);
    assert.throws(
      () => claims.challenge(makeNonce(), '10.0.0.66'),
      (e: ClaimRefused) => e.reason === 'throttled',
      'no nonces for a throttled address',
    );

    // Many addresses, each under its own limit: 14 more failures make 20 in all.
    for (let i = 0; i < 14; i++) assert.equal((await fail(`10.0.1.${i}`)).reason, 'proof');
    assert.equal((await fail(COLLECTOR)).reason, 'proof', 'the 21st failure is still checked');
    assert.throws(
      () => claims.challenge(makeNonce(), COLLECTOR),
      (e: ClaimRefused) => e.reason === 'throttled',
      'every address waits now',
    );
    await clock.advance(60_000);
    await claims.claim(await claimFor(claimable(claims.challenge(makeNonce(), COLLECTOR)), SITE_KEY), COLLECTOR);
    assert.equal(claims.claimable, false, 'claimed once the penalty was over');
  });

  it('keeps at most 64 nonces: a flood of challenges pushes out the oldest', async () => {
    const { claims } = await setup();
    const first = claimable(claims.challenge(makeNonce(), COLLECTOR));
    for (let i = 0; i < 64; i++) claims.challenge(makeNonce(), `10.0.2.${i}`);
    assert.equal((await refusal(claims.claim(await claimFor(first, SITE_KEY), COLLECTOR))).reason, 'nonce');
  });

  it('an agent whose token comes from ROUNDS_AGENT_TOKEN counts as enrolled: its site key is not accepted', async () => {
    const { configPath } = await setup();
    const config = loadAgentConfig(configPath, { logLevel: 'error', token: TOKEN });
    assert.equal(config.siteKeyVerifier, undefined);
    const keeper = new TokenKeeper(configPath, config, config.tokenFromEnv, { log: () => {}, error: () => {} });
    const claims = new SiteKeyClaims(
      { agentId: config.id, certificateSha256: 'cd'.repeat(32), hostname: 'h', version: '1' },
      config.siteKeyVerifier,
      keeper,
      new ManualClock(0),
      () => {},
    );
    assert.equal(claims.challenge(makeNonce(), COLLECTOR).state, 'enrolled');
  });
});
