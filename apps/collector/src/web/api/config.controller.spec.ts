import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebTestApp, type WebTestApp } from '../testing.js';

/**
 * The HTTP contract of /api/v1/config. The whole collector (startWebTestApp) rather than
 * startApiTestApp: applying a document goes through the inventory, channel and alerting services
 * and the alert engine's journal, which is the collector's module graph.
 */
describe('/api/v1/config', { timeout: 60_000 }, () => {
  let web: WebTestApp;
  const tokens: Record<string, string> = {};
  const call = async (role: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${web.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[role]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', json: (await res.json()) as Record<string, unknown> };
  };
  const document = {
    apiVersion: 'rounds/v1',
    kind: 'Config',
    channels: [{ name: 'pager', type: 'webhook', config: { url: 'http://127.0.0.1:9/secret-hook' } }],
  };

  before(async () => {
    web = await startWebTestApp();
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      await web.addUser(`${role}-1`, role);
      tokens[role] = await web.token(`${role}-1`);
    }
  });
  after(() => web.close());

  it('is for admins only: viewers and operators get 403 on export, plan and apply', async () => {
    for (const role of ['viewer', 'operator']) {
      assert.equal((await call(role, 'GET', '/config')).status, 403, role);
      assert.equal((await call(role, 'POST', '/config/plan', { document })).status, 403, role);
      assert.equal((await call(role, 'POST', '/config/apply', { document })).status, 403, role);
    }
  });

  it('plans, applies once, then plans nothing; the export has the secret as an {env} reference', async () => {
    const plan = await call('admin', 'POST', '/config/plan', { document });
    assert.equal(plan.status, 200);
    assert.deepEqual(plan.json, [
      {
        action: 'create',
        kind: 'channel',
        name: 'pager',
        changes: [
          { path: 'config', from: null, to: { url: '••••••' } },
          { path: 'enabled', from: null, to: true },
          { path: 'name', from: null, to: 'pager' },
          { path: 'type', from: null, to: 'webhook' },
        ],
      },
    ]);
    assert.equal((await call('admin', 'POST', '/config/apply', { document })).json['applied'], true);
    assert.deepEqual((await call('admin', 'POST', '/config/apply', { document })).json, { plan: [], applied: false });
    const exported = await call('admin', 'GET', '/config');
    assert.deepEqual((exported.json['channels'] as unknown[])[0], {
      name: 'pager',
      type: 'webhook',
      enabled: true,
      config: { url: { env: 'ROUNDS_SECRET_CHANNEL_PAGER_URL' } },
    });
    const withSecrets = await call('admin', 'GET', '/config?secrets=true');
    assert.deepEqual(((withSecrets.json['channels'] as { config: unknown }[])[0]!.config as { url: string }).url, 'http://127.0.0.1:9/secret-hook');
    const audit = await call('admin', 'GET', '/audit?action=config.export-secrets');
    assert.equal((audit.json as unknown as unknown[]).length, 1, 'the export with secrets is audited');
  });

  it('refuses a bad document with 400 problem details naming the path in the document', async () => {
    const unknownField = await call('admin', 'POST', '/config/apply', { document: { ...document, channels: [{ ...document.channels[0], colour: 'red' }] } });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.type, /^application\/problem\+json/);
    assert.deepEqual(unknownField.json['errors'], [{ field: 'document.channels.0.colour', message: 'unknown field' }]);
    const missingAgent = await call('admin', 'POST', '/config/plan', {
      document: { apiVersion: 'rounds/v1', kind: 'Config', checks: [{ agent: 'nowhere', name: 'x', plugin: 'tcp', config: { host: 'h', port: 1 } }] },
    });
    assert.equal(missingAgent.status, 400);
    assert.deepEqual(missingAgent.json['errors'], [
      { field: 'document.checks.0.agent', message: 'no agent named "nowhere" in the document or on the collector' },
    ]);
  });
});
