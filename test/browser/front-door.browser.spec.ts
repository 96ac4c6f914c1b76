import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { useBrowser } from './browser.js';

/**
 * The front door as a person meets it, in Chromium: the first admin's sign-in with the printed
 * password, the forced change, two-factor set up from the QR page, a user added and signed in
 * with the password the admin passes on, and what a viewer is refused. Every page is
 * screenshotted (test-results/screenshots) and must load without a CSP violation, a script
 * error or a failed request.
 */
const browser = useBrowser();

describe('the front door in a browser', () => {
  let web: WebTestApp;
  let page: Page;
  /** The admin's TOTP secret, as the QR code page showed it. */
  let totpSecret = '';

  before(async () => {
    web = await startWebTestApp();
    page = await browser.newPage(web.base);
  });
  after(() => web.close());

  /** Fills a form's fields by name and submits it with its button. */
  async function submit(fields: Record<string, string>, button: string): Promise<void> {
    for (const [name, value] of Object.entries(fields)) await page.locator(`input[name="${name}"]`).fill(value);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: button, exact: true }).click()]);
  }

  async function shot(name: string): Promise<void> {
    await browser.screenshot(page, name);
    assert.deepEqual(browser.takeProblems(page), [], `problems on ${name}`);
  }

  it('signs the first admin in with the printed password and makes them choose their own', async () => {
    await page.goto('/');
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    assert.equal(await page.title(), 'Sign in — Rounds');
    await shot('01-sign-in');

    await submit({ name: 'admin', password: 'not the password' }, 'Sign in');
    assert.equal(await page.getByRole('alert').textContent(), 'wrong user name or password');
    await shot('02-sign-in-wrong');

    await submit({ name: 'admin', password: web.adminPassword }, 'Sign in');
    assert.equal(new URL(page.url()).pathname, '/sign-in/password');
    await submit({ password: 'short', confirm: 'short' }, 'Save and continue');
    assert.match((await page.locator('.field-error').first().textContent()) ?? '', /at least 12 characters/);
    await shot('03-change-password-refused');
    await submit({ password: 'the quiet ward at night', confirm: 'the quiet ward at night' }, 'Save and continue');
    assert.equal(new URL(page.url()).pathname, '/');
    assert.match((await page.getByRole('navigation', { name: 'main' }).textContent()) ?? '', /admin \(admin\)/);
    await shot('04-status-signed-in');
  });

  it('sets up two-factor from the QR code page and shows the ten backup codes once', async () => {
    await page.getByRole('link', { name: 'admin (admin)' }).click();
    await page.waitForURL('**/account');
    await shot('05-account');
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await page.waitForLoadState('load');
    const qr = page.locator('img.qr');
    // The QR code is an SVG data: URI — it must render under the CSP (img-src 'self' data:).
    assert.ok(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 100), 'the QR code renders');
    const secret = (await page.locator('.secret').textContent())!.trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    totpSecret = secret;
    await shot('06-two-factor-qr');
    await submit({ code: TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: web.clock.now() }) }, 'Turn on two-factor');
    const codes = await page.locator('ol.codes li').allTextContents();
    assert.equal(codes.filter((c) => /^[a-z2-9]{5}-[a-z2-9]{5}$/.test(c)).length, 10);
    await shot('07-backup-codes');
  });

  it('signs the admin in again with the password and then a code from the authenticator, computed here', async () => {
    const again = await browser.newPage(web.base);
    await again.goto('/sign-in');
    await again.locator('input[name="name"]').fill('admin');
    await again.locator('input[name="password"]').fill('the quiet ward at night');
    await Promise.all([again.waitForLoadState('load'), again.getByRole('button', { name: 'Sign in', exact: true }).click()]);
    assert.equal(await again.locator('h1').textContent(), 'Two-factor code');
    // The enrolment spent this 30-second step's code: the next step's is a new one.
    await web.clock.advance(30_000);
    await again.locator('input[name="code"]').fill('000000');
    await Promise.all([again.waitForLoadState('load'), again.getByRole('button', { name: 'Continue' }).click()]);
    assert.match((await again.getByRole('alert').textContent()) ?? '', /code/i);
    await again.locator('input[name="code"]').fill(TOTP.generate({ secret: Secret.fromBase32(totpSecret), timestamp: web.clock.now() }));
    await Promise.all([again.waitForURL((url) => url.pathname === '/'), again.getByRole('button', { name: 'Continue' }).click()]);
    assert.match((await again.getByRole('navigation', { name: 'main' }).textContent()) ?? '', /admin \(admin\)/);
    assert.deepEqual(browser.takeProblems(again), []);
    await again.context().close();
  });

  it('adds a viewer, who signs in with the password the admin passes on and cannot reach the user pages', async () => {
    await page.goto('/users');
    await shot('08-users');
    await submit({ name: 'radiology-desk' }, 'Add user');
    const shown = (await page.locator('.secret').textContent())!.trim();
    assert.match(shown, /^[A-Za-z0-9_-]{20}$/);
    assert.equal(await page.locator('tr[data-user="radiology-desk"] select[name="role"]').inputValue(), 'viewer');
    await shot('09-user-added');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');

    await submit({ name: 'radiology-desk', password: shown }, 'Sign in');
    await submit({ password: 'films on the lightbox', confirm: 'films on the lightbox' }, 'Save and continue');
    assert.match((await page.getByRole('navigation', { name: 'main' }).textContent()) ?? '', /radiology-desk \(viewer\)/);
    assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0, 'a viewer has no Users link');
    const refused = await page.goto('/users');
    assert.equal(refused?.status(), 403);
    assert.match((await page.locator('main').textContent()) ?? '', /your role \(viewer\) cannot do this: it needs admin or above/);
    await shot('10-viewer-refused');
  });
});
