import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { useBrowser } from './browser.js';

const browser = useBrowser();

/**
 * The harness itself, against a page made to fail: the browser specs' "no problems" must be able
 * to fail, so an inline script under a CSP that forbids it, and a missing stylesheet, are reported.
 */
describe('the browser harness', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () =>
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end(`<!doctype html><title>done</title><p id="got">${new URLSearchParams(body).get('word') ?? ''}</p>`),
        );
        return;
      }
      if (req.url === '/strict') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': "script-src 'self'" });
        res.end('<!doctype html><title>strict</title><script>document.title = "ran"</script><link rel="stylesheet" href="/missing.css"><p>Strict page</p>');
        return;
      }
      if (req.url === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      if (req.url !== '/') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>form</title><h1>Harness form</h1><form method="post" action="/echo"><input name="word"><button>Send</button></form>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fills and submits a form and reads the answer, with nothing to report', async () => {
    const page = await browser.newPage(base);
    await page.goto('/');
    await page.locator('input[name="word"]').fill('lightbox');
    await Promise.all([page.waitForURL('**/echo'), page.getByRole('button', { name: 'Send' }).click()]);
    assert.equal(await page.locator('#got').textContent(), 'lightbox');
    assert.deepEqual(browser.takeProblems(page), []);
  });

  it('reports an inline script the CSP refuses and a stylesheet that is not there, and screenshots the page', async () => {
    const page = await browser.newPage(base);
    await page.goto('/strict');
    assert.equal(await page.title(), 'strict', 'the inline script did not run');
    const problems = browser.takeProblems(page);
    assert.ok(
      problems.some((p) => /Content Security Policy/.test(p)),
      `a CSP violation is reported: ${problems.join(' | ')}`,
    );
    assert.ok(
      problems.some((p) => /404 for stylesheet .*\/missing\.css/.test(p)),
      `the missing stylesheet is reported: ${problems.join(' | ')}`,
    );
    assert.deepEqual(browser.takeProblems(page), [], 'taken problems are cleared');
    const png = readFileSync(await browser.screenshot(page, 'harness-strict'));
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
    assert.ok(png.length > 1000);
  });
});
