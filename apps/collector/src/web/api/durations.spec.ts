import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebTestApp, type WebTestApp } from '../testing.js';
import type { ApiErrorBody } from './testing.js';

/**
 * Every duration field of the API takes `30s`/`5m`/`90d` as well as whole milliseconds (one zod
 * helper, libs/common durationField), and refuses anything else naming the field.
 */
describe('API durations: text or milliseconds in every duration field', () => {
  let web: WebTestApp;
  let token = '';
  const send = async <T>(method: string, path: string, body: unknown) => {
    const res = await fetch(`${web.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T };
  };

  before(async () => {
    web = await startWebTestApp();
    token = await web.token('admin');
    const enrol = `rounds://${'t'.repeat(43)}@127.0.0.1:9?fp=${'a'.repeat(64)}`;
    assert.equal((await send('POST', '/agents', { name: 'pacs-01', enrol })).status, 201);
  });
  after(() => web.close());

  it('a check interval, a silence, a rule, a check policy and a token expiry each take text and milliseconds alike', async () => {
    const check = await send<{ intervalMs: number; timeoutMs: number }>('POST', '/checks', {
      agent: 'pacs-01',
      name: 'web',
      plugin: 'http',
      config: { url: 'http://127.0.0.1:9/' },
      intervalMs: '2m',
      timeoutMs: 5000,
    });
    assert.deepEqual([check.status, check.json.intervalMs, check.json.timeoutMs], [201, 120_000, 5000]);
    const silence = await send<{ startsAt: number; endsAt: number }>('POST', '/silences', { matchers: ['agent="pacs-01"'], comment: 'racks', duration: '90m' });
    assert.equal(silence.json.endsAt - silence.json.startsAt, 90 * 60_000);
    const rules = await send<{ for: string }[]>('PUT', '/alert-rules', [
      { name: 'a', metric: 'm', op: '>', value: 1, for: '10m' },
      { name: 'b', metric: 'm', op: '>', value: 1, for: 600_000 },
    ]);
    assert.deepEqual(
      rules.json.map((r) => r.for),
      ['10m', '10m'],
    );
    const policy = await send<{ override: { repeatMs: number } }>('PUT', '/checks/pacs-01%2Fweb/policy', { repeat: '30m' });
    assert.equal(policy.json.override.repeatMs, 1_800_000);
    for (const expiresIn of ['90d', 90 * 86_400_000]) {
      const made = await send<{ view: { createdAt: number; expiresAt: number } }>('POST', '/tokens', { name: `ci-${String(expiresIn)}`, expiresIn });
      assert.equal(made.status, 201);
      assert.equal(made.json.view.expiresAt - made.json.view.createdAt, 90 * 86_400_000);
    }
  });

  it('anything else is a 400 naming the field and the forms it takes', async () => {
    const bad = await send<ApiErrorBody>('POST', '/tokens', { name: 'ci-bad', expiresIn: 'soon' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [{ field: 'expiresIn', message: 'must be a duration like 30s, 5m, 1h or 1d, got "soon"' }]);
    const check = await send<ApiErrorBody>('PATCH', '/checks/pacs-01%2Fweb', { intervalMs: 'every minute' });
    assert.deepEqual(check.json.errors, [{ field: 'intervalMs', message: 'must be a duration like 30s, 5m, 1h or 1d, got "every minute"' }]);
  });
});
