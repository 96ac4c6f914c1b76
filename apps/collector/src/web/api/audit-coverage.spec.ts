import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSiteKey } from '#rounds/common';
import { AlertingService } from '../../alerting/alerting.service.js';
import { AuditService } from '../../audit/audit.service.js';
import type { AuditEntry } from '../../audit/audit.types.js';
import { startAgent, type AgentHandle } from '../../../../../test/e2e/harness.js';
import { FakeBrowser, startWebTestApp, type WebTestApp } from '../testing.js';

/** `METHOD /api/v1/…` of every route of the running app that may change something, read from its router. */
function writeRoutes(web: WebTestApp): string[] {
  const app = web.app.getHttpAdapter().getInstance() as { router?: { stack: Layer[] }; _router?: { stack: Layer[] } };
  const stack = (app.router ?? app._router)?.stack ?? [];
  return stack.flatMap((layer) =>
    layer.route && layer.route.path.startsWith('/api/')
      ? Object.keys(layer.route.methods)
          .filter((m) => ['post', 'put', 'patch', 'delete'].includes(m))
          .map((m) => `${m.toUpperCase()} ${layer.route!.path}`)
      : [],
  );
}
interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * Write routes that change nothing Rounds keeps, so leave no audit row — each with why. A route
 * here must still exist (the spec checks), so the list cannot outlive what it excuses.
 */
const CHANGES_NOTHING: Record<string, string> = {
  'POST /api/v1/checks/:id/run': '"check now": the agent runs the check and the result is returned, not stored',
  'POST /api/v1/channels/:id/test': 'sends a test message; the channel and the outbox are left as they were',
  'POST /api/v1/channels/:id/preview': 'renders what the channel would send; sends and stores nothing',
  'POST /api/v1/channels/preview': 'renders what a channel not saved yet would send; sends and stores nothing',
  'POST /api/v1/enrolments/approve':
    'needs an agent that answered the site key; its audit row (enrolment.approve) is asserted in enrolments.service.spec and site-enrolment.e2e',
  'POST /api/v1/config/plan': 'works out what an apply would change and writes nothing',
  'POST /api/v1/notification-policies/explain': 'works out where an alert would be routed and writes nothing',
};

/**
 * Every change through the API leaves an audit row naming who (the token's owner) and what (the
 * object's id, name or kind). The routes come from the app's router: a write route added later
 * fails "covers every write route" until a step below calls it.
 */
describe('the audit log records every change made through the API', { timeout: 120_000 }, () => {
  let web: WebTestApp;
  let token = '';
  const called = new Set<string>();
  const ids: Record<string, string> = {};
  let password = '';
  // A real agent: rotating its token needs one that answers.
  let agent: AgentHandle;

  /** Calls `route` (its `:params` filled from `path`) and returns the answer and the audit rows it added. */
  async function change(route: string, path: string, body?: unknown): Promise<{ json: Record<string, unknown>; rows: AuditEntry[] }> {
    const [method] = route.split(' ');
    const audit = web.app.get(AuditService);
    const [newest] = await audit.list({ limit: 1 });
    const res = await fetch(`${web.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${route}: ${res.status} ${text}`);
    called.add(route);
    const rows = (await audit.list({ limit: 100 })).filter((r) => r.id > (newest?.id ?? 0));
    return { json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, rows };
  }

  /** The call left a row by the caller about `target` (its id, name or kind, as the row names it). */
  async function audited(route: string, path: string, target: { id?: string; name?: string; kind?: string }, body?: unknown) {
    const { json, rows } = await change(route, path, body);
    assert.ok(rows.length > 0, `${route} left no audit row`);
    const row = rows.find(
      (r) =>
        (target.id === undefined || r.target.id === target.id) &&
        (target.name === undefined || r.target.name === target.name) &&
        (target.kind === undefined || r.target.kind === target.kind),
    );
    assert.ok(row, `${route}: no row about ${JSON.stringify(target)} among ${JSON.stringify(rows.map((r) => [r.action, r.target]))}`);
    assert.equal(row.actor, 'auditor', `${route}: the row's actor`);
    assert.equal(row.source, 'api', `${route}: the row's source`);
    return json;
  }

  before(async () => {
    [web, agent] = await Promise.all([startWebTestApp(), startAgent('audited')]);
    password = await web.addUser('auditor', 'admin');
    token = await web.token('auditor');
  });
  after(async () => {
    await agent?.proc.stop();
    await web?.close();
  });

  it('agents, checks, policies, channels, alerts, rules, silences and maintenance windows', async () => {
    const enrol = agent.enrolment;
    ids.agent = String((await audited('POST /api/v1/agents', '/api/v1/agents', { name: 'pacs-01' }, { name: 'pacs-01', enrol })).id);
    await audited('PATCH /api/v1/agents/:id', `/api/v1/agents/${ids.agent}`, { id: ids.agent }, { tags: { site: 'north' } });
    await audited('POST /api/v1/agents/:id/rotate-token', `/api/v1/agents/${ids.agent}/rotate-token`, { id: ids.agent });

    const check = { agent: 'pacs-01', name: 'web', plugin: 'http', config: { url: 'http://127.0.0.1:9/' } };
    ids.check = String((await audited('POST /api/v1/checks', '/api/v1/checks', { name: 'web' }, check)).id);
    await audited('PATCH /api/v1/checks/:id', `/api/v1/checks/${ids.check}`, { id: ids.check }, { intervalMs: '30s' });
    await audited('PUT /api/v1/checks/:id/policy', `/api/v1/checks/${ids.check}/policy`, { id: ids.check }, { failuresBeforeHard: 5 });

    const channel = { name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } };
    ids.channel = String((await audited('POST /api/v1/channels', '/api/v1/channels', { name: 'hook' }, channel)).id);
    await audited('PATCH /api/v1/channels/:id', `/api/v1/channels/${ids.channel}`, { id: ids.channel }, { enabled: false });

    const policy = { name: 'north', matchers: ['site="north"'], steps: [{ after: '0s', targets: [{ channel: 'hook' }] }] };
    ids.policy = String((await audited('POST /api/v1/notification-policies', '/api/v1/notification-policies', { name: 'north' }, policy)).id);
    await audited('PUT /api/v1/notification-policies/:ref', '/api/v1/notification-policies/north', { id: ids.policy }, { ...policy, continue: true });
    await audited('DELETE /api/v1/notification-policies/:ref', `/api/v1/notification-policies/${ids.policy}`, { id: ids.policy });
    const routing = { defaultRoute: null, workingHours: { timeZone: 'Europe/Berlin', days: ['mon'], from: '08:00', to: '18:00' } };
    await audited('PUT /api/v1/notification-routing', '/api/v1/notification-routing', { kind: 'notification-routing' }, routing);

    await audited('PUT /api/v1/alert-rules', '/api/v1/alert-rules', { kind: 'alert-rules' }, [
      { name: 'slow', metric: 'http_duration_seconds', op: '>', value: 2 },
    ]);
    const silence = await audited(
      'POST /api/v1/silences',
      '/api/v1/silences',
      { kind: 'silence' },
      { matchers: ['agent="pacs-01"'], comment: 'racks', duration: '2h' },
    );
    await audited('DELETE /api/v1/silences/:id', `/api/v1/silences/${String(silence.id)}`, { id: String(silence.id) });
    const windowBody = { name: 'backup', kind: 'weekly', timeZone: 'Europe/Berlin', start: '02:00', end: '04:00', days: ['sun'] };
    const window = await audited('POST /api/v1/maintenance-windows', '/api/v1/maintenance-windows', { name: 'backup' }, windowBody);
    // By its name, as a person would name it.
    await audited('DELETE /api/v1/maintenance-windows/:id', '/api/v1/maintenance-windows/backup', { id: String(window.id) });
    // Configuration as code: the exported document with one window more, applied — the window's row names it as its own route's does.
    const exported = (await (await fetch(`${web.base}/api/v1/config?secrets=true`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      maintenance?: unknown[];
    };
    const document = { ...exported, maintenance: [...(exported.maintenance ?? []), { ...windowBody, name: 'applied' }] };
    await audited('POST /api/v1/config/apply', '/api/v1/config/apply', { name: 'applied' }, { document });

    // An alert to acknowledge: the agent unreachable, as the poller would report it.
    const alerting = web.app.get(AlertingService);
    alerting.agentDown({ id: ids.agent, name: 'pacs-01' }, 'connection refused');
    await alerting.tick();
    const [alert] = alerting.alerts();
    assert.ok(alert, 'the agent-unreachable alert fires');
    await audited('POST /api/v1/alerts/:fingerprint/ack', `/api/v1/alerts/${alert.fingerprint}/ack`, { id: alert.fingerprint }, { comment: 'on it' });
    await audited('DELETE /api/v1/alerts/:fingerprint/ack', `/api/v1/alerts/${alert.fingerprint}/ack`, { id: alert.fingerprint });
  });

  it('users, tokens and sessions', async () => {
    await audited('POST /api/v1/users', '/api/v1/users', { name: 'someone' }, { name: 'someone', role: 'viewer' });
    await audited('PATCH /api/v1/users/:name', '/api/v1/users/someone', { name: 'someone' }, { role: 'operator' });
    await audited('POST /api/v1/users/:name/reset-password', '/api/v1/users/someone/reset-password', { name: 'someone' });
    await audited('POST /api/v1/users/:name/reset-2fa', '/api/v1/users/someone/reset-2fa', { name: 'someone' });

    // A token is named with its owner in the log: `auditor/ci`.
    const made = (await audited('POST /api/v1/tokens', '/api/v1/tokens', { name: 'auditor/ci' }, { name: 'ci' })) as { view: { id: string } };
    const rotated = (await audited('POST /api/v1/tokens/:id/rotate', `/api/v1/tokens/${made.view.id}/rotate`, { name: 'auditor/ci' })) as {
      view: { id: string };
    };
    await audited('DELETE /api/v1/tokens/:id', `/api/v1/tokens/${rotated.view.id}`, { id: rotated.view.id });

    // Two browser sessions of the token's owner: one ended by id, then the other by "end all".
    for (let i = 0; i < 2; i++) assert.equal((await new FakeBrowser(web.base).signIn('auditor', password)).status, 303);
    const sessions = (await (await fetch(`${web.base}/api/v1/sessions`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string }[];
    assert.equal(sessions.length, 2);
    await audited('DELETE /api/v1/sessions/:id', `/api/v1/sessions/${sessions[0]!.id}`, { name: 'auditor' });
    await audited('DELETE /api/v1/sessions', '/api/v1/sessions', { name: 'auditor' });
    await audited('POST /api/v1/me/password', '/api/v1/me/password', { name: 'auditor' }, { current: password, password: `${password}-new` });
  });

  it('the site key and lists of agents to enrol', async () => {
    await audited('POST /api/v1/site-key', '/api/v1/site-key', { kind: 'site-key' });
    await audited('PUT /api/v1/site-key', '/api/v1/site-key', { kind: 'site-key' }, { key: makeSiteKey() });
    await audited('DELETE /api/v1/site-key', '/api/v1/site-key', { kind: 'site-key' });
    await change('POST /api/v1/site-key', '/api/v1/site-key');
    // The second line repeats the first's name: it fails at once, and a failed line can be dismissed.
    const list = (await audited(
      'POST /api/v1/agents/enrol',
      '/api/v1/agents/enrol',
      { kind: 'enrolment-list' },
      { csv: 'ct-01,127.0.0.1:9\nct-01,127.0.0.1:10\n' },
    )) as {
      enrolments: { id: string; state: string; name: string }[];
    };
    const failed = list.enrolments.find((e) => e.state === 'failed');
    assert.ok(failed, 'the repeated name fails');
    await audited('DELETE /api/v1/enrolments/:id', `/api/v1/enrolments/${failed.id}`, { id: failed.id });
  });

  it('on-call schedules and their overrides', async () => {
    const schedule = {
      name: 'pacs-team',
      timeZone: 'Europe/Berlin',
      rotations: [{ users: ['auditor', 'someone'], handoff: { interval: 'weekly' }, start: '2026-01-05' }],
      contacts: { someone: [ids.channel] },
    };
    ids.schedule = String((await audited('POST /api/v1/on-call/schedules', '/api/v1/on-call/schedules', { name: 'pacs-team' }, schedule)).id);
    await audited('PUT /api/v1/on-call/schedules/:schedule', '/api/v1/on-call/schedules/pacs-team', { id: ids.schedule }, { ...schedule, timeZone: 'UTC' });
    const override = await audited(
      'POST /api/v1/on-call/schedules/:schedule/overrides',
      `/api/v1/on-call/schedules/${ids.schedule}/overrides`,
      { id: ids.schedule },
      { user: 'someone', start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' },
    );
    await audited('DELETE /api/v1/on-call/schedules/:schedule/overrides/:override', `/api/v1/on-call/schedules/pacs-team/overrides/${String(override.id)}`, {
      id: ids.schedule,
    });
    await audited('DELETE /api/v1/on-call/schedules/:schedule', '/api/v1/on-call/schedules/pacs-team', { id: ids.schedule });
  });

  it('deleting checks, channels and agents', async () => {
    await audited('DELETE /api/v1/checks/:id', `/api/v1/checks/${ids.check}`, { id: ids.check });
    await audited('DELETE /api/v1/channels/:id', `/api/v1/channels/${ids.channel}`, { id: ids.channel });
    await audited('DELETE /api/v1/agents/:id', `/api/v1/agents/${ids.agent}`, { id: ids.agent });
  });

  it("covers every write route of the app's router (a new one must be added above or excused with a reason)", () => {
    const routes = writeRoutes(web);
    assert.ok(routes.length >= 30, `only ${routes.length} write routes found: ${routes.join(', ')}`);
    for (const excused of Object.keys(CHANGES_NOTHING)) assert.ok(routes.includes(excused), `${excused} is excused but no longer a route`);
    const missed = routes.filter((r) => !called.has(r) && !(r in CHANGES_NOTHING));
    assert.deepEqual(missed, []);
  });
});
