import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ManualClock, sha256 } from '#rounds/common';
import { TokenGuard } from './token.guard.js';

const TOKEN = 'agent-token-0123456789abcdefghijklmnop';

function withAuth(value?: string): Metadata {
  const metadata = new Metadata();
  if (value !== undefined) metadata.set('authorization', value);
  return metadata;
}

function setup() {
  const clock = new ManualClock(0);
  const lines: string[] = [];
  const guard = new TokenGuard({ expected: () => [sha256(TOKEN)], used: () => {} }, clock, (l) => lines.push(l));
  return { clock, lines, guard };
}

describe('TokenGuard (agent)', () => {
  it('lets a call with the right token through, whatever the case of the Bearer scheme', () => {
    const { guard } = setup();
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) assert.equal(guard.check(withAuth(`${scheme} ${TOKEN}`), '10.0.0.5', 'Collect'), undefined, scheme);
  });

  it('refuses a call without a token or with a wrong one with UNAUTHENTICATED and a sentence saying what to do', () => {
    const { guard, lines } = setup();
    const none = guard.check(withAuth(), '10.0.0.5', 'Describe');
    assert.equal(none?.code, GrpcStatus.UNAUTHENTICATED);
    assert.match(none.details, /^no bearer token — this agent answers only a collector that enrolled it with its current token/);
    const wrong = guard.check(withAuth('Bearer guess'), '10.0.0.5', 'Collect');
    assert.equal(wrong?.code, GrpcStatus.UNAUTHENTICATED);
    assert.match(wrong.details, /^wrong token — /);
    assert.equal(lines.length, 1, 'the second refusal waits for the interval line');
    assert.match(lines[0]!, /^refused Describe from 10\.0\.0\.5: no bearer token — /);
    assert.ok(!lines.join('').includes('guess'), 'the presented token is logged');
  });

  it('refuses the right token sent without the Bearer scheme or under another scheme, as no bearer token', () => {
    const { guard } = setup();
    for (const header of [TOKEN, `Basic ${TOKEN}`, 'Bearer ', `Bearer${TOKEN}`]) {
      const refusal = guard.check(withAuth(header), '10.0.0.5', 'Collect');
      assert.equal(refusal?.code, GrpcStatus.UNAUTHENTICATED, header);
      assert.match(refusal.details, /^no bearer token — /, header);
    }
  });

  it("a call with the right token clears the peer's earlier failures, so they do not add up to a penalty", () => {
    const { guard } = setup();
    for (let i = 0; i < 5; i++) guard.check(withAuth('Bearer guess'), '10.0.0.5', 'Collect');
    assert.equal(guard.check(withAuth(`Bearer ${TOKEN}`), '10.0.0.5', 'Collect'), undefined);
    for (let i = 0; i < 5; i++) assert.equal(guard.check(withAuth('Bearer guess'), '10.0.0.5', 'Collect')?.code, GrpcStatus.UNAUTHENTICATED);
    assert.equal(guard.check(withAuth(`Bearer ${TOKEN}`), '10.0.0.5', 'Collect'), undefined, 'throttled: the failures before the success were counted');
  });

  it('after 5 failures refuses the peer with RESOURCE_EXHAUSTED and retry-after, even with the right token, until the penalty ends', async () => {
    const { guard, clock } = setup();
    for (let i = 0; i < 5; i++) assert.equal(guard.check(withAuth('Bearer guess'), '10.0.0.5', 'Collect')?.code, GrpcStatus.UNAUTHENTICATED);
    assert.equal(guard.check(withAuth('Bearer guess'), '10.0.0.5', 'Collect')?.code, GrpcStatus.UNAUTHENTICATED, 'the 6th is still checked');
    const throttled = guard.check(withAuth(`Bearer ${TOKEN}`), '10.0.0.5', 'Collect');
    assert.equal(throttled?.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(throttled.metadata.get('retry-after')[0], '1');
    assert.match(throttled.details, /^too many failed token attempts from 10\.0\.0\.5: refused without checking for 1 s more — /);
    assert.equal(guard.check(withAuth(`Bearer ${TOKEN}`), '10.0.0.6', 'Collect'), undefined, '10.0.0.6 was refused because 10.0.0.5 is throttled');
    await clock.advance(1_000);
    assert.equal(guard.check(withAuth(`Bearer ${TOKEN}`), '10.0.0.5', 'Collect'), undefined, 'still refused after the penalty');
  });

  it('treats an IPv4-mapped IPv6 address as the same peer as its IPv4 address', () => {
    const { guard } = setup();
    for (let i = 0; i < 6; i++) guard.check(withAuth('Bearer guess'), '::ffff:10.0.0.5', 'Collect');
    assert.equal(guard.check(withAuth(`Bearer ${TOKEN}`), '10.0.0.5', 'Collect')?.code, GrpcStatus.RESOURCE_EXHAUSTED);
  });
});
