import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '#rounds/common';
import { runBin, startCollector, tempDir, type CollectorHandle } from './harness.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTPS request that trusts only `ca` (the pinned certificate), as `curl --cacert` would. */
function pinned(url: string, ca: Buffer, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', ca, headers: options.headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The SHA-256 fingerprint of the certificate the server presents (no trust decision: it is what is compared). */
function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const fingerprintIn = (log: string) => /SHA-256 fingerprint ([0-9A-F:]{95})/.exec(log)?.[1];

describe('HTTPS for the UI and API', () => {
  let collector: CollectorHandle;
  let ca: Buffer;

  before(async () => {
    collector = await startCollector({ ROUNDS_TLS_SELF_SIGNED: 'true', ROUNDS_TLS_NAMES: 'rounds.ward.example' });
    ca = readFileSync(join(collector.dataDir, 'tls', 'collector.crt'));
  });
  after(() => collector.proc.stop());

  it('makes a self-signed certificate on first start, prints its fingerprint, and serves it', async () => {
    assert.match(collector.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const logged = fingerprintIn(collector.proc.output);
    assert.ok(logged, collector.proc.output);
    assert.match(collector.proc.output, /HTTPS with a new self-signed certificate .*curl --cacert/);
    assert.equal(await servedFingerprint(collector.url), logged);
    assert.equal(new X509Certificate(ca).fingerprint256, logged);
    const names = new X509Certificate(ca).subjectAltName ?? '';
    for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'DNS:rounds.ward.example']) assert.ok(names.includes(name), `${name} in ${names}`);
    assert.equal(statSync(join(collector.dataDir, 'tls', 'collector.key')).mode & 0o777, 0o600);
  });

  it('answers over TLS to a client that pins the certificate, with HSTS, and refuses plain HTTP on that port', async () => {
    const health = await pinned(`${collector.url}/healthz`, ca);
    assert.equal(health.status, 200);
    assert.match(String(health.headers['strict-transport-security']), /^max-age=31536000/);
    const api = await pinned(`${collector.url}/api/v1/me`, ca, { headers: { authorization: `Bearer ${collector.token}` } });
    assert.equal(api.status, 200, api.text);
    assert.equal((JSON.parse(api.text) as { role: string }).role, 'admin');
    const plain = collector.url.replace('https:', 'http:');
    const outcome = await new Promise<string>((resolve) => {
      httpGet(`${plain}/healthz`, (res) => resolve(`answered ${res.statusCode}`)).on('error', (e) => resolve(`failed: ${e.message}`));
    });
    assert.doesNotMatch(outcome, /answered 200/);
  });

  it('sets the session cookie Secure and __Host- prefixed on HTTPS', async () => {
    const password = /created user "admin" \(role admin\) with the password (\S+) —/.exec(collector.proc.output)?.[1];
    assert.ok(password);
    const answer = await pinned(`${collector.url}/sign-in`, ca, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: collector.url },
      body: new URLSearchParams({ name: 'admin', password, next: '/' }).toString(),
    });
    assert.equal(answer.status, 303, answer.text);
    assert.match(String(answer.headers['set-cookie']), /^__Host-rounds_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('lets the CLI on its machine trust the certificate its credentials file names; elsewhere it needs --ca, and says so', async () => {
    const here = await runBin('rounds-collector', ['agent', 'list'], { ROUNDS_DATA_DIR: collector.dataDir, ROUNDS_TOKEN: collector.token });
    assert.equal(here.code, 0, here.output);
    const elsewhere = { ROUNDS_DATA_DIR: tempDir('cli-elsewhere'), ROUNDS_URL: collector.url, ROUNDS_TOKEN: collector.token };
    const untrusted = await runBin('rounds-collector', ['agent', 'list'], elsewhere);
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.output,
      /^rounds-collector: the collector at https:\/\/127\.0\.0\.1:\d+ shows a certificate this machine does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT\) — give its certificate with --ca <file> or ROUNDS_CA .*certificate checks are never turned off$/m,
    );
    const trusted = await runBin('rounds-collector', ['agent', 'list', '--ca', join(collector.dataDir, 'tls', 'collector.crt')], elsewhere);
    assert.equal(trusted.code, 0, trusted.output);
  });

  it('keeps the same certificate across a restart', async () => {
    const before = fingerprintIn(collector.proc.output);
    await collector.proc.stop();
    await collector.start();
    assert.match(collector.proc.output, /HTTPS with the self-signed certificate/);
    assert.equal(await servedFingerprint(collector.url), before);
  });
});

describe('HTTPS with the operator’s certificate', () => {
  const dir = tempDir('tls-files');
  const files = { cert: join(dir, 'ui.crt'), key: join(dir, 'ui.key'), otherKey: join(dir, 'other.key') };

  before(async () => {
    const pair = await selfSignedCertificate('rounds.hospital.example', ['rounds.hospital.example', '127.0.0.1']);
    const other = await selfSignedCertificate('someone-else', ['localhost']);
    writeFileSync(files.cert, pair.cert);
    writeFileSync(files.key, pair.key, { mode: 0o600 });
    writeFileSync(files.otherKey, other.key, { mode: 0o600 });
  });

  it('serves the given certificate', async () => {
    const collector = await startCollector({ ROUNDS_TLS_CERT: files.cert, ROUNDS_TLS_KEY: files.key });
    try {
      assert.equal(await servedFingerprint(collector.url), new X509Certificate(readFileSync(files.cert)).fingerprint256);
      assert.equal((await pinned(`${collector.url}/healthz`, readFileSync(files.cert))).status, 200);
    } finally {
      await collector.proc.stop();
    }
  });

  it('refuses to start with a key that does not belong to the certificate, or a missing file, naming the files', async () => {
    const env = { ROUNDS_DATA_DIR: tempDir('tls-bad'), ROUNDS_HTTP_PORT: '0', ROUNDS_TLS_CERT: files.cert };
    const mismatch = await runBin('rounds-collector', ['start'], { ...env, ROUNDS_TLS_KEY: files.otherKey });
    assert.notEqual(mismatch.code, 0);
    assert.ok(mismatch.output.includes(`the key ${files.otherKey} does not belong to the certificate ${files.cert}`), mismatch.output);
    const missing = await runBin('rounds-collector', ['start'], { ...env, ROUNDS_TLS_KEY: join(dir, 'nope.key') });
    assert.notEqual(missing.code, 0);
    assert.ok(missing.output.includes(`ROUNDS_TLS_KEY ${join(dir, 'nope.key')} does not exist`), missing.output);
  });
});
