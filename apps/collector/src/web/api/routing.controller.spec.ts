import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditService } from '../../audit/audit.service.js';
import { startWebTestApp, type WebTestApp } from '../testing.js';

/**
 * The HTTP contract of /api/v1/notification-policies, /notification-routing and
 * /alerts/{fingerprint}/routing: roles, field-named 400s, 404s, order, audit. The whole collector:
 * the router is the alert engine's commit's. Which policies take which alert is router.spec's,
 * escalation is escalation.spec's.
 */
describe('RoutingController (/api/v1/notification-policies, /notification-routing)', { timeout: 60_000 }, () => {
  let web: WebTestApp;
  const tokens: Record<string, string> = {};
  const call = async <T = Record<string, unknown>>(role: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${web.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[role]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : undefined) as T };
  };
  const policy = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    matchers: ['site="north"'],
    steps: [
      { after: '0s', targets: [{ channel: 'day' }] },
      { after: '15m', targets: [{ schedule: 'radiology' }] },
    ],
    ...extra,
  });
  let dayId = '';

  before(async () => {
    web = await startWebTestApp();
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      await web.addUser(`${role}-1`, role);
      tokens[role] = await web.token(`${role}-1`);
    }
    dayId = (await call<{ id: string }>('admin', 'POST', '/channels', { name: 'day', type: 'webhook', config: { url: 'http://127.0.0.1:9/' } })).json.id;
  });
  after(() => web.close());

  it('admins write policies; operators and viewers read them and get 403 on writes', async () => {
    for (const role of ['viewer', 'operator']) {
      assert.equal((await call(role, 'POST', '/notification-policies', policy('x'))).status, 403, role);
      assert.equal(
        (await call(role, 'PUT', '/notification-routing', { defaultRoute: null, workingHours: { timeZone: 'UTC', days: ['mon'], from: '08:00', to: '18:00' } }))
          .status,
        403,
        role,
      );
      assert.equal((await call(role, 'GET', '/notification-policies')).status, 200, role);
      assert.equal((await call(role, 'POST', '/notification-policies/explain', { labels: {}, severity: 'info' })).status, 200, role);
    }
  });

  it('stores a channel named by name as its id, keeps the list in judging order and audits every change', async () => {
    const first = await call<{ id: string; position: number; steps: { after: number; targets: unknown[] }[] }>(
      'admin',
      'POST',
      '/notification-policies',
      policy('north'),
    );
    assert.equal(first.status, 201);
    assert.deepEqual(first.json.steps, [
      { after: 0, targets: [{ channel: dayId }] },
      { after: 900_000, targets: [{ schedule: 'radiology' }] },
    ]);
    const second = await call<{ id: string; position: number }>(
      'admin',
      'POST',
      '/notification-policies',
      policy('CT first', { matchers: ['modality="CT"'], position: 0 }),
    );
    assert.equal(second.json.position, 0);
    const list = await call<{ name: string; position: number }[]>('viewer', 'GET', '/notification-policies');
    assert.deepEqual(
      list.json.map((p) => `${p.position} ${p.name}`),
      ['0 CT first', '1 north'],
    );
    assert.equal(list.headers.get('x-total-count'), '2');
    // A GET's answer sent back as is is a valid replacement.
    const got = await call<Record<string, unknown>>('viewer', 'GET', '/notification-policies/north');
    const { id: _id, createdAt: _c, updatedAt: _u, ...editable } = got.json;
    const replaced = await call<{ continue: boolean; position: number }>('admin', 'PUT', '/notification-policies/north', { ...editable, continue: true });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.json.continue, true);
    assert.equal((await call('admin', 'DELETE', `/notification-policies/${second.json.id}`)).status, 204);
    assert.equal((await call<{ position: number }>('viewer', 'GET', '/notification-policies/north')).json.position, 0, 'the rest move up');
    const actions = (await web.app.get(AuditService).list({ limit: 10 }))
      .filter((r) => r.action.startsWith('notification-policy.'))
      .map((r) => `${r.action} ${r.target.name}`);
    assert.deepEqual(actions.reverse(), [
      'notification-policy.create north',
      'notification-policy.create CT first',
      'notification-policy.update north',
      'notification-policy.delete CT first',
    ]);
  });

  it('answers 400 naming the field: an unknown channel, a bad zone, steps out of order', async () => {
    const res = await call<{ errors: { field: string; message: string }[] }>(
      'admin',
      'POST',
      '/notification-policies',
      policy('bad', {
        time: { timeZone: 'Europe/Nowhere', days: ['mon'], from: '08:00', to: '18:00' },
        steps: [
          { after: '10m', targets: [{ channel: 'day' }] },
          { after: '5m', targets: [{ channel: 'day' }] },
        ],
      }),
    );
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.json.errors.map((e) => e.field),
      ['time.timeZone', 'steps.1.after'],
    );
    const unknown = await call<{ errors: { field: string; message: string }[] }>('admin', 'POST', '/notification-policies', {
      name: 'bad',
      steps: [{ after: 0, targets: [{ schedule: 'x' }, { channel: 'pagerr' }] }],
    });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.json.errors, [
      {
        field: 'steps.0.targets.1.channel',
        message: 'no notification channel with id or name "pagerr" — create it first (POST /api/v1/channels) or name another',
      },
    ]);
    assert.equal((await call('admin', 'POST', '/notification-policies', policy('north'))).status, 409, 'the name is taken');
    assert.equal((await call('viewer', 'GET', '/notification-policies/nope')).status, 404);
  });

  it('explains where an alert would go and when, and the default route reaches every enabled channel', async () => {
    const at = Date.parse('2025-03-31T06:00:00Z');
    const north = await call<{ routes: string[]; steps: { dueAt: number; channels: { name: string }[]; note: string | null }[] }>(
      'viewer',
      'POST',
      '/notification-policies/explain',
      { labels: { site: 'north' }, severity: 'critical', at },
    );
    assert.equal(north.status, 200);
    assert.deepEqual(north.json.routes, ['north']);
    assert.deepEqual(
      north.json.steps.map((s) => [s.dueAt - at, s.channels.map((c) => c.name), s.note]),
      [
        [0, ['day'], null],
        [900_000, [], 'there is no on-call schedule "radiology": it reaches nobody'],
      ],
    );
    const south = await call<{ routes: string[]; policies: { why: string }[] }>('viewer', 'POST', '/notification-policies/explain', {
      labels: { site: 'south' },
      severity: 'critical',
    });
    assert.deepEqual(south.json.routes, ['default route']);
    assert.equal(south.json.policies[0]!.why, 'labels do not match site="north"');
    const bad = await call<{ errors: { field: string }[] }>('viewer', 'POST', '/notification-policies/explain', { labels: { a: 1 }, severity: 'fatal' });
    assert.deepEqual(
      bad.json.errors.map((e) => e.field),
      ['labels.a', 'severity'],
    );
  });

  it('sets the default route and the working hours, audited; an unknown alert has no routing (404)', async () => {
    const body = {
      defaultRoute: [{ after: '0s', targets: [{ channel: 'day' }] }],
      workingHours: { timeZone: 'Europe/Berlin', days: ['fri', 'mon'], from: '07:00', to: '19:00' },
    };
    const set = await call('admin', 'PUT', '/notification-routing', body);
    assert.equal(set.status, 200);
    assert.deepEqual(set.json, {
      defaultRoute: [{ after: 0, targets: [{ channel: dayId }] }],
      workingHours: { timeZone: 'Europe/Berlin', days: ['mon', 'fri'], from: '07:00', to: '19:00' },
    });
    assert.deepEqual((await call('viewer', 'GET', '/notification-routing')).json, set.json);
    const [row] = await web.app.get(AuditService).list({ limit: 1 });
    assert.equal(row!.action, 'notification-routing.set');
    assert.equal((await call('viewer', 'GET', '/alerts/no-such-alert/routing')).status, 404);
  });
});
