import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { ago, AgentRow, CheckRow, renderStatusContent, StatusContentRenderer, StatusFrame, type StatusPageCheck, type StatusPageModel } from './status.page.js';

/** The content rendered by preact in one pass, rows inline: what the cached renderer must reproduce byte for byte. */
function renderedWhole(m: StatusPageModel): string {
  return renderToString(
    h(StatusFrame, {
      model: m,
      agentRows: m.agents.map((a) => h(AgentRow, { a, age: ago(m.now, a.lastSeenAt) })),
      checkRows: m.checks.map((c) => h(CheckRow, { c, age: ago(m.now, c.lastResultAt) })),
    }),
  );
}

const NOW = 1_700_000_000_000;
const XSS = '<img src=x onerror=alert(1)>';

function check(overrides: Partial<StatusPageCheck> = {}): StatusPageCheck {
  return {
    id: 'c1',
    name: 'PACS C-ECHO',
    agent: 'ward-3',
    plugin: 'dicom-echo',
    status: 'OK',
    summary: 'C-ECHO answered in 12 ms',
    lastResultAt: NOW - 30_000,
    enabled: true,
    stale: null,
    ...overrides,
  };
}

function model(overrides: Partial<StatusPageModel> = {}): StatusPageModel {
  return {
    version: '0.1.0',
    now: NOW,
    agents: [{ id: 'a1', name: 'ward-3', address: '10.0.4.7:7443', state: 'UP', lastSeenAt: NOW - 5_000, lastError: null, checks: 1 }],
    checks: [check()],
    ...overrides,
  };
}

describe('statusPage', () => {
  it('escapes markup in a check summary sent by an agent', () => {
    const page = renderStatusContent(model({ checks: [check({ summary: `HTTP 500: ${XSS}` })] }));
    assert.ok(!page.includes(XSS), 'the summary was rendered as markup');
    // preact-render-to-string escapes < and & in text (and quotes in attributes): no tag can open; a bare > is inert.
    assert.ok(page.includes('<td class="summary">HTTP 500: &lt;img src=x onerror=alert(1)></td>'));
  });

  it('escapes markup and quotes in every agent- or user-supplied field', () => {
    const evil = `"><script>alert(1)</script>`;
    const page = renderStatusContent(
      model({
        version: evil,
        agents: [{ id: evil, name: evil, address: evil, state: evil, lastSeenAt: null, lastError: evil, checks: 0 }],
        checks: [check({ id: evil, name: evil, agent: evil, plugin: evil, status: evil, summary: evil })],
      }),
    );
    assert.ok(!page.includes('<script>'), 'a script tag got through');
    assert.ok(page.includes('data-agent="&quot;>&lt;script>alert(1)&lt;/script>"'));
    assert.ok(page.includes('data-check="&quot;>&lt;script>alert(1)&lt;/script>"'));
  });

  it('marks a stale check with a badge, says why, and counts the stale ones apart', () => {
    const page = renderStatusContent(model({ checks: [check({ stale: `agent DOWN ${XSS}` }), check({ id: 'c2' })] }));
    assert.match(page, /<tr data-check="c1" class="stale"><td><span class="badge OK">OK<\/span> <span class="badge STALE" title="agent DOWN &lt;img/);
    assert.match(page, /stale: agent DOWN &lt;img src=x onerror=alert\(1\)><\/span>/);
    assert.doesNotMatch(page, /<tr data-check="c2" class="stale"/);
    assert.match(page, /<span class="badge STALE">STALE<\/span> 1 \(counted above/);
    assert.doesNotMatch(renderStatusContent(model({ checks: [check()] })), /badge STALE/);
  });

  it('counts checks by status', () => {
    const page = renderStatusContent(model({ checks: [check({ id: 'a' }), check({ id: 'b', status: 'CRITICAL' }), check({ id: 'c', status: 'CRITICAL' })] }));
    assert.ok(page.includes('<span class="badge OK">OK</span> 1</span>'));
    assert.ok(page.includes('<span class="badge CRITICAL">CRITICAL</span> 2</span>'));
    assert.ok(page.includes('<span class="badge WARNING">WARNING</span> 0</span>'));
    assert.ok(page.includes('<h2>Checks (3)</h2>'));
  });

  it('says how long ago results and agents were seen, and "never" when they were not', () => {
    const page = renderStatusContent(
      model({
        agents: [{ id: 'a1', name: 'ward-3', address: 'h:1', state: 'PENDING', lastSeenAt: null, lastError: null, checks: 0 }],
        checks: [
          check({ id: 'seconds', lastResultAt: NOW - 30_000 }),
          check({ id: 'minutes', lastResultAt: NOW - 10 * 60_000 }),
          check({ id: 'hours', lastResultAt: NOW - 3 * 3600_000 }),
        ],
      }),
    );
    assert.ok(page.includes('<td>never</td>'));
    assert.ok(page.includes('<td>30 s ago</td>'));
    assert.ok(page.includes('<td>10 min ago</td>'));
    assert.ok(page.includes('<td>3 h ago</td>'));
  });

  it('marks a disabled check, its name a link to its page', () => {
    const c = check({ enabled: false });
    const page = renderStatusContent(model({ checks: [c] }));
    assert.ok(page.includes(`<a href="/checks/${c.id}">PACS C-ECHO</a><span class="muted"> (disabled)</span>`), page);
  });

  it('tells a new user how to add agents and checks when there are none', () => {
    const page = renderStatusContent(model({ agents: [], checks: [] }));
    assert.ok(page.includes('<code>rounds-agent init --config agent.yaml</code>'));
    assert.ok(page.includes('<code>POST /api/v1/checks</code>'));
    assert.ok(!page.includes('<table>'));
  });

  it('puts the page together from cached rows exactly as rendering it whole would, as ages move and rows change', () => {
    const renderer = new StatusContentRenderer();
    const base = model({ checks: [check({ id: 'c1' }), check({ id: 'c2', summary: 'slow: 900 ms' })] });
    assert.equal(renderer.render(base), renderedWhole(base));
    const later = { ...base, now: base.now + 7_000 };
    assert.equal(renderer.render(later), renderedWhole(later), 'only the ages moved');
    const changed = { ...later, checks: [check({ id: 'c1', status: 'CRITICAL', summary: 'refused <b>' }), later.checks[1]!] };
    assert.equal(renderer.render(changed), renderedWhole(changed), 'a changed row is rendered anew');
    // A summary holding the cut mark itself is rendered whole rather than cut in the wrong place.
    const marked = { ...changed, checks: [check({ id: 'c3', summary: 'x\u0000age\u0000y' })] };
    assert.equal(renderer.render(marked), renderedWhole(marked));
    const empty = model({ agents: [], checks: [] });
    assert.equal(renderer.render(empty), renderedWhole(empty));
  });
});
