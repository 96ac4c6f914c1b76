import { test, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { redactSecrets, REDACTED } from '#rounds/common';
import { closedPort, closeServer, configErrors, listenLocal, metric, runCheck } from '../testing/harness.js';
import { selfSignedCert, writeTlsFiles, type TlsFixture } from '../testing/tls-fixture.js';
import { toJsonSchema } from '../schema.js';
import { httpPlugin } from './http.plugin.js';

// The spec runs from dist/, the sample and README stay beside the source.
const sourceDir = dirname(fileURLToPath(import.meta.url)).replace(`${sep}dist${sep}`, sep);

async function serve(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  const port = await listenLocal(server);
  t.after(() => closeServer(server));
  return `http://127.0.0.1:${port}`;
}

async function serveTls(t: TestContext, fixture: TlsFixture, handler: http.RequestListener): Promise<string> {
  const server = https.createServer({ key: fixture.key, cert: fixture.cert }, handler);
  const port = await listenLocal(server);
  t.after(() => closeServer(server));
  return `https://127.0.0.1:${port}`;
}

/** A raw TCP server whose sockets are torn down when the test ends (silent unless told otherwise). */
async function rawServer(t: TestContext, onSocket: (socket: net.Socket) => void = () => {}): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  const port = await listenLocal(server);
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  });
  return port;
}

const text =
  (status: number, body: string, headers: http.OutgoingHttpHeaders = {}): http.RequestListener =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };

let valid30: TlsFixture;
let valid10: TlsFixture;
let expired: TlsFixture;
before(async () => {
  [valid30, valid10, expired] = await Promise.all([selfSignedCert(30), selfSignedCert(10), selfSignedCert(-1)]);
});

// --- up, status sets ---------------------------------------------------------------------

test('run() returns OK with timings, status code and body size when the server answers 200', async (t) => {
  const url = await serve(t, text(200, 'hello'));
  const report = await runCheck(httpPlugin, { url });
  assert.equal(report.outcome.status, 'OK');
  assert.equal(report.outcome.reason, 'ok');
  assert.match(report.outcome.summary, /^HTTP 200 in \d+ ms, 5 bytes$/);
  assert.equal(metric(report, 'status_code'), 200);
  assert.equal(metric(report, 'body_bytes'), 5);
  for (const name of ['dns_seconds', 'connect_seconds', 'first_byte_seconds', 'total_seconds']) {
    assert.ok(metric(report, name) >= 0 && metric(report, name) < 5, name);
  }
  assert.ok(metric(report, 'first_byte_seconds') <= metric(report, 'total_seconds'));
  assert.throws(() => metric(report, 'tls_seconds'), /no metric tls_seconds/);
});

test('run() returns OK for a PACS web API answering 401 when expectedStatus is "200-499"', async (t) => {
  const url = await serve(t, text(401, 'Unauthorized', { 'www-authenticate': 'Basic realm="Orthanc Secure Area"' }));
  const report = await runCheck(httpPlugin, { url: `${url}/dicom-web/studies`, expectedStatus: '200-499' });
  assert.equal(report.outcome.status, 'OK');
  assert.match(report.outcome.summary, /^HTTP 401 in \d+ ms \(expected 200-499\), 12 bytes$/);
  assert.equal(metric(report, 'status_code'), 401);
});

test('run() returns CRITICAL with reason=unexpected_response when a 401 falls outside the default 200-399', async (t) => {
  const url = await serve(t, text(401, 'Unauthorized'));
  const report = await runCheck(httpPlugin, { url });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'unexpected_response');
  assert.match(report.outcome.summary, /^HTTP 401 in \d+ ms, expected 200-399$/);
});

test('run() accepts a status listed in a set like "200,204,301-302" and refuses one outside it', async (t) => {
  let status = 204;
  const url = await serve(t, (_req, res) => {
    res.writeHead(status);
    res.end();
  });
  const ok = await runCheck(httpPlugin, { url, expectedStatus: '200,204,301-302' });
  assert.equal(ok.outcome.status, 'OK');
  status = 203;
  const bad = await runCheck(httpPlugin, { url, expectedStatus: '200,204,301-302' });
  assert.equal(bad.outcome.reason, 'unexpected_response');
  assert.match(bad.outcome.summary, /^HTTP 203 in \d+ ms, expected 200,204,301-302$/);
});

test('run() sends the method, body and headers it is configured with', async (t) => {
  let seen = '';
  const url = await serve(t, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen = `${req.method} ${req.url} ${req.headers['content-type']} ${req.headers['user-agent']} ${body}`;
      res.end('ok');
    });
  });
  const report = await runCheck(httpPlugin, {
    url: `${url}/qido?limit=1`,
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{"ping":true}',
  });
  assert.equal(report.outcome.status, 'OK');
  assert.equal(seen, 'POST /qido?limit=1 application/json Rounds-http/1.0.0 {"ping":true}');
});

test('run() sends basic-auth and bearer credentials as an Authorization header', async (t) => {
  const seen: string[] = [];
  const url = await serve(t, (req, res) => {
    seen.push(req.headers.authorization ?? '');
    res.end();
  });
  await runCheck(httpPlugin, { url, basicAuth: { username: 'rounds', password: 's3cret' } });
  await runCheck(httpPlugin, { url, bearerToken: 'tok-123' });
  assert.deepEqual(seen, [`Basic ${Buffer.from('rounds:s3cret').toString('base64')}`, 'Bearer tok-123']);
});

// --- body assertions ---------------------------------------------------------------------

test('run() returns OK when bodyContains and bodyMatches both find the body', async (t) => {
  const url = await serve(t, text(200, 'Orthanc version 1.12.4 is running'));
  const report = await runCheck(httpPlugin, { url, bodyContains: 'is running', bodyMatches: '/version \\d+\\.\\d+/i' });
  assert.equal(report.outcome.status, 'OK');
});

test('run() returns CRITICAL with reason=assertion when the body lacks the bodyContains text', async (t) => {
  const url = await serve(t, text(200, 'maintenance'));
  const report = await runCheck(httpPlugin, { url, bodyContains: 'is running' });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'assertion');
  assert.match(report.outcome.summary, /^HTTP 200 in \d+ ms but the body does not contain "is running"$/);
});

test('run() returns CRITICAL with reason=assertion when the body does not match bodyMatches', async (t) => {
  const url = await serve(t, text(200, 'version x'));
  const report = await runCheck(httpPlugin, { url, bodyMatches: 'version \\d+' });
  assert.equal(report.outcome.reason, 'assertion');
  assert.match(report.outcome.summary, / but the body does not match \/version \\d\+\/$/);
});

test('run() returns OK when every JSON path assertion holds (value, existence, absence, bracket keys)', async (t) => {
  const url = await serve(t, text(200, JSON.stringify({ status: 'UP', items: [{ name: 'ct-1', 'ae-title': 'CT1' }], count: 0, err: null })));
  const report = await runCheck(httpPlugin, {
    url,
    json: [
      { path: '$.status', equals: 'UP' },
      { path: '$.items[0].name', equals: 'ct-1' },
      { path: '$.items[0]["ae-title"]' },
      { path: "$['count']", equals: 0 },
      { path: '$.err', equals: null },
      { path: '$.error', exists: false },
    ],
  });
  assert.equal(report.outcome.status, 'OK', report.outcome.summary);
});

test('run() returns CRITICAL with reason=assertion naming the JSON path whose value differs', async (t) => {
  const url = await serve(t, text(200, JSON.stringify({ status: 'DOWN', items: [] })));
  const report = await runCheck(httpPlugin, {
    url,
    json: [{ path: '$.status', equals: 'UP' }, { path: '$.items[0].name' }],
  });
  assert.equal(report.outcome.reason, 'assertion');
  assert.match(report.outcome.summary, /^HTTP 200 in \d+ ms but \$\.status is "DOWN", expected "UP" \(and 1 more assertion failed\)$/);
});

test('run() returns CRITICAL with reason=assertion when a JSON path is missing or the body is not JSON', async (t) => {
  let body = JSON.stringify({ items: [] });
  const url = await serve(t, (_req, res) => res.end(body));
  const missing = await runCheck(httpPlugin, { url, json: [{ path: '$.items[0].name' }] });
  assert.match(missing.outcome.summary, / but \$\.items\[0\]\.name is missing$/);
  body = '<html>login</html>';
  const notJson = await runCheck(httpPlugin, { url, json: [{ path: '$.status' }] });
  assert.equal(notJson.outcome.reason, 'assertion');
  assert.match(notJson.outcome.summary, / but the body is not JSON \(starts "<html>login<\/html>"\)$/);
});

test('run() compares JSON values strictly, so the string "1" does not equal the number 1', async (t) => {
  const url = await serve(t, text(200, '{"count":"1"}'));
  const report = await runCheck(httpPlugin, { url, json: [{ path: '$.count', equals: 1 }] });
  assert.match(report.outcome.summary, / but \$\.count is "1", expected 1$/);
});

test('run() reads at most maxBodyBytes and says in the summary that the body was truncated', async (t) => {
  const url = await serve(t, text(200, 'x'.repeat(4096)));
  const report = await runCheck(httpPlugin, { url, maxBodyBytes: 1024 });
  assert.equal(report.outcome.status, 'OK');
  assert.match(report.outcome.summary, /; body truncated at 1 KiB \(maxBodyBytes\), assertions saw only that part$/);
  assert.ok(metric(report, 'body_bytes') > 1024);
});

// --- down targets ------------------------------------------------------------------------

test('run() returns CRITICAL with reason=refused when nothing listens on the port', async () => {
  const port = await closedPort();
  const report = await runCheck(httpPlugin, { url: `http://127.0.0.1:${port}/` });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'refused');
  assert.equal(report.outcome.summary, `connection to 127.0.0.1:${port} refused: nothing listens there or a firewall rejects it`);
});

test('run() returns CRITICAL with reason=timeout naming the first byte when the server accepts but never answers', async (t) => {
  const port = await rawServer(t);
  const report = await runCheck(httpPlugin, { url: `http://127.0.0.1:${port}/` }, { timeoutMs: 300 });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'timeout');
  assert.match(report.outcome.summary, /^timed out after \d+ ms waiting for the first byte$/);
  assert.equal(report.cutOff, false, 'the plugin stopped at its deadline by itself');
  assert.ok(metric(report, 'connect_seconds') >= 0);
});

test('run() returns CRITICAL with reason=timeout naming the body when the server stalls mid-body', async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('x'.repeat(10));
  });
  const report = await runCheck(httpPlugin, { url }, { timeoutMs: 300 });
  assert.equal(report.outcome.reason, 'timeout');
  assert.match(report.outcome.summary, /^timed out after \d+ ms reading the body \(10 bytes so far\)$/);
});

test('run() returns CRITICAL with reason=timeout naming the TLS handshake when an https port never answers', async (t) => {
  const port = await rawServer(t);
  const report = await runCheck(httpPlugin, { url: `https://127.0.0.1:${port}/` }, { timeoutMs: 300 });
  assert.equal(report.outcome.reason, 'timeout');
  assert.match(report.outcome.summary, new RegExp(`^timed out after \\d+ ms during the TLS handshake with 127\\.0\\.0\\.1:${port}$`));
});

test('run() returns CRITICAL with reason=dns when the host name does not resolve', async () => {
  const report = await runCheck(httpPlugin, { url: 'http://no-such-host.rounds.invalid/' });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'dns');
  assert.match(report.outcome.summary, /no-such-host\.rounds\.invalid/);
});

test('run() returns CRITICAL with reason=protocol_error when the port does not speak HTTP', async (t) => {
  const port = await rawServer(t, (socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
  const report = await runCheck(httpPlugin, { url: `http://127.0.0.1:${port}/` });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'protocol_error');
  assert.match(report.outcome.summary, new RegExp(`^127\\.0\\.0\\.1:${port} did not answer in HTTP: .* \\(HPE_[A-Z_]+\\)$`));
});

// --- TLS ---------------------------------------------------------------------------------

test('run() returns CRITICAL with reason=tls when an https URL points at a plain-HTTP port', async (t) => {
  const url = await serve(t, text(200, 'ok'));
  const report = await runCheck(httpPlugin, { url: url.replace('http:', 'https:') });
  assert.equal(report.outcome.reason, 'tls');
  assert.match(report.outcome.summary, /does not answer in TLS \(wrong version number\): is it a plain-text port\?$/);
});

test('run() returns CRITICAL with reason=tls for a self-signed certificate when tlsVerify is on', async (t) => {
  const url = await serveTls(t, valid30, text(200, 'ok'));
  const report = await runCheck(httpPlugin, { url });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'tls');
  assert.match(
    report.outcome.summary,
    /^TLS verification of 127\.0\.0\.1:\d+ failed: the certificate is self-signed and not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\); fix the certificate or set tlsVerify: false$/,
  );
});

test('run() returns OK with tls_cert_expiry_days near the certificate lifetime when tlsVerify is off', async (t) => {
  const url = await serveTls(t, valid30, text(200, 'ok'));
  const report = await runCheck(httpPlugin, { url, tlsVerify: false });
  assert.equal(report.outcome.status, 'OK', report.outcome.summary);
  const days = metric(report, 'tls_cert_expiry_days');
  assert.ok(Math.abs(days - 30) < 0.1, `days ${days}`);
  assert.ok(metric(report, 'tls_seconds') >= 0);
  assert.match(report.outcome.summary, /^HTTP 200 in \d+ ms, 2 bytes; certificate expires in (29\.9|30\.0) days$/);
});

test('run() returns WARNING with reason=threshold when the certificate expires within certWarningDays', async (t) => {
  const url = await serveTls(t, valid10, text(200, 'ok'));
  const report = await runCheck(httpPlugin, { url, tlsVerify: false });
  assert.equal(report.outcome.status, 'WARNING');
  assert.equal(report.outcome.reason, 'threshold');
  assert.match(report.outcome.summary, /: the certificate expires in (9\.9|10\.0) days \(warning below 21\)$/);
  const critical = await runCheck(httpPlugin, { url, tlsVerify: false, certWarningDays: 30, certCriticalDays: 14 });
  assert.equal(critical.outcome.status, 'CRITICAL');
  assert.equal(critical.outcome.reason, 'threshold');
});

test('run() returns CRITICAL with reason=tls for an expired certificate, with or without verification', async (t) => {
  const url = await serveTls(t, expired, text(200, 'ok'));
  const verified = await runCheck(httpPlugin, { url });
  assert.equal(verified.outcome.reason, 'tls');
  assert.match(verified.outcome.summary, /failed: the certificate has expired \(CERT_HAS_EXPIRED\)/);
  const unverified = await runCheck(httpPlugin, { url, tlsVerify: false });
  assert.equal(unverified.outcome.status, 'CRITICAL');
  assert.equal(unverified.outcome.reason, 'tls');
  assert.match(unverified.outcome.summary, /^HTTP 200 in \d+ ms but the certificate expired 1\.0 days ago$/);
  assert.ok(metric(unverified, 'tls_cert_expiry_days') < 0);
});

// --- redirects ---------------------------------------------------------------------------

function redirecting(): http.RequestListener {
  return (req, res) => {
    if (req.url === '/old') res.writeHead(302, { location: '/new' }).end();
    else if (req.url === '/loop') res.writeHead(301, { location: '/loop' }).end();
    else res.writeHead(200).end(`arrived by ${req.method}`);
  };
}

test('run() follows redirects and judges the final response', async (t) => {
  const url = await serve(t, redirecting());
  const report = await runCheck(httpPlugin, { url: `${url}/old`, bodyContains: 'arrived' });
  assert.equal(report.outcome.status, 'OK');
  assert.match(report.outcome.summary, new RegExp(`^HTTP 200 in \\d+ ms \\(after 1 redirect, at ${url}/new\\), 14 bytes$`));
});

test('run() turns a POST into a GET when a 302 redirects it', async (t) => {
  const url = await serve(t, redirecting());
  const report = await runCheck(httpPlugin, { url: `${url}/old`, method: 'POST', body: 'x', bodyContains: 'arrived by GET' });
  assert.equal(report.outcome.status, 'OK', report.outcome.summary);
});

test('run() judges the redirect itself when followRedirects is off', async (t) => {
  const url = await serve(t, redirecting());
  const report = await runCheck(httpPlugin, { url: `${url}/old`, followRedirects: false });
  assert.equal(report.outcome.status, 'OK');
  assert.equal(metric(report, 'status_code'), 302);
  const strict = await runCheck(httpPlugin, { url: `${url}/old`, followRedirects: false, expectedStatus: 200 });
  assert.equal(strict.outcome.reason, 'unexpected_response');
  assert.match(strict.outcome.summary, /^HTTP 302 in \d+ ms, expected 200$/);
});

test('run() returns CRITICAL with reason=unexpected_response after more than maxRedirects redirects', async (t) => {
  const url = await serve(t, redirecting());
  const report = await runCheck(httpPlugin, { url: `${url}/loop`, maxRedirects: 2 });
  assert.equal(report.outcome.reason, 'unexpected_response');
  assert.equal(report.outcome.summary, `HTTP 301 after 2 redirects: gave up at maxRedirects 2 (next: ${url}/loop)`);
});

test('run() does not send credentials to another origin a redirect points at', async (t) => {
  let seenThere: string | undefined = 'not called';
  const there = await serve(t, (req, res) => {
    seenThere = req.headers.authorization;
    res.end('there');
  });
  const here = await serve(t, (_req, res) => res.writeHead(307, { location: `${there}/x` }).end());
  const report = await runCheck(httpPlugin, { url: here, bearerToken: 'tok-123' });
  assert.equal(report.outcome.status, 'OK');
  assert.equal(seenThere, undefined);
});

// --- latency thresholds ------------------------------------------------------------------

test('run() returns WARNING with reason=threshold when the total time is above latencyWarning', async (t) => {
  const url = await serve(t, (_req, res) => {
    setTimeout(() => res.end('slow'), 150);
  });
  const report = await runCheck(httpPlugin, { url, latencyWarning: '0.05', latencyCritical: 2 });
  assert.equal(report.outcome.status, 'WARNING');
  assert.equal(report.outcome.reason, 'threshold');
  assert.match(report.outcome.summary, /^HTTP 200 in \d+ ms: latency \d+ ms is above the warning limit 0\.05 s$/);
  const critical = await runCheck(httpPlugin, { url, latencyWarning: '0.01', latencyCritical: '0.05' });
  assert.equal(critical.outcome.status, 'CRITICAL');
  assert.match(critical.outcome.summary, /latency \d+ ms is above the critical limit 0\.05 s$/);
});

// --- config ------------------------------------------------------------------------------

test('the config schema fills in the documented defaults', () => {
  const parsed = httpPlugin.configSchema.parse({ url: 'https://pacs.example.org/' });
  assert.equal(parsed.method, 'GET');
  assert.equal(parsed.expectedStatus.text, '200-399');
  assert.equal(parsed.followRedirects, true);
  assert.equal(parsed.maxRedirects, 5);
  assert.equal(parsed.tlsVerify, true);
  assert.equal(parsed.certWarningDays, 21);
  assert.equal(parsed.certCriticalDays, 7);
  assert.equal(parsed.maxBodyBytes, 1024 * 1024);
});

test('the config schema marks basicAuth.password and bearerToken as secrets', () => {
  const schema = toJsonSchema(httpPlugin.configSchema);
  const shown = redactSecrets(schema, { url: 'https://x/', basicAuth: { username: 'u', password: 'p' }, bearerToken: 't' });
  assert.deepEqual(shown, { url: 'https://x/', basicAuth: { username: 'u', password: REDACTED }, bearerToken: REDACTED });
});

test('sample.yaml is a valid http config', async () => {
  const sample: unknown = parseYaml(await readFile(join(sourceDir, 'sample.yaml'), 'utf8'));
  assert.equal(configErrors(httpPlugin, sample), '');
});

const invalid: [string, Record<string, unknown>, string][] = [
  [
    'a url that is not a URL',
    { url: 'pacs.example.org' },
    'url: "pacs.example.org" is not a URL: write it in full, e.g. https://pacs.example.org/dicom-web/studies',
  ],
  ['a url with another scheme', { url: 'ftp://pacs.example.org/' }, 'url: scheme "ftp:" is not supported: use http:// or https://'],
  [
    'a url carrying a password',
    { url: 'https://u:p@pacs.example.org/' },
    'url: must not contain a user name or password: use basicAuth, whose password is kept secret',
  ],
  [
    'a status set with a non-code',
    { url: 'http://x/', expectedStatus: '200,20x' },
    'expectedStatus: "20x" is not a status code or range: write codes 100-599 and ranges separated by commas, e.g. "200-399" or "200,204,301-302"',
  ],
  [
    'a status range that runs backwards',
    { url: 'http://x/', expectedStatus: '499-200' },
    'expectedStatus: "499-200" runs backwards: write the lower code first, e.g. "200-499"',
  ],
  ['an invalid regex', { url: 'http://x/', bodyMatches: '(unclosed' }, 'bodyMatches: "(unclosed" is not a valid regular expression: Unterminated group'],
  [
    'a regex with the g flag',
    { url: 'http://x/', bodyMatches: '/up/g' },
    'bodyMatches: flags g and y are not allowed: they make matching depend on the previous run',
  ],
  ['an unknown key', { url: 'http://x/', timeout: 5 }, 'timeout: unknown field'],
  [
    'a JSON path without $',
    { url: 'http://x/', json: [{ path: 'status' }] },
    'json.0.path: "status" is not a JSON path: it must start with $ (write it like $.status, $.items[0].name or $["content-type"])',
  ],
  [
    'a JSON path with a wildcard',
    { url: 'http://x/', json: [{ path: '$.items[*]' }] },
    'json.0.path: "$.items[*]" is not a JSON path: cannot read "[*]" (write it like $.status, $.items[0].name or $["content-type"])',
  ],
  [
    'a JSON assertion expecting a value at an absent path',
    { url: 'http://x/', json: [{ path: '$.a', equals: 1, exists: false }] },
    'json.0.equals: cannot expect a value at a path that must not exist (remove equals or exists: false)',
  ],
  [
    'a latency range that is not a Nagios range',
    { url: 'http://x/', latencyWarning: 'fast' },
    'latencyWarning: "fast" is not a Nagios range: "fast" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)',
  ],
  [
    'both basicAuth and bearerToken',
    { url: 'http://x/', basicAuth: { username: 'u', password: 'p' }, bearerToken: 't' },
    'bearerToken: set either basicAuth or bearerToken, not both',
  ],
  [
    'an Authorization header next to bearerToken',
    { url: 'http://x/', headers: { Authorization: 'Basic eA==' }, bearerToken: 't' },
    'headers.Authorization: an Authorization header conflicts with basicAuth/bearerToken: keep credentials in those (they are secret)',
  ],
  ['an invalid header name', { url: 'http://x/', headers: { 'Bad Name': 'x' } }, 'headers.Bad Name: "Bad Name" is not a valid HTTP header name'],
  [
    'certCriticalDays above certWarningDays',
    { url: 'http://x/', certWarningDays: 7, certCriticalDays: 21 },
    'certCriticalDays: must not be more than certWarningDays (7): critical comes closer to expiry than warning',
  ],
  ['a body assertion on HEAD', { url: 'http://x/', method: 'HEAD', bodyContains: 'x' }, 'method: a HEAD response has no body: use GET for body assertions'],
  [
    'an empty basic-auth password',
    { url: 'http://x/', basicAuth: { username: 'u', password: '' } },
    'basicAuth.password: Too small: expected string to have >=1 characters',
  ],
];

for (const [what, config, message] of invalid) {
  test(`the config schema refuses ${what} with a field-named error`, () => {
    assert.equal(configErrors(httpPlugin, config), message);
  });
}

// --- a private CA and client certificates -------------------------------------------------

test('run() trusts a server certificate signed by the CA in caFile (a hospital CA), and refuses it without', async (t) => {
  const url = await serveTls(t, valid30, text(200, 'ok'));
  const ca = await writeTlsFiles(valid30);
  t.after(() => ca.remove());
  const trusted = await runCheck(httpPlugin, { url, caFile: ca.certFile });
  assert.equal(trusted.outcome.status, 'OK', trusted.outcome.summary);
  const untrusted = await runCheck(httpPlugin, { url });
  assert.equal(untrusted.outcome.reason, 'tls');
});

test('run() presents certFile/keyFile to a server that requires a client certificate, and is refused without them', async (t) => {
  const client = await selfSignedCert(30, 'rounds-agent');
  const files = await writeTlsFiles(client);
  const ca = await writeTlsFiles(valid30);
  t.after(() => Promise.all([files.remove(), ca.remove()]));
  const server = https.createServer({ key: valid30.key, cert: valid30.cert, requestCert: true, rejectUnauthorized: true, ca: [client.cert] }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    res.end(`hello ${peer.subject?.CN}`);
  });
  server.on('tlsClientError', () => {});
  const port = await listenLocal(server);
  t.after(() => closeServer(server));
  const url = `https://127.0.0.1:${port}/`;

  const accepted = await runCheck(httpPlugin, {
    url,
    caFile: ca.certFile,
    certFile: files.certFile,
    keyFile: files.keyFile,
    bodyContains: 'hello rounds-agent',
  });
  assert.equal(accepted.outcome.status, 'OK', accepted.outcome.summary);
  const refused = await runCheck(httpPlugin, { url, caFile: ca.certFile });
  assert.equal(refused.outcome.status, 'CRITICAL');
  assert.ok(['tls', 'protocol_error'].includes(refused.outcome.reason), refused.outcome.summary);
});

test('run() returns UNKNOWN config_error naming the field and the file when a TLS file cannot be read', async () => {
  const report = await runCheck(httpPlugin, { url: 'https://127.0.0.1:1/', caFile: '/nonexistent/hospital-ca.pem' });
  assert.equal(report.outcome.status, 'UNKNOWN');
  assert.equal(report.outcome.reason, 'config_error');
  assert.match(report.outcome.summary, /^cannot read caFile \/nonexistent\/hospital-ca\.pem: ENOENT.* — check the path and that the agent's user may read it$/);
});

test('a client certificate needs its key, and TLS files need an https URL', () => {
  assert.equal(
    configErrors(httpPlugin, { url: 'https://pacs.example/', certFile: '/etc/rounds/c.pem' }),
    'keyFile: certFile and keyFile go together: give both or neither',
  );
  assert.equal(
    configErrors(httpPlugin, { url: 'http://pacs.example/', caFile: '/etc/rounds/ca.pem' }),
    'caFile: caFile is used only for https:// URLs: use https or remove it',
  );
});
