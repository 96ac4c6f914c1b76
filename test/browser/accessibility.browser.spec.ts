import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { AgentsRepository } from '../../apps/collector/src/inventory/agents.repository.js';
import { ChecksRepository } from '../../apps/collector/src/inventory/checks.repository.js';
import { ResultWriter } from '../../apps/collector/src/polling/result-writer.js';
import { SPEC_AUDIT } from '../../apps/collector/src/audit/testing.js';
import { scheduleDto } from '../../apps/collector/src/on-call/on-call.dto.js';
import { OnCallService } from '../../apps/collector/src/on-call/on-call.service.js';
import { CurrentState } from '../../apps/collector/src/state/current-state.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { signIn, useBrowser } from './browser.js';

/** axe-core (MPL-2.0), the accessibility engine most audits use; run in the page by the test, not served by the collector. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: { target: string[] }[];
}

/** The serious and critical WCAG 2.1 A/AA violations on the page, one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  // evaluate() runs as the debugger, outside the page's Content-Security-Policy, which refuses inline scripts.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
}

const browser = useBrowser();

/**
 * Every main page as a person using a screen reader, a keyboard or a phone meets it: no serious
 * axe-core violation (WCAG 2.1 A and AA: labels, contrast, names, structure), and on a phone-sized
 * screen no page is wider than the screen.
 */
describe('accessibility of the pages, and the phone-sized layout', { timeout: 180_000 }, () => {
  let web: WebTestApp;
  let page: Page;
  let password = '';
  const paths: string[] = [];

  before(async () => {
    web = await startWebTestApp({ ROUNDS_POLL_INTERVAL_MS: '3600000' });
    const agent = await new AgentsRepository(web.dataSource).create({
      name: 'pacs-north',
      host: '127.0.0.1',
      port: 9,
      token: 't',
      fingerprint: 'f',
      tagsJson: '{"site":"north"}',
    });
    const checks = new ChecksRepository(web.dataSource);
    const ok = await checks.create({
      agentId: agent.id,
      name: 'Orthanc REST',
      plugin: 'http',
      config: { url: 'http://127.0.0.1:9' },
      intervalMs: 60_000,
      timeoutMs: 5_000,
    });
    const bad = await checks.create({
      agentId: agent.id,
      name: 'DICOM echo',
      plugin: 'tcp',
      config: { host: '127.0.0.1', port: 104 },
      intervalMs: 60_000,
      timeoutMs: 5_000,
    });
    await web.app.get(CurrentState).refreshAgent(agent.id);
    let seq = 0;
    for (const [c, status, summary] of [
      [ok, 0, 'HTTP 200 in 0.020 s'],
      [bad, 2, 'connection refused: nothing listens on 127.0.0.1:104'],
    ] as const) {
      seq += 1;
      await web.app.get(ResultWriter).write({
        agentId: agent.id,
        ackSeq: seq,
        spoolEpoch: 'spec',
        results: [
          {
            checkId: c.id,
            seq,
            startedAt: Date.now() - 60_000,
            durationMs: 20,
            status,
            reason: '',
            summary,
            metrics: [{ name: 'connect_seconds', value: 0.002, unit: 'seconds' }],
          },
        ],
      });
    }
    paths.push(
      '/',
      '/?state=PROBLEM&group=tag:site',
      '/checks',
      `/checks/${ok.id}`,
      `/checks/${ok.id}/edit`,
      `/checks/new?agent=pacs-north&plugin=http`,
      '/agents',
      '/agents/enrol-many',
      `/agents/${agent.id}`,
      '/alerts',
      '/maintenance',
      '/on-call',
      '/channels',
      '/channels?type=smtp',
      '/reports/sla',
      '/account',
      '/users',
      '/audit',
      '/settings',
    );
    password = await web.addUser('it-admin', 'admin');
    // A schedule, so that /on-call shows its tables and the admin's form rather than the empty state.
    const onCall = web.app.get(OnCallService);
    const schedule = await onCall.create(
      scheduleDto.parse({
        name: 'pacs-team',
        timeZone: 'Europe/Berlin',
        rotations: [{ users: ['it-admin'], handoff: { interval: 'weekly' }, start: '2026-01-05' }],
      }),
      SPEC_AUDIT,
    );
    await onCall.addOverride(
      schedule.id,
      { user: 'it-admin', start: Date.now() + 86_400_000, end: Date.now() + 2 * 86_400_000, comment: 'holiday cover' },
      SPEC_AUDIT,
    );
    page = await browser.newPage(web.base);
    await signIn(page, 'it-admin', password);
  });
  after(() => web.close());

  it('has no serious or critical axe-core violation on any main page, nor on the sign-in page', async () => {
    const found: string[] = [];
    for (const path of paths) {
      const answer = await page.goto(path);
      assert.equal(answer?.status(), 200, path);
      found.push(...(await seriousViolations(page)).map((v) => `${path}: ${v}`));
    }
    const signedOut = await browser.newPage(web.base);
    await signedOut.goto('/sign-in');
    found.push(...(await seriousViolations(signedOut)).map((v) => `/sign-in: ${v}`));
    await signedOut.context().close();
    assert.deepEqual(found, []);
    assert.deepEqual(browser.takeProblems(page), []);
  });

  it('fits a phone: no page is wider than the screen, and the dashboard shows one card a row', async () => {
    const phone = await browser.newPage(web.base);
    await phone.setViewportSize({ width: 390, height: 844 });
    await signIn(phone, 'it-admin', password);
    const wide: string[] = [];
    for (const path of paths) {
      await phone.goto(path);
      const { scroll, screen } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, screen: window.innerWidth }));
      if (scroll > screen) wide.push(`${path}: ${scroll} px wide on a ${screen} px screen`);
    }
    assert.deepEqual(wide, []);
    await phone.goto('/');
    const boxes = await phone.locator('#board li.tile').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left));
    assert.ok(boxes.length >= 2 && boxes.every((x) => x === boxes[0]), `cards side by side on a phone: ${boxes.join(', ')}`);
    await browser.screenshot(phone, 'phone-01-dashboard');
    await phone.goto(paths[3]!);
    await browser.screenshot(phone, 'phone-02-check');
    assert.deepEqual(browser.takeProblems(phone), []);
    await phone.context().close();
  });
});
