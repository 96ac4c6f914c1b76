import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiTokensService } from '../../auth/api-tokens.service.js';
import { cliAuditContext } from '../../audit/audit.types.js';
import { openTestDatabase } from '../../storage/testing.js';
import { SettingsController } from './settings.controller.js';
import { PROBLEM_JSON } from './problem.js';
import { startApiTestApp, TEST_API_TOKEN, type ApiErrorBody, type ApiTestApp } from './testing.js';
import { startWebTestApp, type WebTestApp } from '../testing.js';

describe('API rate limit (ROUNDS_API_RATE_LIMIT): per token', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let second: string;

  before(async () => {
    db = await openTestDatabase();
    api = await startApiTestApp({ controllers: [SettingsController], dataSource: db.dataSource, providers: [], readModel: false, config: { apiRateLimit: 3 } });
    ({ token: second } = await api.app.get(ApiTokensService).create('admin', { name: 'second-script' }, cliAuditContext()));
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('a token over its limit gets 429 with Retry-After and problem details naming the limit, while another token is still served', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await api.call('GET', '/api/v1/roles')).status, 200, `call ${i + 1} of 3`);
    const refused = await api.call<ApiErrorBody>('GET', '/api/v1/roles');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('content-type')?.split(';')[0], PROBLEM_JSON);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers.get('retry-after')}`);
    assert.match(refused.json.message, /3 a minute per API token \(ROUNDS_API_RATE_LIMIT\)/);

    const other = await api.call('GET', '/api/v1/roles', undefined, second);
    assert.equal(other.status, 200);
    assert.equal((await api.call('GET', '/api/v1/roles', undefined, TEST_API_TOKEN)).status, 429, 'the first token stays refused within the minute');
  });
});

describe('API rate limit in the collector app: per token and per session, pages left alone', () => {
  let web: WebTestApp;
  after(() => web?.close());

  it('a token past ROUNDS_API_RATE_LIMIT gets 429 while a signed-in browser is still served, and pages are not counted', async () => {
    web = await startWebTestApp({ ROUNDS_API_RATE_LIMIT: '2' });
    const token = await web.token('admin');
    const me = () => fetch(`${web.base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([(await me()).status, (await me()).status, (await me()).status], [200, 200, 429]);
    const browser = await web.browserAs('viewer', 'reader');
    for (let i = 0; i < 3; i++) assert.equal((await browser.get('/checks')).status, 200, 'pages are outside the API limit');
    assert.equal((await browser.get('/api/v1/me')).status, 200, "the browser's session has its own budget");
  });
});
