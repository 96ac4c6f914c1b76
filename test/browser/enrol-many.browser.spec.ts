import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { LiveUpdates } from '../../apps/collector/src/web/live-updates.service.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { freePort, startAgent, type AgentHandle } from '../e2e/harness.js';
import { signIn, useBrowser } from './browser.js';

const browser = useBrowser();

/**
 * An admin enrols many agents in Chromium: makes the site key on the page, the agents are
 * installed with it, the list is read from a file, each line's progress shows without a reload,
 * the fingerprints shown are the ones the agents print, and one click approves them.
 */
describe('enrolling many agents in a browser, against real agents', { timeout: 180_000 }, () => {
  let web: WebTestApp;
  let page: Page;
  const agents: AgentHandle[] = [];

  async function shot(name: string): Promise<void> {
    await browser.screenshot(page, name);
    assert.deepEqual(browser.takeProblems(page), [], `problems on ${name}`);
  }

  before(async () => {
    web = await startWebTestApp({ ROUNDS_POLL_INTERVAL_MS: '1000', ROUNDS_POLL_TIMEOUT_MS: '3000' }, { realTime: true });
    web.app.get(LiveUpdates).configure({ checkEveryMs: 200 });
    const password = await web.addUser('it-admin', 'admin');
    page = await browser.newPage(web.base);
    await signIn(page, 'it-admin', password);
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.proc.stop()));
    await web?.close();
  });

  it('makes the site key, reads the list from a file, shows each line as it goes and approves the agents by their fingerprints', async () => {
    await page.goto('/agents');
    await Promise.all([page.waitForURL('**/agents/enrol-many'), page.getByRole('link', { name: 'Enrol many agents with the site key' }).click()]);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Make a site key' }).click()]);
    const key = (await page.locator('[data-site-key]').innerText()).trim();
    assert.match(key, /^[A-Za-z0-9][A-Za-z0-9_-]{42}$/);

    const started = await Promise.allSettled(['ward-a', 'ward-b'].map((name) => startAgent(name, { initArgs: ['--site-key', key] })));
    for (const s of started) if (s.status === 'fulfilled') agents.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const dead = await freePort();
    const csv = `name,address,tags\n${agents.map((a) => `${a.name},127.0.0.1:${a.port},site=east`).join('\n')}\nward-gone,127.0.0.1:${dead}\n`;

    // The file field appears only with scripts, and fills the text box with what the file holds.
    await page.locator('input[type=file][data-fills="enrol-csv"]').setInputFiles({ name: 'agents.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForFunction(() => (document.getElementById('enrol-csv') as HTMLTextAreaElement).value.includes('ward-gone'));
    await Promise.all([page.waitForURL('**/agents/enrol-many?done=submitted'), page.getByRole('button', { name: 'Contact these agents' }).click()]);

    // No reload from here: the block fetches itself while lines are under way.
    await page.getByRole('heading', { name: 'Waiting for approval (2)' }).waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Not enrolled (1)' }).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('tr[data-enrolment="ward-gone"]').innerText(), /refused the connection/);
    for (const a of agents) {
      const printed = /certificate sha256 ([0-9a-f]{64})/.exec(a.proc.output)?.[1];
      const shown = (await page.locator(`tr[data-enrolment="${a.name}"] pre.fingerprint`).innerText()).replace(/[:\s]/g, '').toLowerCase();
      assert.equal(shown, printed, `${a.name}: the fingerprint to compare`);
    }
    await shot('agents-enrol-many-01-waiting');

    await Promise.all([
      page.waitForURL('**/agents/enrol-many?done=approved'),
      page.getByRole('button', { name: 'The fingerprints match: approve these 2 agents' }).click(),
    ]);
    await page.getByRole('heading', { name: 'Enrolled (2)' }).waitFor({ timeout: 30_000 });
    await shot('agents-enrol-many-02-enrolled');
    await page.goto('/agents');
    for (const a of agents) assert.match(await page.locator('table tbody tr', { hasText: a.name }).innerText(), /site=east/);
  });
});
