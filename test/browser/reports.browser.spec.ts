import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { AlertingService } from '../../apps/collector/src/alerting/alerting.service.js';
import { HistoryUpkeep } from '../../apps/collector/src/history/history-upkeep.service.js';
import { AgentsRepository } from '../../apps/collector/src/inventory/agents.repository.js';
import { ChecksRepository } from '../../apps/collector/src/inventory/checks.repository.js';
import { ResultWriter } from '../../apps/collector/src/polling/result-writer.js';
import type { StatusCode } from '../../apps/collector/src/storage/entities/index.js';
import { CurrentState } from '../../apps/collector/src/state/current-state.js';
import { startWebTestApp, type WebTestApp } from '../../apps/collector/src/web/testing.js';
import { signIn, useBrowser } from './browser.js';

/**
 * The monthly SLA report as a viewer reads and prints it, in Chromium: the form, the table with
 * its total, a tag grouping, a bad month refused beside its field, the CSV link, and the print
 * layout without the header and the form. Screenshots in test-results/screenshots.
 */
const browser = useBrowser();
const NOV = Date.UTC(2026, 10, 1);
const HOUR = 3_600_000;
const OK: StatusCode = 0;
const CRITICAL: StatusCode = 2;

describe('the SLA report in a browser', () => {
  let web: WebTestApp;
  let page: Page;
  const checkIds: string[] = [];

  before(async () => {
    web = await startWebTestApp();
    const ds = web.dataSource;
    const agents = new AgentsRepository(ds);
    const checks = new ChecksRepository(ds);
    const writer = web.app.get(ResultWriter);
    let seq = 0;
    for (const [name, site, okEvery] of [
      ['pacs-north', 'north', 0],
      ['pacs-south', 'south', 10],
    ] as const) {
      const agent = await agents.create(
        { name, host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f', tagsJson: JSON.stringify({ site }) },
        Date.now(),
        undefined,
      );
      for (const check of ['DICOM echo', 'Orthanc']) {
        const c = await checks.create({ agentId: agent.id, name: check, plugin: 'tcp', config: {}, intervalMs: HOUR, timeoutMs: 5_000 });
        // Hourly through November; pacs-south fails one hour in ten.
        const results = Array.from({ length: 30 * 24 }, (_, i) => ({
          checkId: c.id,
          seq: ++seq,
          startedAt: NOV + i * HOUR,
          durationMs: 12,
          status: okEvery && i % okEvery === 0 ? CRITICAL : OK,
          reason: '',
          summary: 'connected',
          metrics: [{ name: 'connect_seconds', value: 0.01 + (i % 7) / 1000, unit: 'seconds' }],
        }));
        await writer.write({ agentId: agent.id, results, ackSeq: seq, spoolEpoch: 'spec' });
        checkIds.push(c.id);
      }
      await web.app.get(CurrentState).refreshAgent(agent.id);
    }
    // A ward PC with host metrics since December 1st: nothing in November's report, charts on its page.
    const pc = await agents.create({ name: 'ward-pc', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f', tagsJson: JSON.stringify({ site: 'north' }) });
    const host = await checks.create({ agentId: pc.id, name: 'host', plugin: 'host-metrics', config: {}, intervalMs: HOUR, timeoutMs: 5_000 });
    const DEC = Date.UTC(2026, 11, 1);
    const hourly = Array.from({ length: Math.floor((Date.now() - DEC) / HOUR) }, (_, i) => ({
      checkId: host.id,
      seq: ++seq,
      startedAt: DEC + i * HOUR,
      durationMs: 40,
      status: OK,
      reason: '',
      summary: 'cpu 20 %, memory 61 %',
      metrics: [
        { name: 'cpu_usage_ratio', value: 0.2 + (i % 5) / 100, unit: 'ratio' },
        { name: 'filesystem_used_ratio', value: 0.61, unit: 'ratio', labels: { mount: '/' } },
        { name: 'processes', value: 210, unit: '' },
      ],
    }));
    await writer.write({ agentId: pc.id, results: hourly, ackSeq: seq, spoolEpoch: 'spec' });
    await web.app.get(CurrentState).refreshAgent(pc.id);
    await web.app.get(HistoryUpkeep).rollUp();
    const password = await web.addUser('quality-office', 'viewer');
    page = await browser.newPage(web.base);
    await signIn(page, 'quality-office', password);
  });
  after(() => web.close());

  async function shot(name: string): Promise<void> {
    await browser.screenshot(page, name);
    assert.deepEqual(browser.takeProblems(page), [], `problems on ${name}`);
  }

  it('shows November per check with a total, reached from the Reports link', async () => {
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.waitForURL('**/reports/sla');
    await page.locator('input[name="month"]').fill('2026-11');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Show' }).click()]);
    assert.match(page.url(), /month=2026-11/);
    const rows = await page.locator('table.report tbody tr').allInnerTexts();
    assert.equal(rows.length, 5);
    assert.match(
      rows.find((r) => r.includes('ward-pc'))!,
      /0\s+0\s+0\s+0\s+0\s+—/,
      'no results in November: no figure, not 0 %',
    );
    assert.match(
      rows.find((r) => r.includes('pacs-south'))!,
      /720\s+648\s+0\s+72\s+0\s+90\.000 %/,
    );
    assert.match(
      rows.find((r) => r.includes('pacs-north'))!,
      /720\s+720\s+0\s+0\s+0\s+100\.000 %/,
    );
    assert.match(await page.locator('table.report tfoot').innerText(), /All\s+2880\s+2736\s+0\s+144\s+0\s+95\.000 %/);
    await shot('sla-01-by-check');
  });

  it('groups by a tag’s values, refuses a bad month beside its field, and links the same report as CSV', async () => {
    await page.goto('/reports/sla?month=2026-11&by=tag&key=site');
    const rows = await page.locator('table.report tbody tr').allInnerTexts();
    assert.deepEqual(
      rows.map((r) => r.split('\t')[0]),
      ['north', 'south'],
    );
    await shot('sla-02-by-site');

    const csv = await page.request.get((await page.getByRole('link', { name: 'Download as CSV' }).getAttribute('href'))!);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /\r\n2026-11,south,,1440,1296,0,144,0,90\.000,0\r\n/);

    const bad = await page.goto('/reports/sla?month=2026-13');
    assert.equal(bad?.status(), 400);
    assert.equal(await page.locator('#month-error').innerText(), 'must be a month like 2026-11');
    assert.equal(await page.locator('table.report').count(), 0);
    await shot('sla-03-bad-month');
  });

  it('shows a check’s page from the status page: state, uptime, the duration and metric charts drawn, incidents and latest results', async () => {
    await page.goto('/');
    await Promise.all([page.waitForURL(`**/checks/${checkIds[2]}`), page.locator(`a[href="/checks/${checkIds[2]}"]`).click()]);
    await page.getByRole('link', { name: '30 days' }).click();
    await page.waitForURL('**range=30d');
    assert.equal(await page.locator('h1').innerText(), 'DICOM echo');
    // The same figure as the API's for the range the page drew (its chart's URL names it).
    const range = new URL((await page.locator('[data-kind="latency"]').getAttribute('data-chart'))!, web.base).searchParams;
    const api = (await (await page.request.get(`/api/v1/checks/${checkIds[2]}/uptime?from=${range.get('from')}&to=${range.get('to')}`)).json()) as {
      uptimePercent: number;
      ok: number;
      results: number;
    };
    assert.ok(api.results > 600 && api.uptimePercent < 91 && api.uptimePercent > 89, JSON.stringify(api));
    assert.equal(
      await page.locator('p.uptime').innerText(),
      `Uptime over the last 30 days: ${api.uptimePercent.toFixed(3)} % (${api.ok} of ${api.results} results OK).`,
    );
    await page.waitForSelector('[data-chart][data-drawn]');
    await page.waitForFunction(() => document.querySelectorAll('[data-chart]').length === document.querySelectorAll('[data-chart][data-drawn]').length);
    assert.equal(await page.locator('[data-chart] canvas').count(), 2, 'the duration chart and the connect_seconds chart');
    assert.equal(await page.locator('[data-failed]').count(), 0);
    assert.equal(await page.locator('table').last().locator('tbody tr').count(), 20, 'the latest 20 results');
    // Its state history: a failure every ten hours is two changes each time, more than the page lists.
    const states = await page.locator('table.states tbody tr').allInnerTexts();
    assert.equal(states.length, 50);
    assert.match(states[0]!, /OK.*until now\s+CRITICAL/s, 'the newest first: OK since the last failure, and still');
    assert.match(states[1]!, /CRITICAL\s+1\.0 h\s+OK/, 'the failure before it lasted its hour');
    assert.match(await page.getByText('Older changes in this range are not listed').innerText(), /all of them as JSON/);
    await shot('check-01-page');
  });

  it('shows an agent’s page: its checks linked, its host metrics charted, the telling ones first', async () => {
    await page.goto('/');
    await Promise.all([page.waitForURL('**/agents/*'), page.getByRole('link', { name: 'ward-pc' }).click()]);
    assert.equal(await page.locator('h1').innerText(), 'ward-pc');
    assert.deepEqual(await page.locator('table tbody a').allInnerTexts(), ['host']);
    await page.waitForFunction(() => document.querySelectorAll('[data-chart]').length === document.querySelectorAll('[data-chart][data-drawn]').length);
    assert.deepEqual((await page.locator('h2').allInnerTexts()).slice(2), ['cpu_usage_ratio', 'filesystem_used_ratio {mount="/"}', 'processes']);
    assert.equal(await page.locator('[data-chart] canvas').count(), 3);
    await shot('agent-01-page');
  });

  it('shows times in the viewer’s own time zone, UTC kept in the title', async () => {
    const tokyo = await browser.newPage(web.base, { timezoneId: 'Asia/Tokyo' });
    await tokyo.context().addCookies(await page.context().cookies());
    await tokyo.goto(`/checks/${checkIds[2]}?range=30d`);
    const first = tokyo.locator('table').last().locator('time').first();
    // The latest result started 2026-11-30 23:00 UTC: 08:00 on December 1st in Tokyo.
    assert.equal(await first.getAttribute('title'), '2026-11-30 23:00 UTC');
    assert.match(await first.innerText(), /12\/01\/2026, 08:00 GMT\+9/);
    // A chosen range, typed in Tokyo time: the form knows the viewer's zone, and so does the answer.
    assert.equal(await tokyo.locator('input[name="tz"]').inputValue(), 'Asia/Tokyo');
    await tokyo.locator('input[name="from"]').fill('2026-11-10T09:00');
    await tokyo.locator('input[name="to"]').fill('2026-11-11T09:00');
    await Promise.all([tokyo.waitForURL(/tz=Asia%2FTokyo/), tokyo.getByRole('button', { name: 'Show' }).click()]);
    const [from, to] = [Date.UTC(2026, 10, 10), Date.UTC(2026, 10, 11)];
    const api = (await (await tokyo.request.get(`/api/v1/checks/${checkIds[2]}/uptime?from=${from}&to=${to}`)).json()) as { ok: number; results: number };
    assert.equal(api.results, 24);
    assert.match(
      await tokyo.locator('p.uptime').innerText(),
      new RegExp(`^Uptime from 11/10/2026, 09:00 GMT\\+9 to 11/11/2026, 09:00 GMT\\+9: .* \\(${api.ok} of 24 results OK\\)\\.$`),
    );
    assert.equal(new URL((await tokyo.locator('[data-kind="latency"]').getAttribute('data-chart'))!, web.base).searchParams.get('from'), String(from));
    await browser.screenshot(tokyo, 'check-02-chosen-range');
    assert.deepEqual(browser.takeProblems(tokyo), []);
    await tokyo.context().close();
  });

  it('lists every check with search and filters by agent, plugin, state and tag', async () => {
    await Promise.all([page.waitForURL('**/checks'), page.getByRole('link', { name: 'Checks', exact: true }).click()]);
    const names = async () => page.locator('table tbody tr td:nth-child(2) a').allInnerTexts();
    assert.equal((await names()).length, 5);
    await page.locator('select[name="agent"]').selectOption('pacs-south');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Filter' }).click()]);
    assert.deepEqual(await names(), ['DICOM echo', 'Orthanc']);
    await page.goto('/checks?tag=site%3Dnorth&q=o');
    assert.deepEqual((await names()).sort(), ['DICOM echo', 'Orthanc', 'host']);
    await page.goto('/checks?plugin=host-metrics');
    assert.deepEqual(await names(), ['host']);
    await shot('checks-01-filtered');
    const bad = await page.goto('/checks?tag=Bad!');
    assert.equal(bad?.status(), 400);
    assert.match(await page.locator('#tag-error').innerText(), /key=value/);
  });

  it('reads without JavaScript: the charts’ figures as text', async () => {
    const plain = await browser.newPage(web.base, { javaScriptEnabled: false });
    await plain.context().addCookies(await page.context().cookies());
    await plain.goto(`/checks/${checkIds[2]}?range=30d`);
    assert.match(await plain.locator('[data-kind="latency"]').innerText(), /^Duration over \d{3} results: average 12 ms, lowest 12 ms, highest 12 ms\.$/);
    assert.equal(await plain.locator('canvas').count(), 0);
    await browser.screenshot(plain, 'check-02-without-javascript');
    await plain.context().close();
  });

  it('lets an operator acknowledge a firing alert with a comment and a term; a blank comment is refused beside the field', async () => {
    const alerting = web.app.get(AlertingService);
    const pc = web.app.get(CurrentState).findAgent('ward-pc')!.agent;
    alerting.agentDown({ id: pc.id, name: pc.name }, 'connection refused');
    await alerting.tick();
    const password = await web.addUser('ward-lead', 'operator');
    const op = await browser.newPage(web.base);
    await signIn(op, 'ward-lead', password);
    await Promise.all([op.waitForURL('**/alerts'), op.getByRole('link', { name: 'Alerts' }).click()]);
    const row = op.locator('table.alerts tr', { hasText: 'AgentUnreachable' });
    assert.match(await row.innerText(), /FIRING/);

    await row.locator('input[name="comment"]').fill('   ');
    await Promise.all([op.waitForLoadState('load'), row.getByRole('button', { name: 'Acknowledge' }).click()]);
    assert.match(await op.locator('table.alerts tr', { hasText: 'AgentUnreachable' }).locator('.field-error').innerText(), /needs a comment/);
    await browser.screenshot(op, 'alerts-01-refused');

    const again = op.locator('table.alerts tr', { hasText: 'AgentUnreachable' });
    await again.locator('input[name="comment"]').fill('network team is on it');
    await again.locator('select[name="for"]').selectOption('4h');
    await Promise.all([op.waitForURL('**/alerts?done=ack'), again.getByRole('button', { name: 'Acknowledge' }).click()]);
    assert.match(await op.getByRole('status').innerText(), /Acknowledged/);
    assert.match(
      await op.locator('table.alerts tr', { hasText: 'AgentUnreachable' }).innerText(),
      /ward-lead: network team is on it\s+until \d\d\/\d\d\/20\d\d, \d\d:\d\d/,
    );
    assert.deepEqual(browser.takeProblems(op), []);
    await browser.screenshot(op, 'alerts-02-acknowledged');
    await op.context().close();
    const [audit] = await web.dataSource.query<{ actor: string }[]>("SELECT actor FROM audit_log WHERE action = 'alert.ack'");
    assert.equal(audit?.actor, 'ward-lead');

    // The viewer sees the acknowledgement, and no form.
    await page.goto('/alerts');
    assert.equal(await page.locator('form.ack').count(), 0);
    assert.match(await page.locator('table.alerts tr', { hasText: 'AgentUnreachable' }).innerText(), /network team is on it/);
  });

  it('prints the table without the header and the form', async () => {
    await page.goto('/reports/sla?month=2026-11');
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('header.top').isVisible(), false);
    assert.equal(await page.locator('form.report-filter').isVisible(), false);
    assert.equal(await page.locator('table.report').isVisible(), true);
    await shot('sla-04-print');
    await page.emulateMedia({ media: 'screen' });
  });
});
