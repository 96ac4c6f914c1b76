import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle, bearerToken, checkBearer, peerAddress, sha256 } from './auth-throttle.js';
import { ManualClock } from './clock.js';

const HINT = 'rotate it';
const LIMITS = { freeFailures: 3, firstPenaltyMs: 1_000, maxPenaltyMs: 8_000, forgetAfterMs: 60_000, reportIntervalMs: 10_000, maxPeers: 100 };

function setup(limits: Partial<typeof LIMITS> = {}) {
  const clock = new ManualClock(1_000_000);
  const lines: string[] = [];
  const throttle = new AuthThrottle(clock, (l) => lines.push(l), HINT, { ...LIMITS, ...limits });
  return { clock, lines, throttle };
}

describe('bearerToken', () => {
  it('matches the Bearer scheme case-insensitively (RFC 7235) and returns the credentials', () => {
    for (const header of ['Bearer abc', 'bearer abc', 'BEARER abc', 'bEaReR  abc ']) assert.equal(bearerToken(header), 'abc', header);
  });

  it('returns undefined for other schemes, no credentials or credentials with spaces', () => {
    for (const header of [undefined, '', 'Basic abc', 'Bearer', 'Bearer ', 'Bearerabc', 'Bearer a b', 'Token abc']) {
      assert.equal(bearerToken(header), undefined, String(header));
    }
  });
});

describe('peerAddress', () => {
  it('writes an IPv4-mapped IPv6 address as IPv4, so one host is one peer on a dual-stack socket', () => {
    assert.equal(peerAddress('::ffff:10.0.0.5'), '10.0.0.5');
    assert.equal(peerAddress('::1'), '::1');
    assert.equal(peerAddress(undefined), 'unknown peer');
  });
});

describe('AuthThrottle', () => {
  it('lets a peer fail freeFailures times, then refuses it for a penalty that doubles up to the maximum', async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 3; i++) {
      assert.equal(throttle.retryAfterMs('10.0.0.5', 'Collect'), 0);
      throttle.failed('10.0.0.5', 'wrong token', 'Collect');
    }
    assert.equal(throttle.retryAfterMs('10.0.0.5', 'Collect'), 0, 'throttled within the free failures');
    const penalties: number[] = [];
    for (let i = 0; i < 6; i++) {
      throttle.failed('10.0.0.5', 'wrong token', 'Collect');
      const wait = throttle.retryAfterMs('10.0.0.5', 'Collect');
      penalties.push(wait);
      await clock.advance(wait);
    }
    assert.deepEqual(penalties, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('counts refusals while throttled without extending the penalty', async () => {
    const { clock, throttle } = setup({ freeFailures: 0 });
    throttle.failed('p', 'wrong token', 'Collect');
    for (let i = 0; i < 100; i++) throttle.retryAfterMs('p', 'Collect');
    await clock.advance(999);
    assert.equal(throttle.retryAfterMs('p', 'Collect'), 1);
    await clock.advance(1);
    assert.equal(throttle.retryAfterMs('p', 'Collect'), 0);
  });

  it('throttles one peer without touching another', () => {
    const { throttle } = setup({ freeFailures: 0 });
    throttle.failed('10.0.0.5', 'wrong token', 'Collect');
    assert.ok(throttle.retryAfterMs('10.0.0.5', 'Collect') > 0);
    assert.equal(throttle.retryAfterMs('10.0.0.6', 'Collect'), 0);
  });

  it('forgives a peer its failures when it succeeds', () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) throttle.failed('p', 'wrong token', 'Collect');
    throttle.succeeded('p');
    for (let i = 0; i < 3; i++) throttle.failed('p', 'wrong token', 'Collect');
    assert.equal(throttle.retryAfterMs('p', 'Collect'), 0, 'failures before the success still counted');
  });

  it('forgets failures older than forgetAfterMs', async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 3; i++) throttle.failed('p', 'wrong token', 'Collect');
    await clock.advance(60_001);
    throttle.failed('p', 'wrong token', 'Collect');
    assert.equal(throttle.retryAfterMs('p', 'Collect'), 0);
  });

  it('logs the first refusal at once and the rest as one line per interval with counts by reason', async () => {
    const { clock, lines, throttle } = setup();
    throttle.failed('10.0.0.5', 'no bearer token', 'Describe');
    assert.deepEqual(lines, [`refused Describe from 10.0.0.5: no bearer token — ${HINT}`]);
    for (let i = 0; i < 1_233; i++) if (throttle.retryAfterMs('10.0.0.5', 'Collect') === 0) throttle.failed('10.0.0.5', 'wrong token', 'Collect');
    assert.equal(lines.length, 1, 'a line per attempt');
    await clock.advance(10_000);
    assert.deepEqual(lines.slice(1), [`refused 1,233 calls from 10.0.0.5 in the last 10 s: 3 with a wrong token, 1,230 unchecked while throttled — ${HINT}`]);
    await clock.advance(60_000);
    assert.equal(lines.length, 2, 'a line for an interval without refusals');
  });

  it('says how long a peer is still throttled when the interval ends during its penalty', async () => {
    const { clock, lines, throttle } = setup({ freeFailures: 0, firstPenaltyMs: 8_000, maxPenaltyMs: 60_000 });
    throttle.failed('p', 'wrong token', 'Collect');
    await clock.advance(8_000);
    throttle.failed('p', 'wrong token', 'Collect');
    await clock.advance(10_000);
    assert.equal(lines[1], `refused 1 call from p in the last 18 s: 1 with a wrong token; throttled for 6 s more — ${HINT}`);
  });

  it('logs a peer at once again after a quiet interval', async () => {
    const { clock, lines, throttle } = setup();
    throttle.failed('p', 'wrong token', 'Collect');
    await clock.advance(10_000);
    throttle.failed('p', 'wrong token', 'Describe');
    assert.deepEqual(lines, [`refused Collect from p: wrong token — ${HINT}`, `refused Describe from p: wrong token — ${HINT}`]);
  });

  it('writes what is not yet logged on close and leaves no timer behind', async () => {
    const { clock, lines, throttle } = setup();
    throttle.failed('p', 'wrong token', 'Collect');
    throttle.failed('p', 'wrong token', 'Collect');
    assert.equal(clock.pendingTimers, 1);
    throttle.close();
    assert.equal(clock.pendingTimers, 0);
    assert.match(lines[1]!, /^refused 1 call from p in the last 1 s: 1 with a wrong token — /);
  });

  it('remembers at most maxPeers peers, forgetting the least recently seen first', () => {
    const { throttle } = setup({ maxPeers: 3, freeFailures: 0 });
    for (const peer of ['a', 'b', 'c']) throttle.failed(peer, 'wrong token', 'Collect');
    throttle.failed('a', 'wrong token', 'Collect');
    throttle.failed('d', 'wrong token', 'Collect');
    assert.equal(throttle.size, 3);
    assert.equal(throttle.retryAfterMs('b', 'Collect'), 0, 'b was the least recently seen and is forgotten');
    assert.ok(throttle.retryAfterMs('a', 'Collect') > 0);
  });
});

describe('checkBearer', () => {
  const expectedSha256 = sha256('the-token');

  it('lets the right token in, case-insensitive scheme included', () => {
    const { throttle } = setup();
    assert.deepEqual(checkBearer(throttle, { authorization: 'bearer the-token', peer: 'p', call: 'Collect', expectedSha256 }), { ok: true, matched: 0 });
  });

  it('lets either of two tokens in (a rotation under way) and says which matched', () => {
    const { throttle } = setup();
    const both = [sha256('old-token'), sha256('new-token')];
    const check = (token: string) => checkBearer(throttle, { authorization: `Bearer ${token}`, peer: 'p', call: 'Collect', expectedSha256: both });
    assert.deepEqual(check('old-token'), { ok: true, matched: 0 });
    assert.deepEqual(check('new-token'), { ok: true, matched: 1 });
    assert.deepEqual(check('other'), { ok: false, why: 'wrong token' });
  });

  it('names why a call is refused: no bearer token, wrong token, then throttled with the time left', () => {
    const { throttle } = setup({ freeFailures: 1 });
    assert.deepEqual(checkBearer(throttle, { authorization: 'Basic x', peer: 'p', call: 'Collect', expectedSha256 }), { ok: false, why: 'no bearer token' });
    assert.deepEqual(checkBearer(throttle, { authorization: 'Bearer guess', peer: 'p', call: 'Collect', expectedSha256 }), { ok: false, why: 'wrong token' });
    assert.deepEqual(checkBearer(throttle, { authorization: 'Bearer the-token', peer: 'p', call: 'Collect', expectedSha256 }), {
      ok: false,
      why: 'throttled',
      retryAfterMs: 1_000,
    });
  });

  it('refuses every token when no digest is expected yet', () => {
    const { throttle } = setup();
    assert.deepEqual(checkBearer(throttle, { authorization: 'Bearer x', peer: 'p', call: 'Collect', expectedSha256: undefined }), {
      ok: false,
      why: 'wrong token',
    });
  });
});
