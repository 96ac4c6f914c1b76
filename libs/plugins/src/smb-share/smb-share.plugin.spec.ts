import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { closedPort, configErrors, metric, runCheck } from '../testing/index.js';
import { startSamba, type Samba } from '../../../../test/peers/samba.js';
import { startSilentListener, type SilentListener } from '../../../../test/peers/tcp.js';
import { NT_STATUS, describeNtStatus } from './nt-status.js';
import { smbclientArgs } from './smb-share.linux.js';
import { smbShareSchema } from './smb-share.schema.js';
import { smbSharePlugin } from './smb-share.plugin.js';
import { REASONS } from '#rounds/common';

const PASSWORD = 'Rounds-Test-pw1';

describe('smb-share against a real smbd', () => {
  let samba: Samba;
  let signing: Samba;
  let silent: SilentListener;
  let base: Record<string, unknown>;

  before(async () => {
    samba = await startSamba({ password: PASSWORD, shares: [{ name: 'images' }, { name: 'archive', readOnly: true }] });
    signing = await startSamba({ password: PASSWORD, shares: [{ name: 'images' }], mandatorySigning: true, requireEncryption: true });
    silent = await startSilentListener();
    base = { server: '127.0.0.1', port: samba.port, share: 'images', username: samba.user, password: PASSWORD };
  });

  after(async () => {
    await samba?.stop();
    await signing?.stop();
    await silent?.close();
  });

  it('run() returns OK with size, free space and listing time for a share the user can read', async () => {
    const report = await runCheck(smbSharePlugin, base, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.match(report.outcome.summary, /^\\\\127\.0\.0\.1\\images: listed 0 entries in \d+\.\d{3} s; .* free of /);
    const total = metric(report, 'total_bytes');
    const free = metric(report, 'free_bytes');
    assert.ok(total > 0 && free > 0 && free <= total);
    assert.equal(metric(report, 'used_bytes'), total - free);
    assert.ok(metric(report, 'used_ratio') > 0 && metric(report, 'used_ratio') < 1);
    assert.ok(metric(report, 'list_seconds') >= 0);
  });

  it('run() writes, reads back and deletes the probe file, leaving nothing behind', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, probe: true }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.ok(metric(report, 'probe_write_seconds') >= 0);
    assert.ok(metric(report, 'probe_read_seconds') >= 0);
    assert.deepEqual(readdirSync(samba.sharePath('images')), []);
  });

  it('run() returns CRITICAL auth when the password is wrong', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, password: 'wrong-password' }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'auth');
    assert.match(report.outcome.summary, /NT_STATUS_LOGON_FAILURE/);
    assert.ok(!report.outcome.summary.includes('wrong-password'));
  });

  it('run() returns CRITICAL bad_share when the server has no such share', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, share: 'nosuch' }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.reason, 'bad_share');
    assert.match(report.outcome.summary, /no share by this name \(NT_STATUS_BAD_NETWORK_NAME\)/);
  });

  it('run() returns CRITICAL bad_share when the path does not exist in the share', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, path: 'incoming/today' }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.reason, 'bad_share');
    assert.match(report.outcome.summary, /NT_STATUS_OBJECT_(NAME|PATH)_NOT_FOUND/);
  });

  it('run() returns CRITICAL access_denied when the probe cannot write to a read-only share', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, share: 'archive', probe: true }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'access_denied');
    assert.match(report.outcome.summary, /writing the probe file failed/);
    assert.ok(metric(report, 'list_seconds') >= 0, 'what was measured before the failure is kept');
  });

  it('run() returns OK against a server that requires signing and encryption', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, port: signing.port, probe: true }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
  });

  it('run() returns OK with encryption required when the server offers it', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, port: signing.port, encryption: 'required' }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
  });

  it('run() returns WARNING threshold when free space is below a percentage floor', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, freeWarning: '100%' }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'WARNING');
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, /free space below warning floor 100%$/);
  });

  it('run() returns CRITICAL threshold when free space is below a byte floor', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, freeWarning: '1000TiB', freeCritical: '999TiB' }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'threshold');
  });

  it('run() returns CRITICAL refused when nothing listens on the port', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, port: await closedPort() }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.reason, 'refused', report.outcome.summary);
  });

  it('run() returns CRITICAL dns when the server name does not resolve', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, server: 'files.rounds-test.invalid' }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.reason, 'dns', report.outcome.summary);
  });

  it('run() kills smbclient and returns CRITICAL timeout at the deadline when the server never answers', async () => {
    const report = await runCheck(smbSharePlugin, { ...base, port: silent.port }, { timeoutMs: 500 });
    assert.equal(report.outcome.reason, 'timeout', report.outcome.summary);
    assert.equal(report.cutOff, false);
  });
});

describe('smb-share NT_STATUS table', () => {
  it('maps every known NT_STATUS code to a reason from the closed set and a sentence', () => {
    for (const [code, [reason, sentence]] of Object.entries(NT_STATUS)) {
      assert.ok((REASONS as readonly string[]).includes(reason), `${code} → ${reason}`);
      assert.ok(sentence.length > 10, code);
    }
  });

  it('reports an unknown NT_STATUS code as UNKNOWN with the code instead of failing', () => {
    const verdict = describeNtStatus('NT_STATUS_SOMETHING_NEW');
    assert.equal(verdict.status, 'UNKNOWN');
    assert.match(verdict.message, /NT_STATUS_SOMETHING_NEW/);
  });
});

describe('smb-share config', () => {
  const base = { server: 'files.example.org', share: 'images' };
  it('never puts the password on the smbclient command line', () => {
    const config = smbShareSchema.parse({ ...base, username: 'svc-rounds', password: 'Secret-123', domain: 'HOSP', path: 'a/b' });
    const args = smbclientArgs(config, '10.0.0.1', 'ls');
    assert.ok(!args.some((a) => a.includes('Secret-123')), args.join(' '));
    assert.deepEqual(args, ['//files.example.org/images', '-p', '445', '-I', '10.0.0.1', '-U', 'svc-rounds', '-W', 'HOSP', '-D', 'a\\b', '-c', 'ls']);
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a UNC path as share', { share: '\\\\files\\images' }, 'share: must be a share name only, without slashes (e.g. "images", not "\\\\server\\images")'],
    ['a password without a username', { password: 'x' }, 'password: password needs a username'],
    [
      'a free-space floor that is not an amount',
      { freeWarning: 'lots' },
      'freeWarning: "lots" is not a free-space floor: use a percentage ("15%") or an amount ("50GiB", "500MB", 1073741824)',
    ],
    ['a percentage over 100', { freeCritical: '150%' }, 'freeCritical: "150%" is more than 100%'],
    [
      'a critical floor above the warning floor',
      { freeWarning: '10%', freeCritical: '20%' },
      'freeCritical: freeCritical must not be above freeWarning (both are floors on free space)',
    ],
    ['a path that climbs out of the share', { path: '../etc' }, 'path: must not contain ".." segments'],
    ['a probe file name with a slash', { probeFileName: 'a/b' }, 'probeFileName: must be a plain file name of letters, digits, ".", "_" or "-"'],
    ['an unknown encryption mode', { encryption: 'maybe' }, 'encryption: Invalid option: expected one of "auto"|"required"'],
    ['an unknown field', { signing: 'required' }, 'signing: unknown field'],
    ['an empty password', { username: 'u', password: '' }, 'password: Too small: expected string to have >=1 characters'],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(smbSharePlugin, { ...base, ...change }), message);
    });
  }

  it('reads free-space floors in bytes and percent', () => {
    const parsed = smbShareSchema.parse({ ...base, freeWarning: '50GiB', freeCritical: 1024 });
    assert.deepEqual(parsed.freeWarning, { unit: 'bytes', value: 50 * 2 ** 30, text: '50GiB' });
    assert.deepEqual(parsed.freeCritical, { unit: 'bytes', value: 1024, text: '1024' });
    assert.equal(parsed.port, 445);
    assert.equal(parsed.path, '');
    assert.equal(parsed.probe, false);
  });
});
