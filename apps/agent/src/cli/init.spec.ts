import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { makeSiteKey, parseEnrolment, SITE_KEY_RULE, siteKeyVerifier } from '#rounds/common';
import { loadAgentConfig } from '../config/agent-config.js';
import { certificateFingerprint, initAgent } from './init.js';

const noEnv = { logLevel: 'log' } as const;

describe('initAgent', () => {
  let root: string;
  let n = 0;
  /** A fresh, empty folder per test, all under one temp root removed at the end. */
  const freshDir = () => join(root, `case-${++n}`);

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'rounds-init-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes the config, certificate and key next to each other, the key readable by its owner only', async () => {
    const dir = freshDir();
    await initAgent({ configPath: join(dir, 'agent.yaml'), listen: '127.0.0.1:7443', force: false });

    for (const file of ['agent.yaml', 'agent.crt', 'agent.key']) assert.ok(existsSync(join(dir, file)), `${file} was not written`);
    assert.equal(statSync(join(dir, 'agent.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'agent.yaml')).mode & 0o077, 0, 'the config (token hash) is readable by others');
    assert.match(readFileSync(join(dir, 'agent.key'), 'utf8'), /^-----BEGIN (EC )?PRIVATE KEY-----/);
  });

  it("ends with an enrolment string that carries the agent's address, a token and the written certificate's fingerprint", async () => {
    const dir = freshDir();
    const lines = await initAgent({ configPath: join(dir, 'agent.yaml'), listen: '127.0.0.1:7443', force: false });

    const enrolment = parseEnrolment(lines.at(-1)!);
    const pem = readFileSync(join(dir, 'agent.crt'), 'utf8');
    assert.equal(enrolment.host, '127.0.0.1');
    assert.equal(enrolment.port, 7443);
    assert.equal(enrolment.fingerprint, certificateFingerprint(pem));
    assert.equal(enrolment.fingerprint, createHash('sha256').update(new X509Certificate(pem).raw).digest('hex'));
    assert.ok(
      lines.slice(0, -1).every((line) => !line.includes(enrolment.token)),
      'the token appears before the last line',
    );
  });

  it('writes a config that loadAgentConfig accepts, holding only the hash of the printed token', async () => {
    const dir = freshDir();
    const configPath = join(dir, 'agent.yaml');
    const lines = await initAgent({ configPath, listen: '127.0.0.1:7443', force: false });
    const { token } = parseEnrolment(lines.at(-1)!);

    const config = loadAgentConfig(configPath, noEnv);
    assert.equal(config.listen, '127.0.0.1:7443');
    assert.equal(config.tokenSha256, createHash('sha256').update(token).digest('hex'));
    assert.equal(config.tlsCertPath, join(dir, 'agent.crt'));
    assert.equal(config.tlsKeyPath, join(dir, 'agent.key'));
    assert.ok(!readFileSync(configPath, 'utf8').includes(token), 'the clear token was written to the config');
    assert.match(lines[0]!, new RegExp(`^wrote ${configPath} \\(agent ${config.id}\\)$`));
  });

  it('issues a certificate the collector can dial by the advertised name, localhost or 127.0.0.1', async () => {
    const dir = freshDir();
    const lines = await initAgent({
      configPath: join(dir, 'agent.yaml'),
      listen: '0.0.0.0:7443',
      advertise: 'pacs-agent.hospital.example:9443',
      force: false,
    });
    const cert = new X509Certificate(readFileSync(join(dir, 'agent.crt')));
    assert.equal(cert.checkHost('pacs-agent.hospital.example'), 'pacs-agent.hospital.example');
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.ok(new Date(cert.validTo).getTime() > Date.now() + 9 * 365 * 24 * 3600 * 1000, `valid only until ${cert.validTo}`);

    const enrolment = parseEnrolment(lines.at(-1)!);
    assert.deepEqual([enrolment.host, enrolment.port], ['pacs-agent.hospital.example', 9443]);
    assert.equal(loadAgentConfig(join(dir, 'agent.yaml'), noEnv).advertise, 'pacs-agent.hospital.example:9443');
  });

  it("puts this machine's host name in the enrolment string when listening on every address", async () => {
    const dir = freshDir();
    const lines = await initAgent({ configPath: join(dir, 'agent.yaml'), listen: '0.0.0.0:7443', force: false });
    assert.equal(parseEnrolment(lines.at(-1)!).host, hostname());
  });

  it('writes spool.dir into the config: next to it by default, or the folder --spool-dir names', async () => {
    const byDefault = freshDir();
    await initAgent({ configPath: join(byDefault, 'agent.yaml'), listen: '127.0.0.1:7443', force: false });
    assert.match(readFileSync(join(byDefault, 'agent.yaml'), 'utf8'), /^spool:\n {2}dir: spool$/m);
    assert.equal(loadAgentConfig(join(byDefault, 'agent.yaml'), noEnv).spoolDir, join(byDefault, 'spool'));

    const given = freshDir();
    await initAgent({ configPath: join(given, 'agent.yaml'), listen: '127.0.0.1:7443', spoolDir: '/var/lib/rounds/spool', force: false });
    assert.equal(loadAgentConfig(join(given, 'agent.yaml'), noEnv).spoolDir, '/var/lib/rounds/spool');
    assert.equal(existsSync(join(given, 'spool')), false, 'init created a spool folder next to the config');
  });

  it('writes a relative --spool-dir as the absolute folder it names from the working directory', async () => {
    const dir = freshDir();
    await initAgent({
      configPath: join(dir, 'conf', 'agent.yaml'),
      listen: '127.0.0.1:7443',
      spoolDir: relative(process.cwd(), join(dir, 'data', 'spool')),
      force: false,
    });
    const config = loadAgentConfig(join(dir, 'conf', 'agent.yaml'), noEnv);
    assert.equal(config.spool.dir, join(dir, 'data', 'spool'));
    assert.equal(config.spoolDir, join(dir, 'data', 'spool'));
  });

  it('refuses an empty --spool-dir before writing anything', async () => {
    const dir = freshDir();
    await assert.rejects(initAgent({ configPath: join(dir, 'agent.yaml'), listen: '127.0.0.1:7443', spoolDir: '', force: false }), {
      message: '--spool-dir "": must name a folder, e.g. /var/lib/rounds/spool',
    });
    assert.equal(existsSync(dir), false);
  });

  it('names the certificate and key after the config file', async () => {
    const dir = freshDir();
    await initAgent({ configPath: join(dir, 'ward-3.yml'), listen: '127.0.0.1:7443', force: false });
    assert.ok(existsSync(join(dir, 'ward-3.crt')));
    assert.ok(existsSync(join(dir, 'ward-3.key')));
  });

  it('refuses to overwrite an existing config without force, and leaves it as it was', async () => {
    const dir = freshDir();
    const configPath = join(dir, 'agent.yaml');
    await initAgent({ configPath, listen: '127.0.0.1:7443', force: false });
    const before = readFileSync(configPath, 'utf8');

    await assert.rejects(initAgent({ configPath, listen: '127.0.0.1:7443', force: false }), {
      message: `${configPath} already exists — pass --force to replace it (the old token and certificate stop working)`,
    });
    assert.equal(readFileSync(configPath, 'utf8'), before);
  });

  it('replaces the config, token and certificate with force', async () => {
    const dir = freshDir();
    const configPath = join(dir, 'agent.yaml');
    const first = parseEnrolment((await initAgent({ configPath, listen: '127.0.0.1:7443', force: false })).at(-1)!);
    const second = parseEnrolment((await initAgent({ configPath, listen: '127.0.0.1:7443', force: true })).at(-1)!);

    assert.notEqual(second.token, first.token);
    assert.notEqual(second.fingerprint, first.fingerprint);
    assert.equal(second.fingerprint, certificateFingerprint(readFileSync(join(dir, 'agent.crt'), 'utf8')));
    assert.equal(loadAgentConfig(configPath, noEnv).tokenSha256, createHash('sha256').update(second.token).digest('hex'));
  });

  it('refuses port 0 without an advertised address, since the enrolment string needs a fixed port', async () => {
    const dir = freshDir();
    await assert.rejects(initAgent({ configPath: join(dir, 'agent.yaml'), listen: '127.0.0.1:0', force: false }), {
      message: 'the enrolment string needs a fixed port: pass --listen host:port (not port 0) or --advertise host:port',
    });
    assert.equal(existsSync(join(dir, 'agent.yaml')), false);
  });

  it('accepts port 0 when an advertised address gives the port to dial', async () => {
    const dir = freshDir();
    const lines = await initAgent({ configPath: join(dir, 'agent.yaml'), listen: '127.0.0.1:0', advertise: '10.0.4.7:7443', force: false });
    assert.deepEqual((({ host, port }) => ({ host, port }))(parseEnrolment(lines.at(-1)!)), { host: '10.0.4.7', port: 7443 });
  });

  it('refuses a listen address that is not host:port before writing anything', async () => {
    const dir = freshDir();
    await assert.rejects(initAgent({ configPath: join(dir, 'agent.yaml'), listen: '7443', force: false }), (e: Error) => {
      assert.match(e.message, /must be host:port, e\.g\. 0\.0\.0\.0:7443 or \[::\]:7443/);
      return true;
    });
    assert.equal(existsSync(dir), false);
  });

  it('with a site key writes no token and no enrolment string: only a verifier derived from the key and the new id, never the key', async () => {
    const dir = freshDir();
    const configPath = join(dir, 'agent.yaml');
    const siteKey = makeSiteKey();
    const lines = await initAgent({ configPath, listen: '127.0.0.1:7443', force: false, siteKey });

    const config = loadAgentConfig(configPath, noEnv);
    assert.equal(config.tokenSha256, undefined);
    assert.equal(config.siteKeyVerifier, (await siteKeyVerifier(siteKey, config.id)).toString('hex'));
    const text = readFileSync(configPath, 'utf8');
    assert.ok(!text.includes(siteKey), 'the site key was written to the config');
    assert.match(text, /^# No token yet: a collector holding the site key claims this agent/m);
    assert.ok(!lines.some((l) => l.includes('rounds://')), 'an enrolment string was printed');
    assert.ok(!lines.some((l) => l.includes(siteKey)), 'the site key was printed');
    const fingerprint = certificateFingerprint(readFileSync(join(dir, 'agent.crt'), 'utf8'));
    assert.equal(lines.at(-1), `waiting to be claimed with the site key: agent ${config.id} at 127.0.0.1:7443, certificate sha256 ${fingerprint}`);
  });

  it('reads the site key from --site-key-file, without the line end an editor adds', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const siteKey = makeSiteKey();
    writeFileSync(join(dir, 'site.key'), `${siteKey}\n`, { mode: 0o600 });
    await initAgent({ configPath: join(dir, 'agent.yaml'), listen: '127.0.0.1:7443', force: false, siteKeyFile: join(dir, 'site.key') });
    const config = loadAgentConfig(join(dir, 'agent.yaml'), noEnv);
    assert.equal(config.siteKeyVerifier, (await siteKeyVerifier(siteKey, config.id)).toString('hex'));
  });

  it('refuses a site key that is too short or has other characters, both flags at once, and an unreadable key file — before writing anything', async () => {
    const dir = freshDir();
    const init = (o: { siteKey?: string; siteKeyFile?: string }) =>
      initAgent({ configPath: join(dir, 'agent.yaml'), listen: '127.0.0.1:7443', force: false, ...o });
    await assert.rejects(init({ siteKey: 'short' }), { message: `--site-key ${SITE_KEY_RULE}` });
    await assert.rejects(init({ siteKey: `${makeSiteKey()} ` }), { message: `--site-key ${SITE_KEY_RULE}` });
    await assert.rejects(init({ siteKey: makeSiteKey(), siteKeyFile: '/x' }), { message: 'pass --site-key or --site-key-file, not both' });
    await assert.rejects(init({ siteKeyFile: join(dir, 'missing.key') }), (e: Error) => {
      assert.match(e.message, new RegExp(`^--site-key-file ${join(dir, 'missing.key')}: cannot read it \\(ENOENT`));
      return true;
    });
    assert.equal(existsSync(dir), false);
  });
});
