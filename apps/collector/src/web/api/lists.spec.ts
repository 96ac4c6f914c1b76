import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebTestApp, type WebTestApp } from '../testing.js';
import type { ApiErrorBody } from './testing.js';

/**
 * Every list of the API takes `?sort=` (`-` reverses; an unknown key is a 400 naming the allowed
 * ones), `?limit=&offset=`, its filters (an unknown one is a 400), and answers `X-Total-Count` —
 * one helper (shared/dto.ts listQuery and listPage) behind all of them; here through a few.
 */
describe('API lists: sort, filter and page', () => {
  let web: WebTestApp;
  let token = '';

  const get = async <T>(path: string) => {
    const res = await fetch(`${web.base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, total: res.headers.get('x-total-count'), json: (text ? JSON.parse(text) : undefined) as T, text };
  };

  before(async () => {
    web = await startWebTestApp();
    token = await web.token('admin');
    for (const [name, role] of [
      ['carol', 'viewer'],
      ['bob', 'operator'],
      ['alice', 'viewer'],
      ['dave', 'viewer'],
    ] as const)
      await web.addUser(name, role);
  });
  after(() => web.close());

  it('GET /users filters by role, sorts either way and pages, with X-Total-Count of what matched', async () => {
    const viewers = await get<{ name: string }[]>('/api/v1/users?role=viewer&sort=-name');
    assert.equal(viewers.status, 200, viewers.text);
    assert.deepEqual(
      viewers.json.map((u) => u.name),
      ['dave', 'carol', 'alice'],
    );
    assert.equal(viewers.total, '3');
    const page = await get<{ name: string }[]>('/api/v1/users?role=viewer&sort=name&limit=1&offset=1');
    assert.deepEqual(
      page.json.map((u) => u.name),
      ['carol'],
    );
    assert.equal(page.total, '3', 'the total counts every match, not the page');
    const byRole = await get<{ name: string; role: string }[]>('/api/v1/users?sort=role&name=A');
    assert.equal(byRole.json[0]?.name, 'admin', 'admins first');
    assert.deepEqual(
      byRole.json
        .slice(1)
        .map((u) => u.name)
        .sort(),
      ['alice', 'carol', 'dave'],
      '?name= matches anywhere, in any case',
    );
  });

  it('an unknown sort key, an unknown filter or a bad value is a 400 naming the field and what it takes', async () => {
    const sort = await get<ApiErrorBody>('/api/v1/users?sort=age');
    assert.equal(sort.status, 400);
    assert.deepEqual(sort.json.errors, [{ field: 'sort', message: 'must be one of name, -name, role, -role, createdAt, -createdAt' }]);
    const filter = await get<ApiErrorBody>('/api/v1/agents?stat=DOWN');
    assert.equal(filter.status, 400);
    assert.equal(filter.json.errors?.[0]?.field, 'stat');
    const state = await get<ApiErrorBody>('/api/v1/agents?state=down');
    assert.deepEqual(state.json.errors, [{ field: 'state', message: 'must be one of UNKNOWN, UP, DOWN' }]);
    const offset = await get<ApiErrorBody>('/api/v1/channels?offset=-1');
    assert.deepEqual(offset.json.errors, [{ field: 'offset', message: 'must be a whole number, 0 or more' }]);
  });

  it('GET /audit pages by offset, oldest first with ?sort=at, and filters by actor, with X-Total-Count', async () => {
    const all = await get<{ id: number; actor: string }[]>('/api/v1/audit?action=user.add');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.total, String(all.json.length));
    assert.ok(all.json.length >= 4);
    const oldest = await get<{ id: number }[]>('/api/v1/audit?action=user.add&sort=at&limit=2&offset=1');
    assert.deepEqual(
      oldest.json.map((r) => r.id),
      [...all.json]
        .reverse()
        .slice(1, 3)
        .map((r) => r.id),
    );
    assert.equal(oldest.total, all.total);
    const nobody = await get<unknown[]>('/api/v1/audit?actor=nobody');
    assert.deepEqual([nobody.json, nobody.total], [[], '0']);
  });

  it('every other list answers X-Total-Count and refuses an unknown sort key', async () => {
    for (const path of [
      '/api/v1/agents',
      '/api/v1/checks',
      '/api/v1/alerts',
      '/api/v1/alerts/history',
      '/api/v1/alert-rules',
      '/api/v1/alert-rules/forecasts',
      '/api/v1/silences',
      '/api/v1/maintenance-windows',
      '/api/v1/channels',
      '/api/v1/tokens',
      '/api/v1/sessions',
      '/api/v1/enrolments',
      '/api/v1/tags',
    ]) {
      const ok = await get<unknown[]>(path);
      assert.equal(ok.status, 200, `${path}: ${ok.text}`);
      assert.equal(ok.total, String(ok.json.length), `${path}: X-Total-Count`);
      const bad = await get<ApiErrorBody>(`${path}?sort=nope`);
      assert.equal(bad.status, 400, `${path}?sort=nope`);
      assert.match(bad.json.errors?.[0]?.message ?? '', /^must be one of /, path);
    }
  });
});
