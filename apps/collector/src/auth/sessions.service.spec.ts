import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import { openTestDatabase } from '../storage/testing.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { NotFoundError } from '../shared/errors.js';
import { PasswordHasher } from '../users/passwords.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersRepository } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, SESSION_STEP_MS, SessionsService } from './sessions.service.js';
import { SessionsRepository } from './sessions.repository.js';

const ORIGIN = { address: '10.1.2.3', userAgent: 'Mozilla/5.0 (spec)' };

describe('SessionsService', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let clock: ManualClock;
  let sessions: SessionsService;
  let users: UsersService;
  let alice: UserEntity;

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(1_800_000_000_000);
    sessions = new SessionsService(new SessionsRepository(db.dataSource), clock);
    users = new UsersService(new UsersRepository(db.dataSource), new PasswordHasher());
    await users.add({ name: 'alice', role: 'operator' }, SPEC_AUDIT);
    alice = (await users.findForSignIn('alice'))!;
  });
  afterEach(() => db.close());

  it('keeps only the SHA-256 of the cookie: the database holds nothing a browser could present', async () => {
    const { cookie, session } = await sessions.open(alice, 'full', ORIGIN, []);
    assert.match(cookie, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
    const rows: { id: string; csrf_token: string }[] = await db.dataSource.query('SELECT id, csrf_token FROM sessions');
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.id, cookie);
    assert.match(rows[0]!.id, /^[0-9a-f]{64}$/);
    assert.equal(session.id, rows[0]!.id);
    const found = await sessions.resolve(cookie);
    assert.ok(found && !('expired' in found));
    assert.equal(found.user.name, 'alice');
    assert.equal(await sessions.resolve(rows[0]!.id), null, 'the stored hash is not a cookie');
  });

  it('ends a session after 30 minutes idle, but activity keeps it alive', async () => {
    const { cookie } = await sessions.open(alice, 'full', ORIGIN, []);
    for (let i = 0; i < 4; i++) {
      await clock.advance(SESSION_IDLE_MS - 60_000);
      const found = await sessions.resolve(cookie);
      assert.ok(found && !('expired' in found), `alive after ${i + 1} active periods`);
    }
    await clock.advance(SESSION_IDLE_MS);
    assert.deepEqual(await sessions.resolve(cookie), { expired: 'idle' });
    assert.equal(await sessions.resolve(cookie), null, 'an ended session is deleted');
  });

  it('ends a session 12 hours after sign-in whatever the activity, and a step up keeps the sign-in time', async () => {
    const step = await sessions.open(alice, 'two-factor', ORIGIN, []);
    await clock.advance(60_000);
    const { cookie } = await sessions.open(alice, 'full', ORIGIN, [], step.session);
    assert.equal(await sessions.resolve(step.cookie), null, 'the step session is replaced: its id is worthless');
    for (let t = 0; t < SESSION_ABSOLUTE_MS - 20 * 60_000; t += 20 * 60_000) {
      await clock.advance(20 * 60_000);
      assert.ok(!('expired' in ((await sessions.resolve(cookie)) ?? { expired: 'gone' })));
    }
    await clock.advance(20 * 60_000);
    assert.deepEqual(await sessions.resolve(cookie), { expired: 'absolute' });
  });

  it('gives an unfinished sign-in step ten minutes', async () => {
    const { cookie } = await sessions.open(alice, 'two-factor', ORIGIN, []);
    await clock.advance(SESSION_STEP_MS);
    assert.deepEqual(await sessions.resolve(cookie), { expired: 'step' });
  });

  it("ends a disabled user's sessions at once", async () => {
    const { cookie } = await sessions.open(alice, 'full', ORIGIN, []);
    await users.setDisabled('alice', true, SPEC_AUDIT);
    assert.equal(await sessions.resolve(cookie), null);
    const [count] = await db.query<{ n: number }>('SELECT CAST(count(*) AS integer) AS n FROM sessions');
    assert.equal(count?.n, 0, 'disabling deleted them');
  });

  it('writes last-seen at most once a minute, not on every request', async () => {
    const { cookie, session } = await sessions.open(alice, 'full', ORIGIN, []);
    await clock.advance(30_000);
    await sessions.resolve(cookie);
    const seen = async () => Number((await db.dataSource.query<{ last_seen_at: number }[]>('SELECT last_seen_at FROM sessions'))[0]?.last_seen_at);
    assert.equal(await seen(), session.lastSeenAt);
    await clock.advance(31_000);
    await sessions.resolve(cookie);
    assert.equal(await seen(), clock.now());
  });

  it('lists, ends one, and ends all but the current; another user cannot end them', async () => {
    const a = await sessions.open(alice, 'full', ORIGIN, []);
    const b = await sessions.open(alice, 'full', { address: '10.9.9.9', userAgent: null }, []);
    const c = await sessions.open(alice, 'full', ORIGIN, []);
    const list = await sessions.list(alice.id, a.session.id);
    assert.equal(list.length, 3);
    assert.deepEqual(
      list.filter((s) => s.current).map((s) => s.id),
      [a.session.id],
    );
    await users.add({ name: 'mallory', role: 'viewer' }, SPEC_AUDIT);
    const mallory = (await users.findForSignIn('mallory'))!;
    await assert.rejects(sessions.end(mallory, b.session.id, SPEC_AUDIT), NotFoundError);
    await sessions.end(alice, b.session.id, SPEC_AUDIT);
    assert.equal(await sessions.resolve(b.cookie), null);
    assert.equal(await sessions.endAll(alice, SPEC_AUDIT, a.session.id), 1);
    assert.equal(await sessions.resolve(c.cookie), null);
    assert.ok(await sessions.resolve(a.cookie));
    const audit: { action: string; after_json: string }[] = await db.dataSource.query(
      "SELECT action, after_json FROM audit_log WHERE action = 'session.revoke'",
    );
    assert.deepEqual(
      audit.map((r) => JSON.parse(r.after_json) as unknown),
      [{ sessionsEnded: 1 }, { sessionsEnded: 1 }],
    );
  });

  it('matches the CSRF token in constant time and refuses anything else', async () => {
    const { session } = await sessions.open(alice, 'full', ORIGIN, []);
    assert.equal(sessions.csrfMatches(session, session.csrfToken), true);
    assert.equal(sessions.csrfMatches(session, `${session.csrfToken.slice(0, -1)}x`), false);
    assert.equal(sessions.csrfMatches(session, ''), false);
    assert.equal(sessions.csrfMatches(session, undefined), false);
    assert.equal(sessions.csrfMatches(session, [session.csrfToken]), false);
  });
});
