import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import {
  ago,
  AgentCard,
  Board,
  CheckCard,
  renderStatusContent,
  sectionsOf,
  StatusContentRenderer,
  type Grouping,
  type StatusPageCheck,
  type StatusPageModel,
} from './status.page.js';

/** The board rendered by preact in one pass, cards inline: what the cached renderer must reproduce byte for byte. */
function renderedWhole(m: StatusPageModel, grouping: Grouping = { by: 'none' }, shown = m.checks): string {
  const sections = sectionsOf(shown, grouping);
  const down = m.agents.filter((a) => a.state !== 'UP');
  return renderToString(
    h(Board, {
      model: m,
      shown,
      sections,
      downAgents: down,
      agentCards: down.map((a) => h(AgentCard, { a, age: ago(m.now, a.lastSeenAt) })),
      sectionCards: (s) => s.checks.map((c) => h(CheckCard, { c, age: ago(m.now, c.lastResultAt) })),
      refreshUrl: '/status/board',
    }),
  );
}

const NOW = 1_700_000_000_000;
const XSS = '<img src=x onerror=alert(1)>';

function check(overrides: Partial<StatusPageCheck> = {}): StatusPageCheck {
  return {
    id: 'c1',
    name: 'PACS C-ECHO',
    agentId: 'a1',
    agent: 'ward-3',
    plugin: 'dicom-echo',
    status: 'OK',
    summary: 'C-ECHO answered in 12 ms',
    lastResultAt: NOW - 30_000,
    enabled: true,
    stale: null,
    tags: {},
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

describe('the status board', () => {
  it('escapes markup in a check summary sent by an agent', () => {
    const page = renderStatusContent(model({ checks: [check({ summary: `HTTP 500: ${XSS}` })] }));
    assert.ok(!page.includes(XSS), 'the summary was rendered as markup');
    // preact-render-to-string escapes < and & in text (and quotes in attributes): no tag can open; a bare > is inert.
    assert.ok(page.includes('<span class="summary">HTTP 500: &lt;img src=x onerror=alert(1)></span>'));
  });

  it('escapes markup and quotes in every agent- or user-supplied field', () => {
    const evil = `"><script>alert(1)</script>`;
    const page = renderStatusContent(
      model({
        version: evil,
        agents: [{ id: evil, name: evil, address: evil, state: evil, lastSeenAt: null, lastError: evil, checks: 0 }],
        checks: [check({ id: evil, name: evil, agent: evil, plugin: evil, status: evil, summary: evil, tags: { site: evil } })],
      }),
      { by: 'tag', key: 'site' },
    );
    assert.ok(!page.includes('<script>'), 'a script tag got through');
    assert.ok(page.includes('data-agent="&quot;>&lt;script>alert(1)&lt;/script>"'));
    assert.ok(page.includes('data-check="&quot;>&lt;script>alert(1)&lt;/script>"'));
  });

  it('shows every status as a word with a shape beside it, not as a colour alone', () => {
    const page = renderStatusContent(model({ checks: ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN', 'PENDING'].map((status, i) => check({ id: `c${i}`, status })) }));
    for (const [status, icon] of [
      ['OK', '✓'],
      ['WARNING', '▲'],
      ['CRITICAL', '✕'],
      ['UNKNOWN', '?'],
      ['PENDING', '…'],
    ])
      assert.ok(page.includes(`<span class="badge ${status}"><span aria-hidden="true">${icon} </span>${status}</span>`), status);
  });

  it('marks a stale check with a badge, says why, and counts the stale ones apart', () => {
    const page = renderStatusContent(model({ checks: [check({ stale: `agent DOWN ${XSS}` }), check({ id: 'c2' })] }));
    assert.match(page, /<li class="tile s-OK stale" data-check="c1">.*<span class="badge STALE" title="agent DOWN &lt;img/);
    assert.match(page, /stale: agent DOWN &lt;img src=x onerror=alert\(1\)><\/span>/);
    assert.match(page, /<li class="tile s-OK" data-check="c2">/);
    assert.match(page, /<span aria-hidden="true">◷ <\/span>STALE<\/span> 1 \(counted above/);
    assert.doesNotMatch(renderStatusContent(model({ checks: [check()] })), /badge STALE/);
  });

  it('counts the checks shown by status, and says how many of all they are', () => {
    const m = model({ checks: [check({ id: 'a' }), check({ id: 'b', status: 'CRITICAL' }), check({ id: 'c', status: 'CRITICAL' })] });
    const page = renderStatusContent(m);
    assert.ok(page.includes('OK</span> 1</span>'));
    assert.ok(page.includes('CRITICAL</span> 2</span>'));
    assert.ok(page.includes('WARNING</span> 0</span>'));
    assert.ok(page.includes('3 checks · 1 of 1 agents up'));
    const some = new StatusContentRenderer().render(m, {
      shown: m.checks.slice(1),
      sections: sectionsOf(m.checks.slice(1), { by: 'none' }),
      refreshUrl: '/status/board',
    });
    assert.ok(some.includes('2 of 3 checks'));
    assert.ok(some.includes('OK</span> 0</span>'));
  });

  it('puts the worst first: critical, warning, unknown, pending, then OK, by name within each', () => {
    const page = renderStatusContent(
      model({
        checks: [
          check({ id: 'ok-b', name: 'b', status: 'OK' }),
          check({ id: 'crit', name: 'z', status: 'CRITICAL' }),
          check({ id: 'ok-a', name: 'a', status: 'OK' }),
          check({ id: 'warn', name: 'y', status: 'WARNING' }),
          check({ id: 'pend', name: 'x', status: 'PENDING' }),
        ],
      }),
    );
    const order = [...page.matchAll(/data-check="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(order, ['crit', 'warn', 'pend', 'ok-a', 'ok-b']);
  });

  it('groups by agent, plugin or a tag, the checks without that tag last', () => {
    const checks = [
      check({ id: 'n1', tags: { site: 'north' }, agent: 'pacs-2', plugin: 'http' }),
      check({ id: 'x1', tags: {}, agent: 'pacs-1' }),
      check({ id: 's1', tags: { site: 'south' }, status: 'CRITICAL', agent: 'pacs-1' }),
    ];
    const titles = (g: Grouping) => sectionsOf(checks, g).map((s) => [s.title, s.checks.map((c) => c.id)]);
    assert.deepEqual(titles({ by: 'tag', key: 'site' }), [
      ['north', ['n1']],
      ['south', ['s1']],
      ['(no site)', ['x1']],
    ]);
    assert.deepEqual(titles({ by: 'agent' }), [
      ['pacs-1', ['s1', 'x1']],
      ['pacs-2', ['n1']],
    ]);
    assert.deepEqual(titles({ by: 'plugin' }), [
      ['dicom-echo', ['s1', 'x1']],
      ['http', ['n1']],
    ]);
    const page = renderStatusContent(model({ checks }), { by: 'tag', key: 'site' });
    assert.match(page, /<h2>north <span class="muted">\(1\)<\/span><\/h2>/);
  });

  it('lists the agents that are not up with their last error, and says how long ago things were seen', () => {
    const page = renderStatusContent(
      model({
        agents: [
          { id: 'a1', name: 'ward-3', address: 'h:1', state: 'DOWN', lastSeenAt: null, lastError: 'connection refused: is rounds-agent running?', checks: 0 },
          { id: 'a2', name: 'ward-4', address: 'h:2', state: 'UP', lastSeenAt: NOW, lastError: null, checks: 3 },
        ],
        checks: [
          check({ id: 'seconds', lastResultAt: NOW - 30_000 }),
          check({ id: 'minutes', lastResultAt: NOW - 10 * 60_000 }),
          check({ id: 'hours', lastResultAt: NOW - 3 * 3600_000 }),
        ],
      }),
    );
    assert.ok(page.includes('<h2 id="agents-down">Agents not up (1)</h2>'));
    assert.ok(page.includes('connection refused: is rounds-agent running?'));
    assert.ok(!page.includes('data-agent="a2"'), 'an agent that is up is not a problem card');
    assert.ok(page.includes('<span class="age">last seen never</span>'));
    assert.ok(page.includes('<span class="age">30 s ago</span>'));
    assert.ok(page.includes('<span class="age">10 min ago</span>'));
    assert.ok(page.includes('<span class="age">3 h ago</span>'));
  });

  it('marks a paused check, its name a link to its page', () => {
    const c = check({ enabled: false });
    const page = renderStatusContent(model({ checks: [c] }));
    assert.ok(page.includes(`<a class="name" href="/checks/${c.id}">PACS C-ECHO</a><span class="muted">ward-3 · dicom-echo · paused</span>`), page);
  });

  it('tells a new user how to add agents and checks when there are none', () => {
    const page = renderStatusContent(model({ agents: [], checks: [] }));
    assert.ok(page.includes('<code>rounds-agent init --config agent.yaml</code>'));
    assert.ok(page.includes('<code>POST /api/v1/checks</code>'));
    assert.ok(!page.includes('class="tiles"'));
  });

  it('asks the server for the board again on each status event, with its filters', () => {
    const m = model();
    const page = new StatusContentRenderer().render(m, {
      shown: m.checks,
      sections: sectionsOf(m.checks, { by: 'none' }),
      refreshUrl: '/status/board?state=CRITICAL&group=agent',
    });
    assert.ok(
      page.startsWith('<div id="board" hx-get="/status/board?state=CRITICAL&amp;group=agent" hx-trigger="sse:status" hx-swap="outerHTML">'),
      page.slice(0, 200),
    );
  });

  it('puts the board together from cached cards exactly as rendering it whole would, as ages move, cards change and filters differ', () => {
    const renderer = new StatusContentRenderer();
    const render = (m: StatusPageModel, grouping: Grouping = { by: 'none' }, shown = m.checks) =>
      renderer.render(m, { shown, sections: sectionsOf(shown, grouping), refreshUrl: '/status/board' });
    const base = model({
      agents: [{ id: 'a9', name: 'ward-9', address: 'h:9', state: 'DOWN', lastSeenAt: NOW - 90_000, lastError: 'refused', checks: 2 }],
      checks: [check({ id: 'c1', tags: { site: 'north' } }), check({ id: 'c2', summary: 'slow: 900 ms' })],
    });
    assert.equal(render(base), renderedWhole(base));
    assert.equal(render(base, { by: 'tag', key: 'site' }), renderedWhole(base, { by: 'tag', key: 'site' }), 'grouped, in the same round');
    assert.equal(render(base, { by: 'none' }, base.checks.slice(1)), renderedWhole(base, { by: 'none' }, base.checks.slice(1)), 'filtered');
    renderer.endRound();
    const later = { ...base, now: base.now + 7_000 };
    assert.equal(render(later), renderedWhole(later), 'only the ages moved');
    renderer.endRound();
    const changed = { ...later, checks: [check({ id: 'c1', status: 'CRITICAL', summary: 'refused <b>' }), later.checks[1]!] };
    assert.equal(render(changed), renderedWhole(changed), 'a changed card is rendered anew');
    // A summary holding the cut mark itself is rendered whole rather than cut in the wrong place.
    const marked = { ...changed, checks: [check({ id: 'c3', summary: 'x\u0000age\u0000y' })] };
    assert.equal(render(marked), renderedWhole(marked));
    const empty = model({ agents: [], checks: [] });
    assert.equal(render(empty), renderedWhole(empty));
  });
});
