import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebTestApp, type WebTestApp } from './testing.js';

/** What the API answers a body it cannot read, on the collector's whole HTTP stack. */
describe('request bodies the API cannot read', () => {
  let web: WebTestApp;
  let token = '';
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${web.base}/api/v1/agents`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
  const json = JSON.stringify({ name: 'pacs-01', enrol: 'rounds://x' });

  before(async () => {
    web = await startWebTestApp();
    await web.addUser('ops', 'operator');
    token = await web.token('ops');
  });
  after(() => web.close());

  it('answers JSON sent without a JSON content type (curl -d) with 415 and the header to add, storing nothing', async () => {
    const cases: [string, string][] = [
      ['application/x-www-form-urlencoded', 'as application/x-www-form-urlencoded'],
      ['text/plain; charset=utf-8', 'as text/plain'],
    ];
    for (const [type, said] of cases) {
      const res = await post(json, { 'content-type': type });
      assert.equal(res.status, 415);
      const body = (await res.json()) as { message: string };
      assert.equal(
        body.message,
        `the body was sent ${said}; the API reads JSON — send it with the header content-type: application/json (curl: -H 'content-type: application/json')`,
      );
    }
    const agents = (await (await fetch(`${web.base}/api/v1/agents`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown[];
    assert.deepEqual(agents, []);
  });

  it('still reads JSON types (with a charset, or a +json type), and says when JSON does not parse', async () => {
    const typed = await post(json, { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(typed.status, 400, 'read: refused for its enrolment string, not its type');
    assert.match(((await typed.json()) as { message: string }).message, /invalid agent/);
    assert.equal((await post(json, { 'content-type': 'application/merge-patch+json' })).status, 400);
    const broken = await post('{"name": ', { 'content-type': 'application/json' });
    assert.equal(broken.status, 400);
    assert.match(((await broken.json()) as { message: string }).message, /not valid JSON/);
  });
});
