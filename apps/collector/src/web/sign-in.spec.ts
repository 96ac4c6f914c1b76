import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { LOCKOUT_MS } from '../auth/lockouts.js';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../auth/sessions.service.js';
import { FakeBrowser, startWebTestApp, type WebTestApp } from './testing.js';

const codeAt = (secret: string, timestamp: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp });

/** The key shown on the enrolment page (the text beside the QR code). */
function shownSecret(html: string): string {
  const secret = /<span class="secret">([A-Z2-7]+)<\/span>/.exec(html)?.[1];
  assert.ok(secret, 'the enrolment page shows the key');
  return secret;
}

describe('signing in over HTTP', () => {
  let web: WebTestApp;

  before(async () => {
    web = await startWebTestApp();
  });
  after(() => web.close());

  const auditActions = async (): Promise<string[]> =>
    (await web.dataSource.query<{ action: string }[]>('SELECT action FROM audit_log ORDER BY id')).map((r) => r.action);

  it('sends a browser without a session to the sign-in page and back to the page it asked for', async () => {
    const browser = new FakeBrowser(web.base);
    const answer = await browser.get('/users?x=1');
    assert.equal(answer.status, 303);
    assert.equal(answer.location, '/sign-in?next=%2Fusers%3Fx%3D1');
    const form = await browser.get(answer.location);
    assert.match(form.text, /<input type="hidden" name="next" value="\/users\?x=1"\/>/);
    assert.equal(form.headers.get('cache-control'), 'no-store');
  });

  it('makes the first admin change the printed password before anything else, with a new session id at each step', async () => {
    const browser = new FakeBrowser(web.base);
    const step = await browser.signIn('admin', web.adminPassword);
    assert.equal(step.status, 303);
    assert.equal(step.location, '/sign-in/password');
    const stepCookie = browser.cookie;
    assert.match(browser.lastSetCookie!, /^rounds_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    assert.equal((await browser.get('/')).location, '/sign-in/password', 'nothing else until the password is changed');
    await browser.get('/sign-in/password');
    const weak = await browser.post('/sign-in/password', { password: 'password1234', confirm: 'password1234' });
    assert.equal(weak.status, 400);
    assert.match(weak.text, /the password is on the list of commonly used passwords/);
    const same = await browser.post('/sign-in/password', { password: web.adminPassword, confirm: web.adminPassword });
    assert.match(same.text, /the new password must differ from the current one/);
    const done = await browser.post('/sign-in/password', { password: 'a long and private phrase', confirm: 'a long and private phrase' });
    assert.equal(done.status, 303);
    assert.equal(done.location, '/');
    assert.notEqual(browser.cookie, stepCookie, 'signed in with a new session id');
    const status = await browser.get('/');
    assert.equal(status.status, 200);
    assert.match(status.text, /admin \(admin\)/);
    const again = new FakeBrowser(web.base);
    assert.equal((await again.signIn('admin', 'a long and private phrase')).location, '/', 'the new password signs in without a step');
    const actions = await auditActions();
    assert.ok(actions.includes('user.change-password') && actions.includes('user.sign-in'));
  });

  it('answers a wrong password and an unknown user alike, and locks after 5 failures with 429 and Retry-After', async () => {
    const password = await web.addUser('locky', 'viewer');
    const browser = new FakeBrowser(web.base);
    const wrong = await browser.signIn('locky', 'wrong password!!');
    const unknown = await browser.signIn('nobody-here', 'wrong password!!');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const message = (a: { text: string }) => /<p class="notice error" role="alert">([^<]*)<\/p>/.exec(a.text)?.[1];
    assert.equal(message(wrong), 'wrong user name or password');
    assert.equal(message(unknown), message(wrong));
    assert.equal(browser.cookie, undefined, 'no session for a failure');
    for (let i = 0; i < 3; i++) await browser.signIn('locky', 'wrong password!!');
    const locked = await browser.signIn('locky', 'wrong password!!');
    assert.equal(locked.status, 429);
    assert.equal(locked.headers.get('retry-after'), '300');
    assert.match(message(locked)!, /too many failed sign-ins/);
    assert.equal((await browser.signIn('locky', password)).status, 429, 'the right password waits too');
    await web.clock.advance(LOCKOUT_MS);
    assert.equal((await browser.signIn('locky', password)).location, '/');
    assert.ok((await auditActions()).includes('user.lockout'));
  });

  it('refuses an oversized or malformed sign-in body with a clear answer and no session', async () => {
    const browser = new FakeBrowser(web.base);
    const long = await browser.post('/sign-in', { name: 'x'.repeat(5000), password: 'whatever-whatever' }, { csrf: false });
    assert.equal(long.status, 400);
    assert.match(long.text, /too long/);
    const huge = await browser.post('/sign-in', { name: 'admin', password: 'p'.repeat(300_000) }, { csrf: false });
    assert.equal(huge.status, 413);
    const malformed = await browser.request('POST', '/sign-in', '{"name": ["admin"], "password": {"$ne": 1}}', { 'content-type': 'application/json' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.text, /enter your user name and your password/);
    const broken = await browser.request('POST', '/sign-in', '{"name": ', { 'content-type': 'application/json' });
    assert.equal(broken.status, 400);
    assert.doesNotMatch(broken.text, /at .*\.js:\d+/, 'no stack trace');
    assert.equal(browser.cookie, undefined);
  });

  it('refuses a change without the CSRF token, with a forged one, or from another site — and changes nothing', async () => {
    const browser = await web.browserAs('admin');
    const before = (await web.users.list()).length;
    const missing = await browser.post('/users', { name: 'csrf-victim', role: 'viewer' }, { csrf: false });
    assert.equal(missing.status, 403);
    assert.match(missing.text, /CSRF token missing or wrong/);
    const forged = await browser.post('/users', { _csrf: 'forged-token-forged-token-forged-token-123', name: 'csrf-victim', role: 'viewer' });
    assert.equal(forged.status, 403);
    const crossSite = await browser.post('/users', { name: 'csrf-victim', role: 'viewer' }, { headers: { origin: 'https://evil.example' } });
    assert.equal(crossSite.status, 403);
    assert.match(crossSite.text, /another site/);
    assert.equal((await web.users.list()).length, before, 'no user was added');
    const real = await browser.post('/users', { name: 'csrf-ok', role: 'viewer' });
    assert.equal(real.status, 200);
    assert.match(real.text, /Password for “csrf-ok”/);
  });

  it("refuses a viewer's forged POST to an admin page with 403 and changes nothing", async () => {
    const viewer = await web.browserAs('viewer');
    const answer = await viewer.post('/users/admin/disable');
    assert.equal(answer.status, 403);
    assert.match(answer.text, /your role \(viewer\) cannot do this: it needs admin/);
    assert.equal((await web.users.list()).find((u) => u.name === 'admin')?.disabled, false);
  });

  it('ends a session after 30 minutes idle and 12 hours after sign-in, saying why', async () => {
    const browser = await web.browserAs('viewer');
    await web.clock.advance(SESSION_IDLE_MS);
    const idle = await browser.get('/');
    assert.equal(idle.status, 303);
    assert.match(idle.location!, /ended=idle$/);
    assert.match((await browser.get(idle.location!)).text, /ended after 30 minutes without activity/);
    const busy = await web.browserAs('viewer');
    for (let t = 20 * 60_000; t < SESSION_ABSOLUTE_MS; t += 20 * 60_000) {
      await web.clock.advance(20 * 60_000);
      assert.equal((await busy.get('/')).status, 200, `still signed in after ${t / 60_000} busy minutes`);
    }
    await web.clock.advance(20 * 60_000);
    const ended = await busy.get('/');
    assert.match(ended.location!, /ended=absolute$/);
  });

  it('signs out: the cookie is cleared and the session no longer works, even replayed', async () => {
    const browser = await web.browserAs('operator');
    const cookie = browser.cookie!;
    const out = await browser.post('/sign-out');
    assert.equal(out.location, '/sign-in');
    assert.equal(browser.cookie, undefined);
    const replay = await fetch(`${web.base}/`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(replay.status, 303);
  });

  it('lists sessions and signs out another one; it stops working at once', async () => {
    const name = 'two-browsers';
    const password = await web.addUser(name, 'operator');
    const first = new FakeBrowser(web.base);
    const second = new FakeBrowser(web.base);
    await first.signIn(name, password);
    await second.signIn(name, password);
    const account = await first.get('/account');
    const other = /action="\/account\/sessions\/([0-9a-f]{64})\/end"/.exec(account.text)?.[1];
    assert.ok(other, 'the other session has a sign-out button');
    assert.match(account.text, /<strong>this session<\/strong>/);
    const ended = await first.post(`/account/sessions/${other}/end`);
    assert.equal(ended.status, 200);
    assert.equal((await second.get('/')).status, 303, 'the revoked session is signed out');
    assert.equal((await first.get('/')).status, 200);
  });

  it('sets up two-factor, then asks for a code at sign-in; a code is accepted once, a backup code once', async () => {
    const name = 'totp-user';
    const password = await web.addUser(name, 'operator');
    const browser = new FakeBrowser(web.base);
    await browser.signIn(name, password);
    await browser.get('/account');
    const enrol = await browser.post('/account/two-factor');
    assert.equal(enrol.status, 200);
    assert.match(enrol.text, /<img class="qr" src="data:image\/svg\+xml;base64,/);
    const secret = shownSecret(enrol.text);
    const wrongCode = await browser.post('/account/two-factor/confirm', { code: '000000' });
    assert.equal(wrongCode.status, 400);
    assert.equal(shownSecret(wrongCode.text), secret, 'a wrong code keeps the key the app has scanned');
    const codes = await browser.post('/account/two-factor/confirm', { code: codeAt(secret, web.clock.now()) });
    assert.equal(codes.status, 200);
    const backup = [...codes.text.matchAll(/<li>([a-z0-9]{5}-[a-z0-9]{5})<\/li>/g)].map((m) => m[1]!);
    assert.equal(backup.length, 10);

    await web.clock.advance(30_000); // the enrolment used this step's code
    const later = new FakeBrowser(web.base);
    const step = await later.signIn(name, password);
    assert.equal(step.location, '/sign-in/two-factor');
    assert.equal((await later.get('/')).location, '/sign-in/two-factor', 'nothing without the code');
    await later.get('/sign-in/two-factor');
    const code = codeAt(secret, web.clock.now());
    const passed = await later.post('/sign-in/two-factor', { code });
    assert.equal(passed.location, '/');
    assert.equal((await later.get('/')).status, 200);

    const replay = new FakeBrowser(web.base);
    await replay.signIn(name, password);
    await replay.get('/sign-in/two-factor');
    const reused = await replay.post('/sign-in/two-factor', { code });
    assert.equal(reused.status, 401, 'a code is accepted once');
    assert.match(reused.text, /wrong code/);
    const withBackup = await replay.post('/sign-in/two-factor', { code: backup[0]!.toUpperCase() });
    assert.equal(withBackup.location, '/');
    const third = new FakeBrowser(web.base);
    await third.signIn(name, password);
    await third.get('/sign-in/two-factor');
    assert.equal((await third.post('/sign-in/two-factor', { code: backup[0]! })).status, 401, 'a backup code is accepted once');
  });

  it('creates an API token shown once that carries the role, and a revoked one stops at once', async () => {
    const browser = await web.browserAs('viewer', 'token-maker');
    const created = await browser.post('/account/tokens', { name: 'grafana', expiresIn: '' });
    const token = /<span class="secret">(rnd_[A-Za-z0-9_-]+)<\/span>/.exec(created.text)?.[1];
    assert.ok(token, 'the token is shown');
    assert.doesNotMatch((await browser.get('/account')).text, new RegExp(token), 'and never again');
    const me = await fetch(`${web.base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(((await me.json()) as { name: string; role: string }).role, 'viewer');
    const change = await fetch(`${web.base}/api/v1/checks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(change.status, 403);
    const id = /action="\/account\/tokens\/([^/]+)\/revoke"/.exec((await browser.get('/account')).text)?.[1];
    assert.ok(id);
    await browser.post(`/account/tokens/${id}/revoke`);
    const revoked = await fetch(`${web.base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(revoked.status, 401);
    assert.match(((await revoked.json()) as { message: string }).message, /revoked/);
  });

  it('sends the security headers: CSP without inline script, no framing, nosniff, no referrer to other sites; no HSTS on plain HTTP', async () => {
    const res = await fetch(`${web.base}/sign-in`);
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('referrer-policy'), 'same-origin');
    assert.equal(res.headers.get('strict-transport-security'), null);
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('a role change signs the user out everywhere: the next sign-in gets a new session with the new role', async () => {
    const admin = await web.browserAs('admin');
    const password = await web.addUser('promoted', 'viewer');
    const browser = new FakeBrowser(web.base);
    await browser.signIn('promoted', password);
    const before = browser.cookie;
    await admin.get('/users');
    const changed = await admin.post('/users/promoted/role', { role: 'operator' });
    assert.equal(changed.status, 200);
    assert.equal((await browser.get('/')).status, 303, 'the old session ended with the role change');
    await browser.signIn('promoted', password);
    assert.notEqual(browser.cookie, before);
    assert.match((await browser.get('/')).text, /promoted \(operator\)/);
  });
});

describe('signing in where a role must use two-factor', () => {
  let web: WebTestApp;

  before(async () => {
    web = await startWebTestApp({ ROUNDS_2FA_REQUIRED_ROLES: 'operator' });
  });
  after(() => web.close());

  it('makes an operator without two-factor enrol before anything else, shows the backup codes once, and asks for a code from then on', async () => {
    const password = await web.addUser('must-enrol', 'operator');
    const browser = new FakeBrowser(web.base);
    const step = await browser.signIn('must-enrol', password);
    assert.equal(step.location, '/sign-in/enrol');
    assert.equal((await browser.get('/account')).location, '/sign-in/enrol', 'no page before enrolling');
    const page = await browser.get('/sign-in/enrol');
    assert.match(page.text, /<img class="qr" src="data:image\/svg\+xml;base64,/);
    const secret = shownSecret(page.text);
    const wrong = await browser.post('/sign-in/enrol', { code: '123456' });
    assert.equal(wrong.status, 400);
    assert.equal(shownSecret(wrong.text), secret);
    const done = await browser.post('/sign-in/enrol', { code: codeAt(secret, web.clock.now()) });
    assert.equal(done.status, 200);
    assert.equal([...done.text.matchAll(/<li>([a-z0-9]{5}-[a-z0-9]{5})<\/li>/g)].length, 10);
    assert.equal((await browser.get('/')).status, 200, 'signed in once enrolled');

    await web.clock.advance(30_000);
    const later = new FakeBrowser(web.base);
    assert.equal((await later.signIn('must-enrol', password)).location, '/sign-in/two-factor');
    // A viewer is not required to: signed in with the password alone.
    const viewer = await web.addUser('just-looking', 'viewer');
    assert.equal((await new FakeBrowser(web.base).signIn('just-looking', viewer)).location, '/');
  });
});
