import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { parseEnrolment } from '#rounds/common';
import { AgentCallError, AgentClientPool } from '../../apps/collector/src/inventory/agent-client.pool.js';
import { AuditService } from '../../apps/collector/src/audit/audit.service.js';
import { LiveUpdates } from '../../apps/collector/src/web/live-updates.service.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { FIXTURES, startAgent, type AgentHandle } from '../e2e/harness.js';
import { signIn, useBrowser } from './browser.js';

/**
 * An operator adds an http check to a real agent in Chromium: the form made from the plugin's
 * JSON Schema, "test now" run by the agent, the save, the card turning green — then red without
 * a reload when the web server it watches stops; bad fields refused beside them; pause, clone
 * and delete from the check's page, each in the audit log.
 */
const browser = useBrowser();

describe('adding and changing checks in a browser, against a real agent', { timeout: 180_000 }, () => {
  let web: WebTestApp;
  let agent: AgentHandle;
  let target: Server;
  let targetUrl = '';
  let page: Page;
  let checkId = '';

  async function shot(name: string): Promise<void> {
    await browser.screenshot(page, name);
    assert.deepEqual(browser.takeProblems(page), [], `problems on ${name}`);
  }

  before(async () => {
    target = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('PACS web viewer up'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/viewer`;
    // With the fixture plugin folder: a custom plugin (fixture-queue) the collector knows only from the agent.
    agent = await startAgent('ward-pc', { pluginDir: join(FIXTURES, 'plugins') });
    web = await startWebTestApp(
      { ROUNDS_POLL_INTERVAL_MS: '1000', ROUNDS_POLL_TIMEOUT_MS: '3000', ROUNDS_DOWN_AFTER: '2', ROUNDS_MAX_BACKOFF_MS: '2000' },
      { realTime: true },
    );
    web.app.get(LiveUpdates).configure({ checkEveryMs: 200 });
    const password = await web.addUser('it-lead', 'operator');
    page = await browser.newPage(web.base);
    await signIn(page, 'it-lead', password);
  });
  after(async () => {
    await agent?.proc.stop();
    await web?.close();
    target?.close();
  });

  it('enrols the agent by pasting its enrolment string, after comparing its certificate fingerprint', async () => {
    await Promise.all([page.waitForURL('**/agents'), page.getByRole('link', { name: 'Agents', exact: true }).click()]);
    await page.locator('input[name="name"]').fill('ward-pc');
    await page.locator('textarea[name="enrol"]').fill('rounds://not-an-enrolment');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Next: check the fingerprint' }).click()]);
    assert.match(await page.locator('#enrol-enrol-error').innerText(), /rounds-agent init/);
    await page.locator('textarea[name="enrol"]').fill(agent.enrolment);
    await page.locator('textarea[name="tags"]').fill('site=north');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Next: check the fingerprint' }).click()]);
    const { fingerprint, token } = parseEnrolment(agent.enrolment);
    const shown = (await page.locator('pre.fingerprint').innerText()).replace(/[:\s]/g, '').toLowerCase();
    assert.equal(shown, fingerprint);
    assert.ok(!(await page.content()).includes(token), 'the agent token is in the page in clear');
    await shot('agents-01-confirm-fingerprint');
    await Promise.all([page.waitForURL(/\/agents\/[0-9a-f-]{36}\?done=enrolled/), page.getByRole('button', { name: 'They match: enrol ward-pc' }).click()]);
    assert.match(await page.locator('.notice.ok').innerText(), /Agent enrolled/);
    await page.goto('/agents');
    assert.match(await page.locator('table tbody tr', { hasText: 'ward-pc' }).innerText(), /site=north/);
    await shot('agents-02-list');
  });

  it('rotates the agent’s token from its page: the agent refuses the old one, and polling goes on (the checks below turn green and red)', async () => {
    await Promise.all([page.waitForURL('**/agents/*'), page.getByRole('link', { name: 'ward-pc' }).click()]);
    await Promise.all([page.waitForURL(/\?done=rotated/), page.getByRole('button', { name: 'Rotate token' }).click()]);
    assert.match(await page.locator('.notice.ok').innerText(), /Token rotated: the agent took the new token and no longer accepts the old one/);
    const old = parseEnrolment(agent.enrolment);
    const pool = new AgentClientPool();
    try {
      await assert.rejects(pool.describe({ id: 'old', name: 'ward-pc', ...old }, 5000), (e: AgentCallError) => e.code === 'unauthenticated');
    } finally {
      pool.closeAll();
    }
    await shot('agents-03-token-rotated');
  });

  it('adds an http check through the form made from its schema, tests it on the agent, saves it and sees it turn green', async () => {
    await Promise.all([page.waitForURL('**/checks'), page.getByRole('link', { name: 'Checks', exact: true }).click()]);
    await Promise.all([page.waitForURL('**/checks/new'), page.getByRole('link', { name: 'Add a check' }).click()]);
    assert.equal(await page.locator('#f-agent').inputValue(), 'ward-pc', 'the one agent is chosen already');
    await page.locator('#f-plugin').selectOption('http');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Show its fields' }).click()]);
    // Fields from the http plugin's JSON Schema: a text box for the URL, a list for the method, the default said.
    assert.match(await page.locator('label[for="f-config-url"]').innerText(), /Absolute http:\/\/ or https:\/\/ URL/);
    assert.match(await page.locator('label[for="f-config-method"]').innerText(), /Method/);
    assert.equal(await page.locator('#f-config-method option').first().innerText(), 'default (GET)');
    await page.locator('#f-name').fill('PACS web viewer');
    await page.locator('#f-interval').fill('2s');
    await page.locator('#f-timeout').fill('1s');
    await page.locator('#f-config-url').fill(targetUrl);
    await page.locator('#f-config-bodyContains').fill('viewer up');
    // While the agent runs the test the button says so: seen here with the submission itself held back in the page.
    const busy = await page.evaluate(() => {
      const hold = (e: Event) => e.preventDefault();
      document.addEventListener('submit', hold);
      const button = document.querySelector<HTMLButtonElement>('button[value="test"]')!;
      button.click();
      const seen = [button.textContent, button.form!.getAttribute('aria-busy')];
      document.removeEventListener('submit', hold);
      button.form!.removeAttribute('aria-busy');
      button.textContent = 'Test now';
      return seen;
    });
    assert.deepEqual(busy, ['Testing on the agent…', 'true']);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Test now' }).click()]);
    const tested = page.locator('section[aria-labelledby="tested"]');
    assert.match(await tested.innerText(), /Test run:\s*✓\s*OK/);
    assert.match(await tested.innerText(), /HTTP 200/);
    assert.equal(await page.locator('#f-config-url').inputValue(), targetUrl, 'what was typed stays in the form');
    await shot('check-form-01-tested');

    await Promise.all([page.waitForURL(/\/checks\/[0-9a-f-]{36}\?done=created/), page.getByRole('button', { name: 'Save' }).click()]);
    checkId = /\/checks\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    assert.match(await page.locator('.notice.ok').innerText(), /Check added/);
    await page.goto('/');
    await page.locator(`li[data-check="${checkId}"] .badge.OK`).waitFor({ timeout: 20_000 });
    await shot('check-form-02-green');
  });

  it('turns the card red without a reload when the web server it watches stops', async () => {
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });
    await new Promise<void>((resolve) => target.close(() => resolve()));
    target.closeAllConnections();
    await page.locator(`li[data-check="${checkId}"] .badge.CRITICAL`).waitFor({ timeout: 20_000 });
    assert.match(await page.locator(`li[data-check="${checkId}"]`).innerText(), /refused|ECONNREFUSED/i);
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was reloaded');
    await shot('check-form-03-red-live');
  });

  it('refuses bad fields beside them and keeps what was typed', async () => {
    await page.goto(`/checks/new?agent=ward-pc&plugin=tcp`);
    await page.locator('#f-name').fill('PACS DICOM port');
    await page.locator('#f-interval').fill('soon');
    await page.locator('#f-config-host').fill('pacs.example');
    await page.locator('#f-config-port').fill('eleven thousand');
    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Save' }).click()]);
    assert.equal(answer.status(), 400);
    await page.waitForLoadState('load');
    assert.match(await page.locator('#f-interval-error').innerText(), /duration like 30s/);
    assert.match(await page.locator('#f-config-port-error').innerText(), /whole number/);
    assert.equal(await page.locator('#f-config-host').inputValue(), 'pacs.example');
    await page.locator('#f-interval').fill('30s');
    await page.locator('#f-config-port').fill('70000');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Save' }).click()]);
    assert.match(await page.locator('#f-config-port-error').innerText(), /65535/);
    await shot('check-form-04-errors');
  });

  it('makes the form of a custom plugin from the schema its agent reports, and tests it there', async () => {
    await page.goto('/checks/new?agent=ward-pc&plugin=fixture-queue');
    assert.match(await page.locator('main').innerText(), /reports the depth of a made-up message queue/);
    assert.match(await page.locator('label[for="f-config-queue"]').innerText(), /default: inbound/, 'its default, from the agent’s schema');
    await page.locator('#f-name').fill('RIS inbound queue');
    await page.locator('#f-config-depth').fill('7');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Test now' }).click()]);
    assert.match(await page.locator('section[aria-labelledby="tested"]').innerText(), /✓\s*OK[\s\S]*7 messages waiting in inbound/);
    await shot('check-form-06-custom-plugin');
    await Promise.all([page.waitForURL(/\/checks\/[0-9a-f-]{36}\?done=created/), page.getByRole('button', { name: 'Save' }).click()]);
    const id = /\/checks\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await page.goto('/');
    await page.locator(`li[data-check="${id}"] .badge.OK`).waitFor({ timeout: 20_000 });
    assert.match(await page.locator(`li[data-check="${id}"]`).innerText(), /7 messages waiting in inbound/);
  });

  it('pauses, clones and deletes from the check’s page, each in the audit log', async () => {
    await page.goto(`/checks/${checkId}`);
    await Promise.all([page.waitForURL(/done=paused/), page.getByRole('button', { name: 'Pause' }).click()]);
    assert.match(await page.locator('h1').innerText(), /\(paused\)/);
    await Promise.all([page.waitForURL(/\/checks\/new\?clone=/), page.getByRole('link', { name: 'Clone' }).click()]);
    assert.equal(await page.locator('#f-name').inputValue(), 'PACS web viewer (copy)');
    assert.equal(await page.locator('#f-config-url').inputValue(), targetUrl);
    await Promise.all([page.waitForURL(/done=created/), page.getByRole('button', { name: 'Save' }).click()]);
    const cloneId = /\/checks\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    assert.notEqual(cloneId, checkId);
    await Promise.all([page.waitForURL(/\/delete$/), page.getByRole('link', { name: 'Delete' }).click()]);
    assert.match(await page.locator('main').innerText(), /cannot be undone/);
    await shot('check-form-05-delete-confirm');
    await Promise.all([page.waitForURL(/\/checks\?done=deleted/), page.getByRole('button', { name: 'Delete the check' }).click()]);
    const actions = (await web.app.get(AuditService).list({ limit: 20 })).filter((e) => e.actor === 'it-lead').map((e) => e.action);
    for (const action of ['agent.enrol', 'agent.rotate-token', 'check.create', 'check.update', 'check.delete'])
      assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
    assert.deepEqual(browser.takeProblems(page), []);
  });
});
