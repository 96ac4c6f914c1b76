import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebTestApp, type WebTestApp } from '../web/testing.js';

/**
 * The whole collector, as it is wired: a policy that names an on-call schedule reaches the
 * channels of whoever is on call. The router injects its on-call directory optionally (its unit
 * specs run without one), so a module that stopped providing it would make every schedule reach
 * nobody without an error anywhere — this spec is what notices.
 */
describe('routing to an on-call schedule in the wired collector', { timeout: 120_000 }, () => {
  let app: WebTestApp;
  let token = '';
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${app.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  before(async () => {
    app = await startWebTestApp();
    await app.addUser('ops', 'admin');
    await app.addUser('night-nurse', 'viewer');
    token = await app.token('ops');
  });
  after(async () => app?.close());

  it('explains a policy whose step names a schedule with the channel of the user on call', async () => {
    await api('POST', '/channels', { name: 'pager', type: 'webhook', config: { url: 'http://127.0.0.1:9/pager' } });
    await api('POST', '/channels', { name: 'ward-phone', type: 'webhook', config: { url: 'http://127.0.0.1:9/ward' } });
    await api('POST', '/on-call/schedules', {
      name: 'pacs-team',
      timeZone: 'UTC',
      rotations: [{ users: ['night-nurse'], handoff: { interval: 'weekly' }, start: '2026-01-05' }],
      contacts: { 'night-nurse': ['ward-phone'], ops: ['pager'] },
    });
    await api('POST', '/notification-policies', { name: 'pacs', matchers: ['site="north"'], steps: [{ after: '0s', targets: [{ schedule: 'pacs-team' }] }] });
    const explained = await api<{ routes: string[]; steps: { channels: { name: string }[]; note: string | null }[] }>(
      'POST',
      '/notification-policies/explain',
      {
        labels: { site: 'north' },
        severity: 'critical',
      },
    );
    assert.deepEqual(explained.routes, ['pacs']);
    assert.deepEqual(
      explained.steps.map((s) => s.channels.map((c) => c.name)),
      [['ward-phone']],
      `the schedule reached ${JSON.stringify(explained.steps)}`,
    );
  });

  it('does not page a user on call whose account is disabled, and says so in the step', async () => {
    await api('PATCH', '/users/night-nurse', { disabled: true });
    const explain = () =>
      api<{ steps: { channels: { name: string }[]; note: string | null }[] }>('POST', '/notification-policies/explain', {
        labels: { site: 'north' },
        severity: 'critical',
      });
    const explained = await explain();
    assert.deepEqual(
      explained.steps.map((s) => s.channels.map((c) => c.name)),
      [[]],
    );
    assert.equal(
      explained.steps[0]!.note,
      'night-nurse on call in "pacs-team" but disabled: not paged — enable the user or add an override; nobody on call in "pacs-team" has a channel',
    );
    await api('PATCH', '/users/night-nurse', { disabled: false });
    assert.deepEqual(
      (await explain()).steps.map((s) => s.channels.map((c) => c.name)),
      [['ward-phone']],
      'enabled again, paged again',
    );
  });
});
