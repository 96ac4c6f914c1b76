import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeBrowser, startWebTestApp, type WebTestApp } from './testing.js';

/** The same browser (its cookie and the CSRF token of the last form it saw) pointed at another collector. */
function sameBrowserOn(base: string, browser: FakeBrowser): FakeBrowser {
  return Object.assign(new FakeBrowser(base), { cookie: browser.cookie, csrf: browser.csrf });
}

/**
 * Two collectors on one database behind a load balancer (docs/scaling.md, "High availability"):
 * a browser's requests land on either, and sessions, CSRF tokens and sign-in lockouts must not
 * care which. On SQLite the two apps share the file, as two collectors never would in production,
 * but what is checked here — that nothing of a sign-in lives in one collector's memory — is the same.
 */
describe('signing in on any collector', () => {
  let a: WebTestApp;
  let b: WebTestApp;

  before(async () => {
    a = await startWebTestApp();
    b = await startWebTestApp({}, { database: a.database });
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  it('a session and its CSRF token made on one collector work on the other, and ending them there ends them on both', async () => {
    const name = 'roaming';
    const password = await a.addUser(name, 'operator');
    const first = new FakeBrowser(a.base);
    assert.equal((await first.signIn(name, password)).location, '/');
    await first.get('/account');
    const second = new FakeBrowser(a.base);
    assert.equal((await second.signIn(name, password)).location, '/');

    const onB = sameBrowserOn(b.base, first);
    const account = await onB.get('/account');
    assert.equal(account.status, 200, 'signed in on the other collector');
    assert.match(account.text, /roaming \(operator\)/);
    const sessions = await onB.get('/api/v1/sessions');
    assert.equal(sessions.status, 200);
    assert.deepEqual((JSON.parse(sessions.text) as { current: boolean }[]).map((s) => s.current).sort(), [false, true]);

    const origin = { origin: new URL(b.base).origin };
    const forged = await onB.request('DELETE', '/api/v1/sessions', undefined, { ...origin, 'x-csrf-token': 'not-the-token' });
    assert.equal(forged.status, 403, 'the CSRF token is checked on the other collector too');
    const ended = await onB.request('DELETE', '/api/v1/sessions', undefined, { ...origin, 'x-csrf-token': first.csrf });
    assert.equal(ended.status, 200, `the token made on the first collector is accepted on the second: ${ended.text}`);
    assert.deepEqual(JSON.parse(ended.text), { ended: 1 });
    assert.equal((await second.get('/')).status, 303, 'the session ended on the second collector is gone on the first');

    const out = await onB.post('/sign-out');
    assert.equal(out.location, '/sign-in');
    assert.equal((await first.get('/')).status, 303, 'signed out on the second collector: signed out on the first');
    assert.equal((await sameBrowserOn(b.base, first).get('/')).status, 303);
  });

  it('counts failed sign-ins from one address on both collectors towards one lockout', async () => {
    const name = 'targeted';
    const password = await a.addUser(name, 'viewer');
    for (let i = 0; i < 4; i++) {
      const answer = await new FakeBrowser([a, b][i % 2]!.base).signIn(`made-up-${i}`, 'wrong wrong wrong');
      assert.doesNotMatch(answer.text, /too many failed sign-ins/, `failure ${i + 1} of 5 does not lock yet`);
    }
    const fifth = await new FakeBrowser(b.base).signIn('made-up-4', 'wrong wrong wrong');
    assert.match(fifth.text, /too many failed sign-ins from [^:]+: signing in from there is blocked for 5 minutes more/);
    for (const collector of [a, b]) {
      const refused = await new FakeBrowser(collector.base).signIn(name, password);
      assert.notEqual(refused.location, '/', 'the right password is refused on either collector while the address is locked');
      assert.match(refused.text, /too many failed sign-ins from/);
    }
  });
});
