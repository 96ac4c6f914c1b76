import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { AgentsRepository } from '../../apps/collector/src/inventory/agents.repository.js';
import { ChecksRepository } from '../../apps/collector/src/inventory/checks.repository.js';
import { ResultWriter } from '../../apps/collector/src/polling/result-writer.js';
import type { StatusCode } from '../../apps/collector/src/storage/entities/index.js';
import { CurrentState } from '../../apps/collector/src/state/current-state.js';
import { LiveUpdates } from '../../apps/collector/src/web/live-updates.service.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { signIn, useBrowser } from './browser.js';

/**
 * The dashboard as a ward's IT person watches it, in Chromium: cards with their status in words
 * and shapes, worst first; a new result turns a card red without a reload (server-sent events,
 * then htmx fetches the board); filters and grouping swap the board in place and keep the
 * address; without JavaScript the same board and a form that filters on submit.
 */
const browser = useBrowser();

describe('the live dashboard in a browser', () => {
  let web: WebTestApp;
  let page: Page;
  let writer: ResultWriter;
  let seq = 0;
  const ids = new Map<string, { agentId: string; checkId: string }>();
  let password = '';

  async function report(name: string, status: StatusCode, summary: string): Promise<void> {
    const { agentId, checkId } = ids.get(name)!;
    seq += 1;
    await writer.write({
      agentId,
      ackSeq: seq,
      spoolEpoch: 'spec',
      results: [{ checkId, seq, startedAt: Date.now(), durationMs: 20, status, reason: status === 0 ? 'ok' : 'refused', summary, metrics: [] }],
    });
  }

  async function shot(name: string): Promise<void> {
    await browser.screenshot(page, name);
    assert.deepEqual(browser.takeProblems(page), [], `problems on ${name}`);
  }

  before(async () => {
    // Agents nobody polls (they stand for ones seen a moment ago): the spec says what they report.
    web = await startWebTestApp({ ROUNDS_POLL_INTERVAL_MS: '3600000' });
    // Events every 100 ms rather than every second: the spec waits less, the path is the same.
    web.app.get(LiveUpdates).configure({ checkEveryMs: 100 });
    const agents = new AgentsRepository(web.dataSource);
    const checks = new ChecksRepository(web.dataSource);
    writer = web.app.get(ResultWriter);
    for (const [agentName, site, checkNames] of [
      ['pacs-north', 'north', ['Orthanc REST', 'DICOM echo', 'Viewer web']],
      ['pacs-south', 'south', ['Orthanc REST', 'NAS share']],
    ] as const) {
      const agent = await agents.create({ name: agentName, host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f', tagsJson: JSON.stringify({ site }) });
      for (const name of checkNames) {
        const c = await checks.create({
          agentId: agent.id,
          name,
          plugin: name === 'NAS share' ? 'smb-share' : 'http',
          config: {},
          intervalMs: 3_600_000,
          timeoutMs: 5_000,
        });
        ids.set(`${agentName}/${name}`, { agentId: agent.id, checkId: c.id });
      }
      await web.app.get(CurrentState).refreshAgent(agent.id);
      web.app.get(CurrentState).agentPolled(agent.id, { state: 'UP', lastSeenAt: Date.now() });
    }
    for (const name of ids.keys()) await report(name, 0, 'HTTP 200 in 0.020 s');
    await report('pacs-south/NAS share', 1, 'share \\\\nas\\images 91 % full');
    password = await web.addUser('ward-it', 'viewer');
    page = await browser.newPage(web.base);
    await signIn(page, 'ward-it', password);
  });
  after(() => web.close());

  it('shows every check as a card, its status in words and a shape, worst first, with the counts', async () => {
    const cards = page.locator('#board li.tile[data-check]');
    assert.equal(await cards.count(), 5);
    const first = await cards.first().innerText();
    assert.match(first, /▲\s*WARNING/);
    assert.match(first, /NAS share/);
    assert.match(first, /share \\\\nas\\images 91 % full/);
    assert.match(await page.locator('p.counts').innerText(), /✓\s*OK\s+4/);
    assert.match(await page.locator('p.counts').innerText(), /5 checks · 2 of 2 agents up/);
    await shot('dashboard-01-cards');
  });

  it('turns a card red without a reload when its agent reports a failure', async () => {
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });
    const card = page.locator(`li[data-check="${ids.get('pacs-north/DICOM echo')!.checkId}"]`);
    assert.match(await card.innerText(), /OK/);
    await report('pacs-north/DICOM echo', 2, 'association rejected by ORTHANC (called AE title unknown)');
    await card.locator('.badge.CRITICAL').waitFor();
    assert.match(await card.innerText(), /association rejected by ORTHANC/);
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was reloaded');
    // Worst first: the new critical card leads the board.
    assert.match(await page.locator('#board li.tile[data-check]').first().innerText(), /DICOM echo/);
    await shot('dashboard-02-live-critical');
  });

  it('filters and groups in place as they are chosen, keeping the address to share or reload', async () => {
    await page.locator('select[name="state"]').selectOption('PROBLEM');
    await page.waitForURL(/state=PROBLEM/);
    await page.waitForFunction(() => document.querySelectorAll('#board li.tile[data-check]').length === 2);
    assert.match(await page.locator('p.counts').innerText(), /2 of 5 checks/);
    await page.locator('select[name="group"]').selectOption('tag:site');
    await page.waitForURL(/group=tag%3Asite/);
    await page.locator('#board h2', { hasText: 'north' }).waitFor();
    assert.deepEqual(
      (await page.locator('#board section h2').allInnerTexts()).map((t) => t.replace(/\s*\(\d+\)$/, '')),
      ['north', 'south'],
    );
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'filtering reloaded the page');
    // The filtered board stays live: a recovery leaves the problem view.
    await report('pacs-south/NAS share', 0, 'share \\\\nas\\images 60 % full');
    await page.waitForFunction(() => document.querySelectorAll('#board li.tile[data-check]').length === 1);
    await shot('dashboard-03-problems-by-site');
    // The address holds the filters: opened anew it shows the same board.
    await page.reload();
    assert.equal(await page.locator('#board li.tile[data-check]').count(), 1);
    assert.equal(await page.locator('select[name="group"]').inputValue(), 'tag:site');
  });

  it('refuses a bad tag filter beside its field and shows every check', async () => {
    const answer = await page.goto('/?tag=Not%20A%20Key');
    assert.equal(answer?.status(), 400);
    assert.match(await page.locator('#tag-error').innerText(), /key=value/);
    assert.equal(await page.locator('#board li.tile[data-check]').count(), 5);
    browser.takeProblems(page);
  });

  it('works without JavaScript: the same cards, and a form that filters on submit', async () => {
    const plain = await browser.newPage(web.base, { javaScriptEnabled: false });
    await signIn(plain, 'ward-it', password);
    assert.equal(await plain.locator('#board li.tile[data-check]').count(), 5);
    await plain.locator('input[name="q"]').fill('orthanc');
    await Promise.all([plain.waitForURL(/q=orthanc/), plain.getByRole('button', { name: 'Show' }).click()]);
    assert.equal(await plain.locator('#board li.tile[data-check]').count(), 2);
    // A browser without scripts is told to reload (the noscript refresh); with scripts the stream does it.
    assert.match(await plain.content(), /<noscript><meta http-equiv="refresh" content="30"><\/noscript>/);
    await plain.context().close();
  });
});
