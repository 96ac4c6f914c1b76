import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { AlertingService } from '../../apps/collector/src/alerting/alerting.service.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { startWebhookReceiver } from '../peers/webhook.js';
import { useBrowser } from './browser.js';

/**
 * Notification channels and silences as an admin uses them in Chromium: a webhook channel added
 * against a real receiver, a test delivered and then refused in words; a silence added and
 * expired. Screenshots in test-results/screenshots.
 */
const browser = useBrowser();

describe('channels and silences in a browser', () => {
  let web: WebTestApp;
  let page: Page;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

  before(async () => {
    web = await startWebTestApp();
    receiver = await startWebhookReceiver();
    // Adding a channel is an admin's, as in the API (an operator may only test it).
    const password = await web.addUser('it-admin', 'admin');
    page = await browser.newPage(web.base);
    await page.goto('/sign-in');
    await page.locator('input[name="name"]').fill('it-admin');
    await page.locator('input[name="password"]').fill(password);
    await Promise.all([page.waitForURL('**/'), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  });
  after(async () => {
    await web.close();
    await receiver.close();
  });

  async function shot(name: string): Promise<void> {
    await browser.screenshot(page, name);
    assert.deepEqual(browser.takeProblems(page), [], `problems on ${name}`);
  }

  it('adds a webhook channel, sends a test the receiver gets, then shows a broken URL’s failure in words', async () => {
    await page.getByRole('link', { name: 'Channels' }).click();
    await page.locator('select[name="type"]').selectOption('webhook');
    await page.getByRole('button', { name: 'Choose' }).click();
    await page.locator('input[name="name"]').fill('on-call hook');
    await page.locator('input[name="config.url"]').fill(receiver.url);
    await page.getByRole('button', { name: 'Add webhook channel' }).click();
    await page.getByText('Channel added').waitFor();
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByText(/Test delivered in \d+ ms/).waitFor();
    assert.equal(receiver.deliveries.length, 1);
    assert.equal(receiver.deliveries[0]?.kind, 'test');
    assert.doesNotMatch(await page.content(), new RegExp(receiver.url.replace(/[.]/g, '\\.')), 'the URL is a secret: never shown');
    await shot('channels');

    // A port that was just free: the connection is refused.
    const gone = await startWebhookReceiver();
    await gone.close();
    await page.locator('input[name="config.url"]').fill(gone.url);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Channel saved.').waitFor();
    await page.getByRole('button', { name: 'Send test' }).click();
    const failure = page.locator('.notice.error');
    await failure.waitFor();
    assert.match((await failure.textContent()) ?? '', /^Test not delivered: .+then send another test\.$/);
    assert.equal(receiver.deliveries.length, 1, 'nothing more reached the receiver');
    await shot('channels-failed');
    await page.goto('/channels');
    await page.getByText('failing since').waitFor();
    await shot('channels-list');
  });

  it('adds a silence from the alerts page, lists it, and expires it', async () => {
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.locator('textarea[name="matchers"]').fill('agent="pacs-01"');
    await page.locator('input[name="duration"]').fill('2h');
    await page.locator('input[name="comment"]').fill('disk replacement');
    await page.getByRole('button', { name: 'Add silence' }).click();
    await page.getByText('Silence added').waitFor();
    const row = page.locator('table.silences tr', { hasText: 'disk replacement' });
    assert.match((await row.textContent()) ?? '', /agent="pacs-01"it-admindisk replacement/);
    assert.equal(
      web.app
        .get(AlertingService)
        .silences()
        .filter((s) => s.active).length,
      1,
    );
    await shot('silences');
    await row.getByRole('button', { name: 'Expire' }).click();
    await page.getByText('Silence expired.').waitFor();
    await page.getByText('No active silences.').waitFor();
    assert.equal(
      web.app
        .get(AlertingService)
        .silences()
        .filter((s) => s.active).length,
      0,
    );
  });
});
