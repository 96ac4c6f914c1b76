import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentProof, claimProof, isNonce, makeNonce, makeSiteKey, proofsEqual, SITE_KEY_RULE, siteKeyProblem, siteKeyVerifier } from './site-key.js';

const AGENT = '6f1c1a4e-1d2b-4c3d-9e8f-0123456789ab';
const FP = 'ab'.repeat(32);

describe('site-key cryptography', () => {
  it('makes site keys and nonces of 43 base64url characters that its own rules accept, a new one each time', () => {
    const [a, b] = [makeSiteKey(), makeSiteKey()];
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.equal(siteKeyProblem(a), undefined);
    assert.ok(isNonce(makeNonce()));
  });

  it('refuses a site key shorter than 32 characters or with other characters, saying what a key is', () => {
    for (const bad of ['', 'x'.repeat(31), `${'x'.repeat(40)}+`, `${'x'.repeat(40)} `, 'x'.repeat(129), `-${'x'.repeat(40)}`])
      assert.equal(siteKeyProblem(bad), SITE_KEY_RULE, bad);
    // A key starting with "-" would read as an option after --site-key: none is ever made.
    for (let i = 0; i < 200; i++) assert.match(makeSiteKey(), /^[A-Za-z0-9]/);
    assert.equal(siteKeyProblem('x'.repeat(32)), undefined);
  });

  it('derives one verifier per key and agent: the same inputs agree, another agent or key does not', async () => {
    const key = makeSiteKey();
    const v = await siteKeyVerifier(key, AGENT);
    assert.equal(v.length, 32);
    assert.deepEqual(await siteKeyVerifier(key, AGENT), v);
    assert.notDeepEqual(await siteKeyVerifier(key, '00000000-0000-4000-8000-000000000000'), v);
    assert.notDeepEqual(await siteKeyVerifier(makeSiteKey(), AGENT), v);
    await assert.rejects(siteKeyVerifier('short', AGENT), { message: `the site key ${SITE_KEY_RULE}` });
  });

  it("an agent's proof never passes for a claim over the same values (each names its purpose)", async () => {
    const v = await siteKeyVerifier(makeSiteKey(), AGENT);
    const n = makeNonce();
    // The same four strings in the same places: only the purpose differs.
    const asAgent = agentProof(v, { collectorNonce: n, nonce: AGENT, agentId: FP, certificateSha256: FP });
    const asClaim = claimProof(v, { nonce: n, agentId: AGENT, certificateSha256: FP, newTokenSha256: FP });
    assert.ok(!proofsEqual(asClaim, asAgent));
    assert.ok(proofsEqual(asClaim, claimProof(v, { nonce: n, agentId: AGENT, certificateSha256: FP, newTokenSha256: FP })));
  });

  it('compares proofs only as 64 hex digits: anything else never matches', () => {
    const p = 'a'.repeat(64);
    assert.ok(proofsEqual(p, p));
    for (const bad of ['', 'a'.repeat(63), 'A'.repeat(64), `${'a'.repeat(63)}g`]) assert.ok(!proofsEqual(p, bad), bad);
  });
});
