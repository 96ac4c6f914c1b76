import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentConfigError, loadAgentConfig, splitHostPort } from './agent-config.js';
import type { AgentEnv } from './env.js';

/** This file runs as dist/apps/agent/src/config/agent-config.spec.js; fixtures stay in the source tree. */
const fixtures = fileURLToPath(new URL('../../../../../test/fixtures/agent-config/', import.meta.url));
const fixture = (name: string) => `${fixtures}${name}`;
const noEnv: AgentEnv = { logLevel: 'log' };
const HASH_OF_TEST = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

function loadError(path: string, env: AgentEnv = noEnv): string {
  try {
    loadAgentConfig(path, env);
  } catch (e) {
    assert.ok(e instanceof AgentConfigError, `expected an AgentConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail(`${path} loaded without error`);
}

describe('loadAgentConfig', () => {
  it('fills every default around the required settings', () => {
    const config = loadAgentConfig(fixture('valid.yaml'), noEnv);
    assert.equal(config.id, '3b241101-e2bb-4255-8caf-4136c566a962');
    assert.equal(config.tokenSha256, HASH_OF_TEST);
    assert.equal(config.listen, '0.0.0.0:7443');
    assert.equal(config.advertise, undefined);
    assert.deepEqual(config.checks, { concurrency: 16, maxChecks: 1000, minIntervalMs: 1000 });
    assert.deepEqual(config.spool, { maxResults: 100_000, maxBytes: 64 * 1024 * 1024, maxAgeHours: 72, dir: 'spool' });
    assert.equal(config.spoolDir, fixture('spool'), 'the spool folder is not next to the config file by default');
    assert.deepEqual(config.collect, { maxResults: 5000 });
  });

  it('keeps every setting the file gives', () => {
    const config = loadAgentConfig(fixture('full.yaml'), noEnv);
    assert.equal(config.listen, '[::]:9443');
    assert.equal(config.advertise, 'pacs-agent.hospital.example:9443');
    assert.deepEqual(config.checks, { concurrency: 4, maxChecks: 250, minIntervalMs: 5000 });
    assert.deepEqual(config.spool, { maxResults: 1000, maxBytes: 1_048_576, maxAgeHours: 24, dir: '/var/lib/rounds/spool' });
    assert.equal(config.spoolDir, '/var/lib/rounds/spool');
    assert.deepEqual(config.collect, { maxResults: 200 });
  });

  it('keeps the custom plugin packages and fills in the limits a plugin leaves out', () => {
    const config = loadAgentConfig(fixture('plugins.yaml'), noEnv);
    assert.equal(config.pluginDir, fixture('plugins'));
    assert.deepEqual(config.plugins.packages, ['@acme/rounds-plugin-ups', 'rounds-plugin-printer']);
    assert.deepEqual(config.plugins.limits, { 'ups-status': { concurrency: 4, memoryMb: 128 }, 'printer-page': { concurrency: 2, memoryMb: 32 } });
    assert.equal(config.plugins.checkWriters, true);
    assert.deepEqual(loadAgentConfig(fixture('valid.yaml'), noEnv).plugins, { packages: [], limits: {}, checkWriters: true });
  });

  it("resolves relative TLS paths against the config file's folder and keeps absolute ones", () => {
    const relativeTls = loadAgentConfig(fixture('valid.yaml'), noEnv);
    assert.equal(relativeTls.path, fixture('valid.yaml'));
    assert.equal(relativeTls.tlsCertPath, fixture('agent.crt'));
    assert.equal(relativeTls.tlsKeyPath, fixture('keys/agent.key'));

    const absoluteTls = loadAgentConfig(fixture('full.yaml'), noEnv);
    assert.equal(absoluteTls.tlsCertPath, '/etc/rounds/agent.crt');
    assert.equal(absoluteTls.tlsKeyPath, '/etc/rounds/agent.key');
  });

  it('resolves against the file, not the working directory, when given a relative path', () => {
    const config = loadAgentConfig(relative(process.cwd(), fixture('valid.yaml')), noEnv);
    assert.equal(config.path, fixture('valid.yaml'));
    assert.equal(config.tlsCertPath, fixture('agent.crt'));
    assert.equal(config.spoolDir, fixture('spool'));
  });

  it("resolves a relative spool.dir against the config file's folder", () => {
    const config = loadAgentConfig(fixture('relative-spool-dir.yaml'), noEnv);
    assert.equal(config.spool.dir, '../spool-of-ward-3');
    assert.equal(config.spoolDir, join(fixtures, '..', 'spool-of-ward-3'));
  });

  it('returns a frozen config', () => {
    const config = loadAgentConfig(fixture('valid.yaml'), noEnv);
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { listen: string }).listen = '0.0.0.0:1';
    }, TypeError);
  });

  it('ROUNDS_AGENT_LISTEN overrides listen from the file', () => {
    const config = loadAgentConfig(fixture('full.yaml'), { logLevel: 'log', listen: '127.0.0.1:17443' });
    assert.equal(config.listen, '127.0.0.1:17443');
  });

  it('ROUNDS_AGENT_TOKEN replaces the token hash with the SHA-256 of the clear token', () => {
    const token = 'Qm9vdHN0cmFwLXRva2VuLWZvci10ZXN0cy0xMjM0NTY';
    const config = loadAgentConfig(fixture('valid.yaml'), { logLevel: 'log', token });
    assert.equal(config.tokenSha256, createHash('sha256').update(token).digest('hex'));
    assert.notEqual(config.tokenSha256, HASH_OF_TEST);
  });

  it('accepts a file without tokenSha256 when ROUNDS_AGENT_TOKEN supplies the token', () => {
    assert.equal(
      loadError(fixture('no-token.yaml')),
      `agent config ${fixture('no-token.yaml')} is invalid: tokenSha256: is missing: run \`rounds-agent init\` to make a token ` +
        '(or `rounds-agent init --site-key-file <file>` for a collector to claim this agent with the site key), or set ROUNDS_AGENT_TOKEN',
    );
    const config = loadAgentConfig(fixture('no-token.yaml'), { logLevel: 'log', token: 'test' });
    assert.equal(config.tokenSha256, HASH_OF_TEST);
  });

  it('refuses an invalid ROUNDS_AGENT_LISTEN naming the listen field', () => {
    assert.equal(
      loadError(fixture('valid.yaml'), { logLevel: 'log', listen: 'localhost' }),
      `agent config ${fixture('valid.yaml')} is invalid: listen: must be host:port, e.g. 0.0.0.0:7443 or [::]:7443`,
    );
  });

  const invalid: [string, string, string][] = [
    ['an unknown key', 'unknown-key.yaml', 'is invalid: listn: unknown field'],
    ['an unknown key inside a section', 'unknown-nested-key.yaml', 'is invalid: tls.ca: unknown field'],
    ['listen without a host', 'bad-listen.yaml', 'is invalid: listen: must be host:port, e.g. 0.0.0.0:7443 or [::]:7443'],
    ['a listen port above 65535', 'bad-listen-port.yaml', 'is invalid: listen: port must be 0–65535'],
    [
      'a tokenSha256 that is not a SHA-256',
      'bad-token-sha256.yaml',
      'is invalid: tokenSha256: must be the hex SHA-256 of the token (written by `rounds-agent init`)',
    ],
    ['an id that is not a UUID', 'bad-id.yaml', 'is invalid: id: Invalid UUID'],
    ['a missing tls section', 'missing-tls.yaml', 'is invalid: tls: Invalid input: expected object, received undefined'],
    ['a tls section without its key', 'missing-tls-key.yaml', 'is invalid: tls.key: Invalid input: expected string, received undefined'],
    ['a spool too small to be useful', 'bad-spool-max-results.yaml', 'is invalid: spool.maxResults: Too small: expected number to be >=100'],
    [
      'spool sizes written as text and a zero age',
      'bad-spool-max-bytes.yaml',
      'is invalid: spool.maxBytes: Invalid input: expected number, received string; spool.maxAgeHours: Too small: expected number to be >0',
    ],
    ['an empty spool folder', 'bad-spool-dir.yaml', 'is invalid: spool.dir: must name a folder, e.g. /var/lib/rounds/spool'],
    ['a fractional check concurrency', 'bad-concurrency.yaml', 'is invalid: checks.concurrency: Invalid input: expected int, received number'],
    [
      'no room for a check and an interval floor below the shortest timeout',
      'bad-check-limits.yaml',
      'is invalid: checks.maxChecks: Too small: expected number to be >=1; checks.minIntervalMs: Too small: expected number to be >=100',
    ],
    [
      'plugin limits for a name that is no plugin name, below their floors or with an unknown key, and a package name npm would refuse',
      'bad-plugin-limits.yaml',
      'is invalid: plugins.packages.0: must be an npm package name, e.g. @acme/rounds-plugin-ups; plugins.limits.UPS: must be the kebab-case name of a custom plugin; ' +
        'plugins.limits.ups-status.concurrency: Too small: expected number to be >=1; plugins.limits.ups-status.memoryMb: Too small: expected number to be >=16; plugins.limits.ups-status.cpu: unknown field',
    ],
    [
      'a word for whether to check who may write plugins',
      'bad-check-writers.yaml',
      'is invalid: plugins.checkWriters: Invalid input: expected boolean, received string',
    ],
    ['a list instead of a mapping', 'not-a-mapping.yaml', 'must be a YAML mapping of settings (key: value), not a list'],
    ['a certificate given as the config file', 'certificate-given-as-config.yaml', 'must be a YAML mapping of settings (key: value), not a string'],
  ];
  for (const [what, file, problem] of invalid) {
    it(`refuses ${what} with a message naming the file and the field (${file})`, () => {
      assert.equal(loadError(fixture(file)), `agent config ${fixture(file)} ${problem}`);
    });
  }

  it('refuses a file that is not YAML, naming the file and where the parser stopped', () => {
    const firstLine = loadError(fixture('not-yaml.yaml')).split('\n')[0];
    assert.equal(
      firstLine,
      `agent config ${fixture('not-yaml.yaml')} is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 1:`,
    );
  });

  it('refuses a missing file, saying how to create one with the path as given', () => {
    const given = relative(process.cwd(), fixture('does-not-exist.yaml'));
    assert.equal(
      loadError(given),
      `cannot read agent config ${fixture('does-not-exist.yaml')}: ENOENT: no such file or directory, open '${fixture('does-not-exist.yaml')}'` +
        ` — create one with \`rounds-agent init --config ${given}\``,
    );
  });
});

describe('splitHostPort', () => {
  it('splits host names, IPv4 and bracketed IPv6 addresses from their port', () => {
    assert.deepEqual(splitHostPort('pacs-agent:7443'), { host: 'pacs-agent', port: 7443 });
    assert.deepEqual(splitHostPort('10.0.4.7:1'), { host: '10.0.4.7', port: 1 });
    assert.deepEqual(splitHostPort('[::]:9443'), { host: '::', port: 9443 });
    assert.deepEqual(splitHostPort('[fd00::7]:0'), { host: 'fd00::7', port: 0 });
  });
});
