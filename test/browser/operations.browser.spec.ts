import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { SPEC_AUDIT } from '../../apps/collector/src/audit/testing.js';
import { scheduleDto } from '../../apps/collector/src/on-call/on-call.dto.js';
import { OnCallService } from '../../apps/collector/src/on-call/on-call.service.js';
import { localInputValue } from '../../apps/collector/src/web/page-range.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { signIn, useBrowser } from './browser.js';

/**
 * What is left of the operator's day in Chromium: a maintenance window created from its form, the
 * audit log showing that change under the operator's name to an admin, an account locked after
 * five wrong passwords — the sixth try refused even with the right one, in words —, and an admin
 * handing the on-call shift to someone else from the On call page.
 */
const browser = useBrowser();

describe('maintenance, the audit log, the lockout and on call in a browser', () => {
  let web: WebTestApp;
  let page: Page;
  const passwords = new Map<string, string>();

  before(async () => {
    web = await startWebTestApp({ ROUNDS_POLL_INTERVAL_MS: '3600000' });
    passwords.set('ward-lead', await web.addUser('ward-lead', 'operator'));
    passwords.set('it-admin', await web.addUser('it-admin', 'admin'));
    passwords.set('night-shift', await web.addUser('night-shift', 'viewer'));
    page = await browser.newPage(web.base);
    await signIn(page, 'ward-lead', passwords.get('ward-lead')!);
    const schedule = scheduleDto.parse({
      name: 'pacs-team',
      timeZone: 'Europe/Berlin',
      rotations: [{ name: 'days', users: ['it-admin', 'ward-lead'], handoff: { interval: 'daily', at: '08:00' }, start: '2026-01-05' }],
    });
    await web.app.get(OnCallService).create(schedule, SPEC_AUDIT);
  });
  after(() => web.close());

  it('creates a maintenance window from its form, in a named time zone', async () => {
    await Promise.all([page.waitForURL('**/maintenance'), page.getByRole('link', { name: 'Maintenance' }).click()]);
    await page.locator('input[name="name"]').fill('PACS upgrade');
    await page.locator('select[name="kind"]').selectOption('weekly');
    await page.locator('input[name="timeZone"]').fill('Europe/Berlin');
    await page.locator('input[name="start"]').fill('22:00');
    await page.locator('input[name="end"]').fill('02:00');
    await page.locator('input[name="days"][value="sat"]').check();
    await page.locator('textarea[name="matchers"]').fill('agent="pacs-north"');
    await page.locator('input[name="comment"]').fill('vendor upgrade, CAB-1142');
    await Promise.all([page.waitForURL(/done=added/), page.getByRole('button', { name: 'Add window' }).click()]);
    assert.match(await page.locator('main').innerText(), /PACS upgrade/);
    assert.match(await page.locator('main').innerText(), /vendor upgrade, CAB-1142/);
    await browser.screenshot(page, 'operations-01-maintenance');
    assert.deepEqual(browser.takeProblems(page), []);
  });

  it('shows the change in the audit log to an admin, under the operator’s name', async () => {
    const admin = await browser.newPage(web.base);
    await signIn(admin, 'it-admin', passwords.get('it-admin')!);
    await Promise.all([admin.waitForURL('**/audit'), admin.getByRole('link', { name: 'Audit log' }).click()]);
    await admin.locator('input[name="actor"]').fill('ward-lead');
    await Promise.all([admin.waitForURL(/actor=ward-lead/), admin.getByRole('button', { name: 'Filter' }).click()]);
    const rows = await admin.locator('main table tbody tr').allInnerTexts();
    assert.ok(
      rows.some((r) => /maintenance/.test(r) && /ward-lead/.test(r)),
      `no maintenance change by ward-lead in the audit log: ${rows.join(' | ')}`,
    );
    await browser.screenshot(admin, 'operations-02-audit');
    assert.deepEqual(browser.takeProblems(admin), []);
    await admin.context().close();
  });

  // Before the lockout below: it locks this client address for every account.
  it('lets an admin hand the on-call shift to someone else from the On call page', async () => {
    const admin = await browser.newPage(web.base, { timezoneId: 'Europe/Berlin' });
    await signIn(admin, 'it-admin', passwords.get('it-admin')!);
    await Promise.all([admin.waitForURL('**/on-call'), admin.getByRole('link', { name: 'On call' }).click()]);
    assert.match(await admin.locator('.on-call-now').innerText(), /On call now: (it-admin|ward-lead) \(days\)/);
    await admin.locator('summary', { hasText: 'Add an override' }).click();
    await admin.locator('select[name="user"]').selectOption('night-shift');
    // The schedule's zone, as the form says; the app's clock is the spec's.
    await admin.locator('input[name="start"]').fill(localInputValue(web.clock.now() - 30 * 60_000, 'Europe/Berlin'));
    await admin.locator('input[name="end"]').fill(localInputValue(web.clock.now() + 4 * 3_600_000, 'Europe/Berlin'));
    await admin.locator('input[name="comment"]').fill('covering the night, INC-2291');
    await Promise.all([admin.waitForURL(/done=override-added/), admin.getByRole('button', { name: 'Add override' }).click()]);
    assert.match(await admin.locator('.notice.ok').innerText(), /Override added\./);
    assert.match(await admin.locator('.on-call-now').innerText(), /On call now: night-shift \(override\)/);
    assert.match(await admin.locator('table.overrides').innerText(), /night-shift[\s\S]*covering the night, INC-2291[\s\S]*it-admin/);
    await browser.screenshot(admin, 'operations-04-on-call');
    assert.deepEqual(browser.takeProblems(admin), []);
    await admin.context().close();
  });

  it('locks an account after five wrong passwords and says so, even to the right one', async () => {
    const stranger = await browser.newPage(web.base);
    await stranger.goto('/sign-in');
    for (let i = 0; i < 5; i++) {
      await stranger.locator('input[name="name"]').fill('night-shift');
      await stranger.locator('input[name="password"]').fill(`wrong-password-${i}`);
      await Promise.all([stranger.waitForLoadState('load'), stranger.getByRole('button', { name: 'Sign in', exact: true }).click()]);
    }
    await stranger.locator('input[name="name"]').fill('night-shift');
    await stranger.locator('input[name="password"]').fill(passwords.get('night-shift')!);
    const [answer] = await Promise.all([
      stranger.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/sign-in')),
      stranger.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    assert.equal(answer.status(), 429);
    await stranger.waitForLoadState('load');
    assert.match(await stranger.locator('main').innerText(), /try again|locked|too many/i);
    assert.ok(!stranger.url().endsWith('/'), 'the locked account was let in');
    await browser.screenshot(stranger, 'operations-03-locked');
    await stranger.context().close();
  });
});
