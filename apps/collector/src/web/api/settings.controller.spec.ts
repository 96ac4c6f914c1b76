import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_ON_POSTGRES } from '../../storage/testing.js';
import { startWebTestApp, type WebTestApp } from '../testing.js';

describe('SettingsController (/api/v1/settings, /api/v1/roles)', () => {
  let web: WebTestApp;
  const metricsToken = 'metrics-secret-0123456789abcdef';
  const get = async (path: string, token: string) => {
    const res = await fetch(`${web.base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    web = await startWebTestApp({ ROUNDS_METRICS_TOKEN: metricsToken });
    await web.addUser('reader', 'viewer');
  });
  after(() => web.close());

  it('GET /settings gives admins the settings in effect with the variable of each, secrets only said to be set', async () => {
    const res = await get('/api/v1/settings', await web.token('admin'));
    assert.equal(res.status, 200, res.text);
    const body = JSON.parse(res.text) as { version: string; settings: { group: string; name: string; value: string; variable: string }[] };
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    const metrics = body.settings.find((s) => s.name === '/metrics');
    assert.deepEqual(metrics, {
      group: 'Web',
      name: '/metrics',
      value: 'token set (not shown)',
      variable: 'ROUNDS_METRICS_TOKEN, ROUNDS_METRICS_USER, ROUNDS_METRICS_PASSWORD',
    });
    // The web test app turns the API's rate limit off.
    assert.equal(body.settings.find((s) => s.variable === 'ROUNDS_API_RATE_LIMIT')?.value, 'no limit');
    assert.ok(!res.text.includes(metricsToken), 'the token itself is never in the answer');
  });

  it('GET /collectors lists the collectors sharing the database, for admins: none on SQLite, this one (live, the leader) on PostgreSQL', async () => {
    const res = await get('/api/v1/collectors', await web.token('admin'));
    assert.equal(res.status, 200, res.text);
    const body = JSON.parse(res.text) as { shared: boolean; collectors: { self: boolean; live: boolean; leader: boolean; agents: number }[] };
    if (TEST_ON_POSTGRES) {
      assert.equal(body.shared, true);
      assert.deepEqual(
        body.collectors.map((c) => [c.self, c.live, c.leader, c.agents]),
        [[true, true, true, 0]],
      );
    } else {
      assert.deepEqual(body, { shared: false, collectors: [] });
    }
    assert.equal((await get('/api/v1/collectors', await web.token('reader'))).status, 403);
  });

  it('GET /settings is for admins; GET /roles lists the roles least to most for everyone signed in', async () => {
    const viewer = await web.token('reader');
    assert.equal((await get('/api/v1/settings', viewer)).status, 403);
    const roles = await get('/api/v1/roles', viewer);
    assert.equal(roles.status, 200);
    assert.deepEqual(
      (JSON.parse(roles.text) as { name: string; may: string }[]).map((r) => r.name),
      ['viewer', 'operator', 'admin'],
    );
  });
});
