import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STATUS_CODES } from 'node:http';
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

  it('answers every API error as RFC 9457 problem details: a refused body, a missing token, an unknown route, a missing agent', async () => {
    const cases: [Response, number, RegExp][] = [
      [await post(json, { 'content-type': 'text/plain' }), 415, /the API reads JSON — send it with the header content-type: application\/json/],
      [await fetch(`${web.base}/api/v1/agents`), 401, /./],
      [await fetch(`${web.base}/api/v1/no-such-thing`, { headers: { authorization: `Bearer ${token}` } }), 404, /no-such-thing/],
      [await fetch(`${web.base}/api/v1/agents/ghost?x=1`, { headers: { authorization: `Bearer ${token}` } }), 404, /ghost/],
    ];
    for (const [res, status, detail] of cases) {
      assert.equal(res.status, status, res.url);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, res.url);
      const body = (await res.json()) as { type: string; title: string; status: number; detail: string; instance: string; message: string };
      assert.equal(body.type, 'about:blank');
      assert.equal(body.status, status);
      assert.equal(body.title, STATUS_CODES[status]);
      assert.match(body.detail, detail);
      assert.equal(body.message, body.detail, 'message repeats detail for older clients');
      assert.equal(body.instance, new URL(res.url).pathname, 'instance is the path asked for, without the query');
    }
  });

  it('leaves pages alone: an unknown page is not a problem document', async () => {
    const res = await fetch(`${web.base}/no-such-page`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.headers.get('content-type') ?? '', /problem/);
  });
});
