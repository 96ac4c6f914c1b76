import { test, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { closedPort, closeServer, configErrors, listenLocal, metric, runCheck } from '../testing/harness.js';
import { selfSignedCert, writeTlsFiles, type TlsFixture } from '../testing/tls-fixture.js';
import { tcpPlugin } from './tcp.plugin.js';

// The spec runs from dist/, the sample and README stay beside the source.
const sourceDir = dirname(fileURLToPath(import.meta.url)).replace(`${sep}dist${sep}`, sep);

type OnSocket = (socket: net.Socket) => void;

/** A real server on an OS-assigned port whose sockets are torn down when the test ends. */
async function serve(t: TestContext, onSocket: OnSocket, fixture?: TlsFixture): Promise<number> {
  const sockets = new Set<net.Socket>();
  const track: OnSocket = (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  };
  const server = fixture ? tls.createServer({ key: fixture.key, cert: fixture.cert }, track).on('tlsClientError', () => {}) : net.createServer(track);
  const port = await listenLocal(server);
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  });
  return port;
}

/** Answers "PING" with "PONG", anything else with "ERR" and a close. */
const pingPong: OnSocket = (socket) => {
  socket.on('data', (chunk: Buffer) => {
    if (chunk.toString() === 'PING\r\n') socket.write('PONG\r\n');
    else socket.end('ERR\r\n');
  });
};

let valid30: TlsFixture;
let expired: TlsFixture;
before(async () => {
  [valid30, expired] = await Promise.all([selfSignedCert(30), selfSignedCert(-1)]);
});

test('run() returns OK with connect and total time when the port accepts', async (t) => {
  const port = await serve(t, () => {});
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port });
  assert.equal(report.outcome.status, 'OK');
  assert.equal(report.outcome.reason, 'ok');
  assert.match(report.outcome.summary, new RegExp(`^connected to 127\\.0\\.0\\.1:${port} in \\d+ ms$`));
  assert.ok(metric(report, 'connect_seconds') >= 0);
  assert.ok(metric(report, 'total_seconds') >= metric(report, 'connect_seconds'));
  assert.throws(() => metric(report, 'response_seconds'), /no metric response_seconds/);
});

test('run() returns OK with response_seconds when the answer to send contains expect', async (t) => {
  const port = await serve(t, pingPong);
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, send: 'PING\r\n', expect: 'PONG' });
  assert.equal(report.outcome.status, 'OK');
  assert.match(report.outcome.summary, new RegExp(`^127\\.0\\.0\\.1:${port} answered "PONG" in \\d+ ms$`));
  assert.ok(metric(report, 'response_seconds') >= 0);
});

test('run() returns OK when a banner matches expectMatches without sending anything', async (t) => {
  const port = await serve(t, (socket) => socket.write('220 mail.example.org ESMTP ready\r\n'));
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, expectMatches: '/^220 .*ready/m' });
  assert.equal(report.outcome.status, 'OK');
  assert.match(report.outcome.summary, /answered "220 mail\.example\.org ESMTP ready" in \d+ ms$/);
});

test('run() returns CRITICAL with reason=unexpected_response when the peer closes without the expected text', async (t) => {
  const port = await serve(t, pingPong);
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, send: 'HELLO\r\n', expect: 'PONG' });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'unexpected_response');
  assert.equal(report.outcome.summary, `127.0.0.1:${port} closed the connection after 5 bytes without a response containing "PONG" (got 5 bytes: "ERR\\r\\n")`);
});

test('run() returns CRITICAL with reason=unexpected_response when maxResponseBytes arrive without a match', async (t) => {
  const port = await serve(t, (socket) => socket.write('x'.repeat(200)));
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, expectMatches: 'OK', maxResponseBytes: 100 });
  assert.equal(report.outcome.reason, 'unexpected_response');
  assert.match(report.outcome.summary, /sent \d+ bytes \(maxResponseBytes\) without a response matching \/OK\//);
});

test('run() returns CRITICAL with reason=timeout naming what it waited for when the answer never matches', async (t) => {
  const port = await serve(t, (socket) => socket.write('HELLO'));
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, expect: 'PONG' }, { timeoutMs: 300 });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'timeout');
  assert.match(
    report.outcome.summary,
    new RegExp(`^timed out after \\d+ ms waiting for a response containing "PONG" from 127\\.0\\.0\\.1:${port} \\(got 5 bytes: "HELLO"\\)$`),
  );
  assert.equal(report.cutOff, false, 'the plugin stopped at its deadline by itself');
});

test('run() returns CRITICAL with reason=refused when nothing listens on the port', async () => {
  const port = await closedPort();
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'refused');
  assert.equal(report.outcome.summary, `connection to 127.0.0.1:${port} refused: nothing listens there or a firewall rejects it`);
});

test('run() returns CRITICAL with reason=dns when the host name does not resolve', async () => {
  const report = await runCheck(tcpPlugin, { host: 'no-such-host.rounds.invalid', port: 104 });
  assert.equal(report.outcome.reason, 'dns');
  assert.match(report.outcome.summary, /no-such-host\.rounds\.invalid/);
});

test('run() returns OK over TLS with tls_seconds and tls_cert_expiry_days when tlsVerify is off', async (t) => {
  const port = await serve(t, pingPong, valid30);
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, tls: true, tlsVerify: false, send: 'PING\r\n', expect: 'PONG' });
  assert.equal(report.outcome.status, 'OK', report.outcome.summary);
  assert.ok(metric(report, 'tls_seconds') >= 0);
  const days = metric(report, 'tls_cert_expiry_days');
  assert.ok(Math.abs(days - 30) < 0.1, `days ${days}`);
  assert.match(report.outcome.summary, /answered "PONG" over TLS in \d+ ms; certificate expires in (29\.9|30\.0) days$/);
});

test('run() returns CRITICAL with reason=tls for a self-signed certificate when tlsVerify is on', async (t) => {
  const port = await serve(t, pingPong, valid30);
  const report = await runCheck(tcpPlugin, { host: 'localhost', port, tls: true });
  assert.equal(report.outcome.status, 'CRITICAL');
  assert.equal(report.outcome.reason, 'tls');
  assert.equal(
    report.outcome.summary,
    `TLS verification of localhost:${port} failed: the certificate is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); fix the certificate or set tlsVerify: false`,
  );
});

test('run() returns CRITICAL with reason=tls for an expired certificate even when tlsVerify is off', async (t) => {
  const port = await serve(t, () => {}, expired);
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, tls: true, tlsVerify: false });
  assert.equal(report.outcome.reason, 'tls');
  assert.match(report.outcome.summary, / but the certificate expired 1\.0 days ago$/);
});

test('run() returns CRITICAL with reason=timeout naming the TLS handshake when the peer never speaks TLS', async (t) => {
  const port = await serve(t, () => {});
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, tls: true }, { timeoutMs: 300 });
  assert.equal(report.outcome.reason, 'timeout');
  assert.match(report.outcome.summary, new RegExp(`^timed out after \\d+ ms during the TLS handshake with 127\\.0\\.0\\.1:${port}$`));
});

test('run() returns WARNING with reason=threshold when the total time is above latencyWarning', async (t) => {
  const port = await serve(t, (socket) => {
    setTimeout(() => socket.write('READY'), 150);
  });
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port, expect: 'READY', latencyWarning: '0.05' });
  assert.equal(report.outcome.status, 'WARNING');
  assert.equal(report.outcome.reason, 'threshold');
  assert.match(report.outcome.summary, /answered "READY" in \d+ ms: latency \d+ ms is above the warning limit 0\.05 s$/);
});

test('sample.yaml is a valid tcp config', async () => {
  const sample: unknown = parseYaml(await readFile(join(sourceDir, 'sample.yaml'), 'utf8'));
  assert.equal(configErrors(tcpPlugin, sample), '');
});

const invalid: [string, Record<string, unknown>, string][] = [
  ['a missing port', { host: 'pacs' }, 'port: Invalid input: expected number, received undefined'],
  ['a port out of range', { host: 'pacs', port: 70000 }, 'port: Too big: expected number to be <=65535'],
  ['a host with a scheme', { host: 'tcp://pacs', port: 104 }, 'host: must be a host name or IP address, without scheme or port'],
  ['an unknown key', { host: 'pacs', port: 104, timeout: 5 }, 'timeout: unknown field'],
  [
    'an invalid regex',
    { host: 'pacs', port: 104, expectMatches: '[a-' },
    'expectMatches: "[a-" is not a valid regular expression: Unterminated character class',
  ],
  [
    'both expect and expectMatches',
    { host: 'pacs', port: 104, expect: 'a', expectMatches: 'b' },
    'expectMatches: set either expect or expectMatches, not both',
  ],
  [
    'a servername without tls',
    { host: 'pacs', port: 104, servername: 'pacs.example.org' },
    'servername: servername is used only for TLS: set tls: true or remove it',
  ],
  [
    'a latency range that starts above its end',
    { host: 'pacs', port: 104, latencyCritical: '2:1' },
    'latencyCritical: "2:1" is not a Nagios range: start 2 is greater than end 1',
  ],
  [
    'certCriticalDays above certWarningDays',
    { host: 'pacs', port: 104, tls: true, certWarningDays: 5, certCriticalDays: 10 },
    'certCriticalDays: must not be more than certWarningDays (5): critical comes closer to expiry than warning',
  ],
];

for (const [what, config, message] of invalid) {
  test(`the config schema refuses ${what} with a field-named error`, () => {
    assert.equal(configErrors(tcpPlugin, config), message);
  });
}

test('run() trusts a certificate signed by the CA in caFile, and presents certFile/keyFile to a peer that requires a client certificate', async (t) => {
  const client = await selfSignedCert(30, 'rounds-agent');
  const [ca, files] = await Promise.all([writeTlsFiles(valid30), writeTlsFiles(client)]);
  t.after(() => Promise.all([ca.remove(), files.remove()]));
  const sockets = new Set<net.Socket>();
  const server = tls
    .createServer({ key: valid30.key, cert: valid30.cert, requestCert: true, rejectUnauthorized: true, ca: [client.cert] }, (socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write(`HELLO ${socket.getPeerCertificate().subject?.CN}\r\n`);
    })
    .on('tlsClientError', () => {});
  const port = await listenLocal(server);
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  });
  const base = { host: '127.0.0.1', port, tls: true, servername: 'localhost', expect: 'HELLO rounds-agent' };
  const accepted = await runCheck(tcpPlugin, { ...base, caFile: ca.certFile, certFile: files.certFile, keyFile: files.keyFile });
  assert.equal(accepted.outcome.status, 'OK', accepted.outcome.summary);
  const noClientCert = await runCheck(tcpPlugin, { ...base, caFile: ca.certFile });
  assert.equal(noClientCert.outcome.status, 'CRITICAL', noClientCert.outcome.summary);
  const untrusted = await runCheck(tcpPlugin, { ...base, certFile: files.certFile, keyFile: files.keyFile });
  assert.equal(untrusted.outcome.reason, 'tls');
});

test('run() returns UNKNOWN config_error naming the field and the file when a TLS file cannot be read', async () => {
  const report = await runCheck(tcpPlugin, { host: '127.0.0.1', port: 1, tls: true, caFile: '/nonexistent/hospital-ca.pem' });
  assert.equal(report.outcome.reason, 'config_error');
  assert.match(report.outcome.summary, /^cannot read caFile \/nonexistent\/hospital-ca\.pem: ENOENT/);
});

test('TLS files need tls: true, and a client certificate its key', () => {
  assert.equal(
    configErrors(tcpPlugin, { host: 'pacs', port: 104, caFile: '/etc/rounds/ca.pem' }),
    'caFile: caFile is used only for TLS: set tls: true or remove it',
  );
  assert.equal(
    configErrors(tcpPlugin, { host: 'pacs', port: 104, tls: true, keyFile: '/etc/rounds/k.pem' }),
    'certFile: certFile and keyFile go together: give both or neither',
  );
});
