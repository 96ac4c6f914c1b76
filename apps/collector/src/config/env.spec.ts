import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { readCliConfig, readCollectorConfig } from './env.js';
import { MAKE_A_KEY } from '../storage/secret-box.js';

describe('readCollectorConfig', () => {
  it('fills every documented default when nothing is set', () => {
    assert.deepEqual(
      { ...readCollectorConfig({}) },
      {
        dataDir: resolve('data'),
        databaseUrl: undefined,
        httpHost: '127.0.0.1',
        httpPort: 8380,
        pollIntervalMs: 15_000,
        pollTimeoutMs: 10_000,
        pollConcurrency: 16,
        pollBatch: 5000,
        downAfter: 3,
        maxBackoffMs: 300_000,
        collectorName: hostname(),
        lease: { renewMs: 5000, ttlMs: 15_000 },
        apiToken: undefined,
        apiRateLimit: 600,
        logLevel: 'log',
        notifyRetryMs: 30_000,
        notifyMaxRetryMs: 3_600_000,
        storageAlertAfterMs: 60_000,
        metricsAuth: {},
        maxChecksPerAgent: 1000,
        minCheckIntervalMs: 1000,
        retention: { rawMs: 7 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 1830 * 86_400_000 },
      },
    );
  });

  it('names the collector and times its leases from the poll interval unless told, and refuses a ttl not longer than the renewal', () => {
    const config = readCollectorConfig({ ROUNDS_COLLECTOR_NAME: 'collector-2', ROUNDS_POLL_INTERVAL_MS: '30000', ROUNDS_LEASE_TTL_MS: '20000' });
    assert.equal(config.collectorName, 'collector-2');
    assert.deepEqual(config.lease, { renewMs: 5000, ttlMs: 20_000 });
    assert.throws(
      () => readCollectorConfig({ ROUNDS_LEASE_RENEW_MS: '15000' }),
      /ROUNDS_LEASE_RENEW_MS: the lease ttl \(15000 ms\) must be longer than the renewal interval \(15000 ms\)/,
    );
    assert.throws(() => readCollectorConfig({ ROUNDS_COLLECTOR_NAME: 'two words' }), /ROUNDS_COLLECTOR_NAME: must be 1 to 100 printable characters/);
  });

  it('reads retention per tier as durations, and refuses a tier that would outlive the one it is made from', () => {
    assert.deepEqual(readCollectorConfig({ ROUNDS_RETENTION_RAW: '2d', ROUNDS_RETENTION_1M: '720h', ROUNDS_RETENTION_1H: '3650d' }).retention, {
      rawMs: 2 * 86_400_000,
      minuteMs: 30 * 86_400_000,
      hourMs: 3650 * 86_400_000,
    });
    assert.throws(() => readCollectorConfig({ ROUNDS_RETENTION_1M: '3d' }), /ROUNDS_RETENTION_1M: must be at least ROUNDS_RETENTION_RAW/);
    assert.throws(() => readCollectorConfig({ ROUNDS_RETENTION_1H: '30d' }), /ROUNDS_RETENTION_1H: must be at least ROUNDS_RETENTION_1M/);
    assert.throws(() => readCollectorConfig({ ROUNDS_RETENTION_RAW: '6h' }), /ROUNDS_RETENTION_RAW: must be at least 1d, got "6h"/);
    assert.throws(() => readCollectorConfig({ ROUNDS_RETENTION_RAW: 'a week' }), /ROUNDS_RETENTION_RAW: must be a duration like 30s/);
  });

  it('reads every setting, turning numbers from text and the data folder into an absolute path', () => {
    const config = readCollectorConfig({
      ROUNDS_DATA_DIR: 'var/rounds',
      ROUNDS_DATABASE_URL: 'postgresql://rounds@db/rounds',
      ROUNDS_HTTP_HOST: '0.0.0.0',
      ROUNDS_HTTP_PORT: '0',
      ROUNDS_POLL_INTERVAL_MS: '500',
      ROUNDS_POLL_TIMEOUT_MS: '120000',
      ROUNDS_POLL_CONCURRENCY: '1',
      ROUNDS_POLL_BATCH: '50000',
      ROUNDS_DOWN_AFTER: '100',
      ROUNDS_MAX_BACKOFF_MS: '1000',
      ROUNDS_API_TOKEN: 'x'.repeat(24),
      ROUNDS_API_RATE_LIMIT: '120',
      ROUNDS_LOG_LEVEL: 'debug',
      ROUNDS_NOTIFY_RETRY_MS: '500',
      ROUNDS_NOTIFY_MAX_RETRY_MS: '2000',
      ROUNDS_STORAGE_ALERT_AFTER_MS: '5000',
      ROUNDS_METRICS_TOKEN: 'm'.repeat(24),
      ROUNDS_METRICS_USER: 'prometheus',
      ROUNDS_METRICS_PASSWORD: 'p'.repeat(12),
      ROUNDS_MAX_CHECKS_PER_AGENT: '5000',
      ROUNDS_MIN_CHECK_INTERVAL_MS: '200',
      ROUNDS_SECRET_KEY_FILE: 'var/rounds.key',
    });
    assert.deepEqual(
      { ...config },
      {
        dataDir: resolve('var/rounds'),
        databaseUrl: 'postgresql://rounds@db/rounds',
        httpHost: '0.0.0.0',
        httpPort: 0,
        pollIntervalMs: 500,
        pollTimeoutMs: 120_000,
        pollConcurrency: 1,
        pollBatch: 50_000,
        downAfter: 100,
        maxBackoffMs: 1000,
        collectorName: hostname(),
        lease: { renewMs: 250, ttlMs: 500 },
        apiToken: 'x'.repeat(24),
        apiRateLimit: 120,
        logLevel: 'debug',
        notifyRetryMs: 500,
        notifyMaxRetryMs: 2000,
        storageAlertAfterMs: 5000,
        metricsAuth: { token: 'm'.repeat(24), basic: { user: 'prometheus', password: 'p'.repeat(12) } },
        maxChecksPerAgent: 5000,
        minCheckIntervalMs: 200,
        secretKeyFile: resolve('var/rounds.key'),
        retention: { rawMs: 7 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 1830 * 86_400_000 },
      },
    );
  });

  it('decodes ROUNDS_SECRET_KEY and ROUNDS_SECRET_KEY_NEW from base64, which satisfies PostgreSQL without a key file', () => {
    const key = Buffer.alloc(32, 7);
    const next = Buffer.alloc(32, 9);
    const config = readCollectorConfig({
      ROUNDS_DATABASE_URL: 'postgres://db/rounds',
      ROUNDS_SECRET_KEY: ` ${key.toString('base64')}\n`,
      ROUNDS_SECRET_KEY_NEW: next.toString('base64'),
    });
    assert.deepEqual(config.secretKey, key);
    assert.deepEqual(config.newSecretKey, next);
    assert.equal(config.secretKeyFile, undefined);
  });

  it('never repeats a refused secret key in its message', () => {
    const leaked = 'c2VjcmV0LWtleS10aGF0LWlzLXRvby1zaG9ydA==';
    assert.throws(
      () => readCollectorConfig({ ROUNDS_SECRET_KEY: leaked }),
      (e: Error) => !e.message.includes(leaked) && e.message.includes('ROUNDS_SECRET_KEY:'),
    );
  });

  it('reads the roles that must use two-factor sign-in, and names a role it does not know', () => {
    assert.deepEqual(readCollectorConfig({ ROUNDS_2FA_REQUIRED_ROLES: ' Admin, operator,admin ' }).twoFactorRequiredRoles, ['admin', 'operator']);
    assert.equal(readCollectorConfig({}).twoFactorRequiredRoles, undefined);
    assert.throws(
      () => readCollectorConfig({ ROUNDS_2FA_REQUIRED_ROLES: 'admin,superuser' }),
      /ROUNDS_2FA_REQUIRED_ROLES.*"superuser" is not a role: list roles from admin, operator, viewer/,
    );
  });

  it('reads HTTPS as certificate and key files or a self-signed certificate, and names a half-set or doubly-set pair', () => {
    assert.equal(readCollectorConfig({}).tls, undefined);
    assert.deepEqual(readCollectorConfig({ ROUNDS_TLS_CERT: 'ui.crt', ROUNDS_TLS_KEY: '/etc/rounds/ui.key' }).tls, {
      certFile: resolve('ui.crt'),
      keyFile: '/etc/rounds/ui.key',
    });
    assert.deepEqual(readCollectorConfig({ ROUNDS_TLS_SELF_SIGNED: 'true', ROUNDS_TLS_NAMES: 'rounds.ward.local, 10.0.4.2' }).tls, {
      selfSigned: { names: ['rounds.ward.local', '10.0.4.2'] },
    });
    assert.equal(readCollectorConfig({ ROUNDS_TLS_SELF_SIGNED: 'false' }).tls, undefined);
    assert.throws(() => readCollectorConfig({ ROUNDS_TLS_CERT: 'ui.crt' }), /ROUNDS_TLS_KEY: set ROUNDS_TLS_CERT and ROUNDS_TLS_KEY together/);
    assert.throws(
      () => readCollectorConfig({ ROUNDS_TLS_CERT: 'a', ROUNDS_TLS_KEY: 'b', ROUNDS_TLS_SELF_SIGNED: 'true' }),
      /ROUNDS_TLS_SELF_SIGNED: set ROUNDS_TLS_SELF_SIGNED=true or ROUNDS_TLS_CERT\/ROUNDS_TLS_KEY, not both/,
    );
    assert.throws(() => readCollectorConfig({ ROUNDS_TLS_SELF_SIGNED: 'yes' }), /ROUNDS_TLS_SELF_SIGNED: must be true or false/);
  });

  it('returns a frozen config', () => {
    assert.ok(Object.isFrozen(readCollectorConfig({})));
  });

  it('ignores variables that are not its own', () => {
    assert.equal(readCollectorConfig({ ROUNDS_HTTP_PORTT: 'nonsense', PORT: 'x', HOME: '/root' }).httpPort, 8380);
  });

  it('treats a blank variable as unset rather than as 0 or an empty path', () => {
    const config = readCollectorConfig({ ROUNDS_HTTP_PORT: '', ROUNDS_DATA_DIR: ' ', ROUNDS_API_TOKEN: '', ROUNDS_DATABASE_URL: '' });
    assert.equal(config.httpPort, 8380);
    assert.equal(config.dataDir, resolve('data'));
    assert.equal(config.apiToken, undefined);
    assert.equal(config.databaseUrl, undefined);
  });

  const invalid: [Record<string, string>, string][] = [
    [{ ROUNDS_HTTP_PORT: 'http' }, 'ROUNDS_HTTP_PORT: Invalid input: expected number, received NaN'],
    [{ ROUNDS_HTTP_PORT: '70000' }, 'ROUNDS_HTTP_PORT: Too big: expected number to be <=65535'],
    [{ ROUNDS_DATABASE_URL: 'mysql://rounds@db/rounds' }, 'ROUNDS_DATABASE_URL: must be a postgres:// URL (leave unset for the embedded SQLite database)'],
    [
      { ROUNDS_DATABASE_URL: 'postgres:///rounds', ROUNDS_SECRET_KEY: Buffer.alloc(32).toString('base64') },
      'ROUNDS_DATABASE_URL: must name a server and a database, e.g. postgres://rounds:PASSWORD@db.example:5432/rounds',
    ],
    [
      { ROUNDS_DATABASE_URL: 'postgres://rounds:hunter2@db.example:5432', ROUNDS_SECRET_KEY: Buffer.alloc(32).toString('base64') },
      'ROUNDS_DATABASE_URL: must name a server and a database, e.g. postgres://rounds:PASSWORD@db.example:5432/rounds',
    ],
    [{ ROUNDS_POLL_INTERVAL_MS: '100' }, 'ROUNDS_POLL_INTERVAL_MS: Too small: expected number to be >=500'],
    [{ ROUNDS_POLL_INTERVAL_MS: '15s' }, 'ROUNDS_POLL_INTERVAL_MS: Invalid input: expected number, received NaN'],
    [{ ROUNDS_POLL_TIMEOUT_MS: '120001' }, 'ROUNDS_POLL_TIMEOUT_MS: Too big: expected number to be <=120000'],
    [{ ROUNDS_POLL_CONCURRENCY: '1.5' }, 'ROUNDS_POLL_CONCURRENCY: Invalid input: expected int, received number'],
    [{ ROUNDS_POLL_BATCH: '0' }, 'ROUNDS_POLL_BATCH: Too small: expected number to be >=1'],
    [{ ROUNDS_DOWN_AFTER: '101' }, 'ROUNDS_DOWN_AFTER: Too big: expected number to be <=100'],
    [{ ROUNDS_MAX_BACKOFF_MS: '999' }, 'ROUNDS_MAX_BACKOFF_MS: Too small: expected number to be >=1000'],
    [{ ROUNDS_API_TOKEN: 'short' }, 'ROUNDS_API_TOKEN: must be at least 24 characters'],
    [{ ROUNDS_LOG_LEVEL: 'verbose' }, 'ROUNDS_LOG_LEVEL: Invalid option: expected one of "error"|"warn"|"log"|"debug"'],
    [{ ROUNDS_MAX_CHECKS_PER_AGENT: '0' }, 'ROUNDS_MAX_CHECKS_PER_AGENT: Too small: expected number to be >=1'],
    [{ ROUNDS_MAX_CHECKS_PER_AGENT: 'many' }, 'ROUNDS_MAX_CHECKS_PER_AGENT: Invalid input: expected number, received NaN'],
    [{ ROUNDS_MIN_CHECK_INTERVAL_MS: '50' }, 'ROUNDS_MIN_CHECK_INTERVAL_MS: Too small: expected number to be >=100'],
    [{ ROUNDS_MIN_CHECK_INTERVAL_MS: '1s' }, 'ROUNDS_MIN_CHECK_INTERVAL_MS: Invalid input: expected number, received NaN'],
    [{ ROUNDS_METRICS_TOKEN: 'short' }, 'ROUNDS_METRICS_TOKEN: must be at least 24 characters'],
    [{ ROUNDS_METRICS_USER: 'prom:etheus', ROUNDS_METRICS_PASSWORD: 'p'.repeat(12) }, 'ROUNDS_METRICS_USER: must not contain ":" (HTTP basic auth)'],
    [
      { ROUNDS_METRICS_USER: 'prometheus' },
      'ROUNDS_METRICS_PASSWORD: set ROUNDS_METRICS_USER and ROUNDS_METRICS_PASSWORD together (HTTP basic auth on /metrics)',
    ],
    [
      { ROUNDS_METRICS_PASSWORD: 'p'.repeat(12) },
      'ROUNDS_METRICS_USER: set ROUNDS_METRICS_USER and ROUNDS_METRICS_PASSWORD together (HTTP basic auth on /metrics)',
    ],
    [
      { ROUNDS_SECRET_KEY: Buffer.alloc(16).toString('base64') },
      `ROUNDS_SECRET_KEY: must be 32 random bytes in base64 (44 characters) — make one with ${MAKE_A_KEY}`,
    ],
    [{ ROUNDS_SECRET_KEY: 'not base64 at all!' }, `ROUNDS_SECRET_KEY: must be 32 random bytes in base64 (44 characters) — make one with ${MAKE_A_KEY}`],
    [{ ROUNDS_SECRET_KEY_NEW: 'x' }, `ROUNDS_SECRET_KEY_NEW: must be 32 random bytes in base64 (44 characters) — make one with ${MAKE_A_KEY}`],
    [
      { ROUNDS_SECRET_KEY: Buffer.alloc(32).toString('base64'), ROUNDS_SECRET_KEY_FILE: '/etc/rounds/secret.key' },
      'ROUNDS_SECRET_KEY_FILE: set ROUNDS_SECRET_KEY or ROUNDS_SECRET_KEY_FILE, not both',
    ],
    [
      { ROUNDS_DATABASE_URL: 'postgres://db/rounds' },
      `ROUNDS_SECRET_KEY: is required with ROUNDS_DATABASE_URL (it encrypts agent tokens and channel secrets): set ROUNDS_SECRET_KEY to a key made with ${MAKE_A_KEY}, ` +
        'or ROUNDS_SECRET_KEY_FILE to a file on persistent storage (created on first start); back the key up apart from the database',
    ],
    [
      { ROUNDS_HTTP_PORT: 'http', ROUNDS_DOWN_AFTER: '0' },
      'ROUNDS_HTTP_PORT: Invalid input: expected number, received NaN; ROUNDS_DOWN_AFTER: Too small: expected number to be >=1',
    ],
  ];
  for (const [env, problems] of invalid) {
    it(`refuses ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} naming the variable`, () => {
      assert.throws(() => readCollectorConfig(env), { message: `collector settings are invalid: ${problems}` });
    });
  }
});

describe('readCliConfig', () => {
  it('reads where the collector is, the token and the certificate to trust, and the data folder whose credentials file says both', () => {
    assert.deepEqual({ ...readCliConfig({}) }, { dataDir: resolve('data') });
    assert.deepEqual(
      {
        ...readCliConfig({
          ROUNDS_DATA_DIR: 'var/rounds',
          ROUNDS_URL: 'https://rounds.hospital.example:8380',
          ROUNDS_TOKEN: ' rnd_abc ',
          ROUNDS_CA: 'tls/collector.crt',
          // A collector setting that is wrong does not stop a command that only talks to a collector.
          ROUNDS_HTTP_PORT: 'http',
        }),
      },
      { dataDir: resolve('var/rounds'), url: 'https://rounds.hospital.example:8380', token: 'rnd_abc', caFile: resolve('tls/collector.crt') },
    );
  });

  it('refuses a URL that is not http(s) and a token with spaces, naming the variable', () => {
    assert.throws(() => readCliConfig({ ROUNDS_URL: 'rounds.hospital.example:8380', ROUNDS_TOKEN: 'two words' }), {
      message:
        "command-line settings are invalid: ROUNDS_URL: must be the collector's http:// or https:// address, e.g. https://rounds.hospital.example:8380; " +
        'ROUNDS_TOKEN: must be an API token (printable characters, no spaces)',
    });
  });
});
