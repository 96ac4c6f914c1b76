// @ts-check
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { closeServer, closedPort, configErrors, listenLocal, ManualClock, metric, runCheck } from '@rounds/plugin-sdk/testing';
import plugin from './plugin.js';

const GIB = 2 ** 30;
const AUTH = `Basic ${Buffer.from('rounds:s3cret').toString('base64')}`;

/**
 * A vendor's service API on a free port: GET /service/api/v2/storage answers what `storage` holds
 * (an object for JSON, a string as it is), with basic auth; `hold` keeps the request unanswered.
 */
function vendorApi() {
  const state = { storage: /** @type {unknown} */ ({}), hold: false, held: /** @type {import('node:http').ServerResponse[]} */ ([]) };
  const server = createServer((req, res) => {
    if (req.url !== '/service/api/v2/storage') return void res.writeHead(404).end();
    if (req.headers.authorization !== AUTH) return void res.writeHead(401, { 'www-authenticate': 'Basic' }).end();
    if (state.hold) return void state.held.push(res);
    const body = typeof state.storage === 'string' ? state.storage : JSON.stringify(state.storage);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  return { server, state };
}

describe('modality-disk', () => {
  const { server, state } = vendorApi();
  let config = {};
  before(async () => {
    config = { host: '127.0.0.1', port: await listenLocal(server), tls: false, username: 'rounds', password: 's3cret' };
  });
  after(async () => {
    for (const res of state.held) res.destroy();
    await closeServer(server);
  });

  test('run() returns OK with free_bytes and used_ratio per volume when every volume is below the warning', async () => {
    state.storage = {
      volumes: [
        { name: 'images', totalBytes: 1000 * GIB, freeBytes: 400 * GIB },
        { name: 'system', totalBytes: 100 * GIB, freeBytes: 70 * GIB },
      ],
    };
    const report = await runCheck(plugin, config);
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.summary, 'images 60.0% used (400.0 GiB free); system 30.0% used (70.0 GiB free)');
    assert.equal(metric(report, 'free_bytes', { volume: 'images' }), 400 * GIB);
    assert.equal(metric(report, 'used_ratio', { volume: 'system' }), 0.3);
  });

  test('run() returns WARNING with reason=threshold when a volume is fuller than warningUsedPercent', async () => {
    state.storage = { volumes: [{ name: 'images', totalBytes: 1000 * GIB, freeBytes: 150 * GIB }] };
    const report = await runCheck(plugin, config);
    assert.equal(report.outcome.status, 'WARNING');
    assert.equal(report.outcome.reason, 'threshold');
  });

  test('run() returns CRITICAL with reason=disk_full when a volume has no space left', async () => {
    state.storage = { volumes: [{ name: 'images', totalBytes: 1000 * GIB, freeBytes: 0 }] };
    const report = await runCheck(plugin, config);
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'disk_full');
  });

  test('run() looks only at the configured volume, and says which volumes there are when it is missing', async () => {
    state.storage = {
      volumes: [
        { name: 'images', totalBytes: 1000 * GIB, freeBytes: 500 * GIB },
        { name: 'system', totalBytes: 100 * GIB, freeBytes: 1 * GIB },
      ],
    };
    const images = await runCheck(plugin, { ...config, volume: 'images' });
    assert.equal(images.outcome.status, 'OK', images.outcome.summary);
    const missing = await runCheck(plugin, { ...config, volume: 'scratch' });
    assert.equal(missing.outcome.status, 'UNKNOWN');
    assert.equal(missing.outcome.summary, 'the modality has no volume "scratch"; it has: images, system');
  });

  test('run() returns CRITICAL with reason=auth when the API refuses the account', async () => {
    const report = await runCheck(plugin, { ...config, password: 'wrong' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'auth');
    assert.doesNotMatch(report.outcome.summary, /wrong/, 'the password is never in a summary');
  });

  test('run() returns CRITICAL with reason=protocol_error naming the field when the JSON is not what the vendor documents', async () => {
    state.storage = { volumes: [{ name: 'images', total: 1000, free: 10 }] };
    const report = await runCheck(plugin, config);
    assert.equal(report.outcome.reason, 'protocol_error');
    assert.match(report.outcome.summary, /volumes\.0\.totalBytes: /);
    state.storage = '<html>maintenance</html>';
    assert.equal((await runCheck(plugin, config)).outcome.reason, 'protocol_error');
  });

  test('run() returns CRITICAL with reason=refused when the service API is not listening', async () => {
    const report = await runCheck(plugin, { ...config, port: await closedPort() });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'refused');
  });

  test('run() returns CRITICAL with reason=timeout at the deadline when the API never answers', async () => {
    const clock = new ManualClock(Date.now());
    state.hold = true;
    try {
      const running = runCheck(plugin, config, { timeoutMs: 5000, clock });
      while (state.held.length === 0) await new Promise((resolve) => setImmediate(resolve));
      await clock.advance(5000);
      const report = await running;
      assert.equal(report.outcome.status, 'CRITICAL');
      assert.equal(report.outcome.reason, 'timeout');
    } finally {
      state.hold = false;
    }
  });

  test('the schema refuses a critical threshold at or below the warning one, and an unknown field', () => {
    assert.equal(configErrors(plugin, { ...config, warningUsedPercent: 90, criticalUsedPercent: 85 }), 'criticalUsedPercent: must be above warningUsedPercent');
    assert.equal(configErrors(plugin, { ...config, pasword: 'x' }), 'pasword: unknown field');
    assert.equal(configErrors(plugin, { ...config, password: '' }), 'password: Too small: expected string to have >=1 characters');
  });
});
