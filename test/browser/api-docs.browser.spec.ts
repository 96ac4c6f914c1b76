import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openApiDocument } from '../../apps/collector/src/web/api/openapi/document.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { SCREENSHOT_DIR, signIn, useBrowser } from './browser.js';

/**
 * /api/docs as a signed-in viewer sees it in Chromium: Swagger UI, served by the collector,
 * renders every operation of the document without a CSP violation, and "Try it out" calls the
 * API with the browser's session — a change too, which carries the session's CSRF token.
 * Screenshots in test-results/screenshots (api-docs.png: the first screen).
 */
const browser = useBrowser();

describe('the API docs page in a browser', () => {
  let web: WebTestApp;

  before(async () => {
    web = await startWebTestApp();
  });
  after(() => web.close());

  it('sends a browser that is not signed in to the sign-in page', async () => {
    const page = await browser.newPage(web.base);
    await page.goto('/api/docs');
    assert.match(page.url(), /\/sign-in\?next=%2Fapi%2Fdocs$/);
  });

  it('shows every operation of the document to a viewer, with no CSP violation, and runs calls with the session', async () => {
    const password = await web.addUser('vera', 'viewer');
    const page = await browser.newPage(web.base);
    await signIn(page, 'vera', password);
    await page.goto('/api/docs');
    const operations = page.locator('.opblock');
    await operations.first().waitFor();
    const documented = Object.values(openApiDocument().paths ?? {}).reduce((n, item) => n + Object.keys(item as object).length, 0);
    assert.equal(await operations.count(), documented);
    await page.locator('.info .title', { hasText: 'Rounds collector API' }).waitFor();

    // A read: GET /api/v1/me answers who is signed in.
    const me = page.locator('#operations-me-getMe');
    await me.locator('.opblock-summary').click();
    await me.locator('.try-out__btn').click();
    await me.locator('.execute').click();
    await me.locator('.live-responses-table .response-col_status', { hasText: '200' }).waitFor();
    assert.match(await me.locator('.live-responses-table .microlight').first().innerText(), /"name": "vera"/);
    await me.screenshot({ path: join(SCREENSHOT_DIR, 'api-docs-try.png') });

    // A change (DELETE /api/v1/sessions ends the others): refused without the session's CSRF token, so this shows it is sent.
    const endAll = page.locator('#operations-sessions-deleteSessions');
    await endAll.locator('.opblock-summary').click();
    await endAll.locator('.try-out__btn').click();
    await endAll.locator('.execute').click();
    await endAll.locator('.live-responses-table .response-col_status', { hasText: '200' }).waitFor();

    await endAll.locator('.opblock-summary').click();
    await browser.screenshot(page, 'api-docs-full');
    // The first screen, with GET /me run: the picture for the README.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.setViewportSize({ width: 1280, height: 1100 });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'api-docs.png') });
    await page.locator('section.models').screenshot({ path: join(SCREENSHOT_DIR, 'api-docs-models.png') });
    assert.deepEqual(browser.takeProblems(page), []);
  });
});
