import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AccessLevel } from '../auth/access.decorator.js';
import { roleAtLeast } from '../auth/principal.js';
import { USER_ROLES, type UserRole } from '../users/user.entity.js';
import { FAVICON_PATH } from './views/favicon.js';
import { STYLESHEET_PATH } from './views/stylesheet.js';
import { registeredRoutes, startWebTestApp, type WebTestApp } from './testing.js';

/**
 * Who may call what: every route the collector serves, with the least role it needs. A route
 * added without a line here fails the first test; a line here wrong about the route fails the walk.
 */
const ROUTES: Record<string, AccessLevel> = {
  'GET /': 'viewer',
  'GET /settings': 'admin',
  'GET /status/board': 'viewer',
  'GET /live': 'viewer',
  [`GET ${STYLESHEET_PATH}`]: 'public',
  [`GET ${FAVICON_PATH}`]: 'public',
  'GET /healthz': 'public',
  'GET /metrics': 'public',
  'GET /sign-in': 'public',
  'POST /sign-in': 'public',
  'GET /sign-in/two-factor': 'public',
  'POST /sign-in/two-factor': 'public',
  'GET /sign-in/password': 'public',
  'POST /sign-in/password': 'public',
  'GET /sign-in/enrol': 'public',
  'POST /sign-in/enrol': 'public',
  'POST /sign-out': 'public',
  'GET /account': 'self',
  'GET /reports/sla': 'viewer',
  'GET /checks': 'viewer',
  'GET /checks/:id': 'viewer',
  'POST /checks/:id/run': 'operator',
  'GET /checks/new': 'operator',
  'POST /checks/new': 'operator',
  'GET /checks/:id/edit': 'operator',
  'POST /checks/:id/edit': 'operator',
  'POST /checks/:id/pause': 'operator',
  'POST /checks/:id/resume': 'operator',
  'GET /checks/:id/delete': 'operator',
  'POST /checks/:id/delete': 'operator',
  'GET /agents': 'viewer',
  'POST /agents/enrol': 'operator',
  'GET /agents/enrol-many': 'admin',
  'POST /agents/enrol-many': 'admin',
  'POST /agents/enrol-many/approve': 'admin',
  'POST /agents/enrol-many/:id/dismiss': 'admin',
  'POST /agents/site-key': 'admin',
  'POST /agents': 'operator',
  'GET /agents/:id/delete': 'operator',
  'POST /agents/:id/delete': 'operator',
  'POST /agents/:id/rotate-token': 'operator',
  'GET /agents/:id': 'viewer',
  'GET /alerts': 'viewer',
  'GET /audit': 'admin',
  'GET /maintenance': 'viewer',
  'POST /maintenance': 'operator',
  'POST /maintenance/:id/delete': 'operator',
  'GET /on-call': 'viewer',
  'POST /on-call/:schedule/overrides': 'admin',
  'POST /on-call/:schedule/overrides/:id/delete': 'admin',
  'GET /channels': 'viewer',
  'POST /channels': 'admin',
  'GET /channels/:id': 'viewer',
  'POST /channels/:id': 'admin',
  'POST /channels/:id/delete': 'admin',
  'POST /channels/:id/test': 'operator',
  'POST /alerts/:fingerprint/ack': 'operator',
  'POST /alerts/:fingerprint/unack': 'operator',
  'POST /alerts/silences': 'operator',
  'POST /alerts/silences/:id/expire': 'operator',
  'GET /assets/:file': 'public',
  'POST /account/password': 'self',
  'POST /account/two-factor': 'self',
  'POST /account/two-factor/confirm': 'self',
  'POST /account/backup-codes': 'self',
  'POST /account/sessions/end-others': 'self',
  'POST /account/sessions/:id/end': 'self',
  'POST /account/tokens': 'self',
  'POST /account/tokens/:id/revoke': 'self',
  'GET /users': 'admin',
  'POST /users': 'admin',
  'POST /users/:name/role': 'admin',
  'POST /users/:name/disable': 'admin',
  'POST /users/:name/enable': 'admin',
  'POST /users/:name/reset-password': 'admin',
  'POST /users/:name/reset-2fa': 'admin',
  'GET /api/v1/settings': 'admin',
  'GET /api/v1/collectors': 'admin',
  'GET /api/v1/roles': 'viewer',
  'POST /api/v1/me/password': 'self',
  'GET /api/v1/agents': 'viewer',
  'GET /api/v1/agents/:id': 'viewer',
  'POST /api/v1/agents': 'operator',
  'PATCH /api/v1/agents/:id': 'operator',
  'DELETE /api/v1/agents/:id': 'operator',
  'POST /api/v1/agents/:id/rotate-token': 'operator',
  'POST /api/v1/agents/enrol': 'admin',
  'GET /api/v1/enrolments': 'admin',
  'GET /api/v1/enrolments/:id': 'admin',
  'POST /api/v1/enrolments/approve': 'admin',
  'DELETE /api/v1/enrolments/:id': 'admin',
  'GET /api/v1/site-key': 'admin',
  'POST /api/v1/site-key': 'admin',
  'PUT /api/v1/site-key': 'admin',
  'DELETE /api/v1/site-key': 'admin',
  'GET /api/v1/checks': 'viewer',
  'GET /api/v1/checks/:id': 'viewer',
  'POST /api/v1/checks': 'operator',
  'PATCH /api/v1/checks/:id': 'operator',
  'DELETE /api/v1/checks/:id': 'operator',
  'GET /api/v1/checks/:id/results': 'viewer',
  'GET /api/v1/checks/:id/history': 'viewer',
  'GET /api/v1/checks/:id/uptime': 'viewer',
  'GET /api/v1/checks/:id/state-history': 'viewer',
  'GET /api/v1/agents/:id/uptime': 'viewer',
  'GET /api/v1/tags': 'viewer',
  'GET /api/v1/checks/:id/series': 'viewer',
  'GET /api/v1/checks/:id/series/:series/history': 'viewer',
  'GET /api/v1/agents/:id/series': 'viewer',
  'GET /api/v1/agents/:id/series/:series/history': 'viewer',
  'GET /api/v1/tags/:tag/uptime': 'viewer',
  'GET /api/v1/checks/:id/incidents': 'viewer',
  'GET /api/v1/reports/sla.csv': 'viewer',
  'POST /api/v1/checks/:id/run': 'operator',
  'GET /api/v1/channels': 'viewer',
  'GET /api/v1/channels/:id': 'viewer',
  'POST /api/v1/channels': 'admin',
  'PATCH /api/v1/channels/:id': 'admin',
  'GET /api/v1/config': 'admin',
  'POST /api/v1/config/plan': 'admin',
  'POST /api/v1/config/apply': 'admin',
  'DELETE /api/v1/channels/:id': 'admin',
  'POST /api/v1/channels/:id/test': 'operator',
  'POST /api/v1/channels/:id/preview': 'operator',
  'POST /api/v1/channels/preview': 'operator',
  'GET /api/v1/channels/:id/deliveries': 'viewer',
  'GET /api/v1/on-call/schedules': 'viewer',
  'GET /api/v1/on-call/schedules/:schedule': 'viewer',
  'POST /api/v1/on-call/schedules': 'admin',
  'PUT /api/v1/on-call/schedules/:schedule': 'admin',
  'DELETE /api/v1/on-call/schedules/:schedule': 'admin',
  'POST /api/v1/on-call/schedules/:schedule/overrides': 'admin',
  'DELETE /api/v1/on-call/schedules/:schedule/overrides/:override': 'admin',
  'GET /api/v1/on-call/schedules/:schedule/now': 'viewer',
  'GET /api/v1/on-call/schedules/:schedule/timeline': 'viewer',
  'GET /api/v1/notification-policies': 'viewer',
  'GET /api/v1/notification-policies/:ref': 'viewer',
  'POST /api/v1/notification-policies': 'admin',
  'POST /api/v1/notification-policies/explain': 'viewer',
  'PUT /api/v1/notification-policies/:ref': 'admin',
  'DELETE /api/v1/notification-policies/:ref': 'admin',
  'GET /api/v1/notification-routing': 'viewer',
  'PUT /api/v1/notification-routing': 'admin',
  'GET /api/v1/alerts/:fingerprint/routing': 'viewer',
  'GET /api/v1/alerts': 'viewer',
  'GET /api/v1/alerts/history': 'viewer',
  'GET /api/v1/alerts/:fingerprint': 'viewer',
  'POST /api/v1/alerts/:fingerprint/ack': 'operator',
  'DELETE /api/v1/alerts/:fingerprint/ack': 'operator',
  'GET /api/v1/alert-rules': 'viewer',
  'GET /api/v1/alert-rules/forecasts': 'viewer',
  'PUT /api/v1/alert-rules': 'operator',
  'GET /api/v1/silences': 'viewer',
  'POST /api/v1/silences': 'operator',
  'DELETE /api/v1/silences/:id': 'operator',
  'GET /api/v1/maintenance-windows': 'viewer',
  'POST /api/v1/maintenance-windows': 'operator',
  'DELETE /api/v1/maintenance-windows/:id': 'operator',
  'GET /api/v1/checks/:id/policy': 'viewer',
  'PUT /api/v1/checks/:id/policy': 'operator',
  'GET /api/v1/audit': 'admin',
  'GET /api/v1/audit.csv': 'admin',
  'GET /api/v1/users': 'admin',
  'POST /api/v1/users': 'admin',
  'PATCH /api/v1/users/:name': 'admin',
  'POST /api/v1/users/:name/reset-password': 'admin',
  'POST /api/v1/users/:name/reset-2fa': 'admin',
  'GET /api/v1/me': 'self',
  'GET /api/v1/sessions': 'self',
  'DELETE /api/v1/sessions/:id': 'self',
  'DELETE /api/v1/sessions': 'self',
  'GET /api/v1/tokens': 'self',
  'POST /api/v1/tokens': 'self',
  'DELETE /api/v1/tokens/:id': 'self',
  'POST /api/v1/tokens/:id/rotate': 'self',
  'GET /api/v1/openapi.json': 'viewer',
  'GET /api/docs': 'viewer',
};

/** The answer's status, its body read — or, for an event stream (which never ends), left unread. */
async function call(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) await res.body?.cancel();
  else await res.arrayBuffer();
  return res;
}

const fill = (path: string) => path.replace(/:(\w+)/g, (_, param: string) => `no-such-${param}`);

describe('access: every route against every role', () => {
  let web: WebTestApp;
  const tokens = new Map<UserRole, string>();

  before(async () => {
    web = await startWebTestApp();
    for (const role of USER_ROLES) {
      await web.addUser(`the-${role}`, role);
      tokens.set(role, await web.token(`the-${role}`));
    }
  });
  after(() => web.close());

  it('has a line in the table for every route the router has, and no line for a route it does not have', () => {
    const routes = registeredRoutes(web).sort();
    assert.deepEqual(routes, Object.keys(ROUTES).sort());
  });

  it('lets each role call exactly the routes its level allows; the anonymous caller gets 401 from the API and the sign-in page from pages', async () => {
    const failures: string[] = [];
    for (const route of registeredRoutes(web)) {
      const level = ROUTES[route]!;
      const [method, path] = route.split(' ') as [string, string];
      const url = `${web.base}${fill(path)}`;
      const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
      const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
      const anonymous = await call(url, { method, body, headers, redirect: 'manual' });
      if (level === 'public') {
        if ([401, 403].includes(anonymous.status)) failures.push(`${route}: anonymous got ${anonymous.status} from a public route`);
      } else if (path.startsWith('/api/v1/')) {
        if (anonymous.status !== 401) failures.push(`${route}: anonymous got ${anonymous.status}, not 401`);
      } else if (anonymous.status !== 303 || !anonymous.headers.get('location')?.startsWith('/sign-in?next=')) {
        failures.push(`${route}: anonymous got ${anonymous.status} ${anonymous.headers.get('location')}, not the sign-in page`);
      }
      for (const role of USER_ROLES) {
        const res = await call(url, { method, body, headers: { ...headers, authorization: `Bearer ${tokens.get(role)}` }, redirect: 'manual' });
        const allowed = level === 'public' || level === 'self' || roleAtLeast(role, level);
        if (allowed && [401, 403].includes(res.status)) failures.push(`${route}: ${role} refused with ${res.status}`);
        if (!allowed && res.status !== 403) failures.push(`${route}: ${role} got ${res.status}, not 403`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
