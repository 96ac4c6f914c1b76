import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedPort, configErrors, metric, runCheck, selfSignedCert } from '../testing/index.js';
import { createStudy, startOrthanc, type Orthanc } from '../../../../test/peers/orthanc.js';
import { startStoreScp, type StoreScp } from '../../../../test/peers/storescp.js';
import { startSilentListener, type SilentListener } from '../../../../test/peers/tcp.js';
import { makeTempDir } from '../../../../test/peers/process.js';
import { dicomEchoPlugin } from './dicom-echo.plugin.js';

describe('dicom-echo against real DICOM peers', () => {
  let orthanc: Orthanc;
  let storescp: StoreScp;
  let silent: SilentListener;

  before(async () => {
    orthanc = await startOrthanc({ aet: 'ORTHANC', checkCalledAet: true });
    await createStudy(orthanc, { StudyDate: '20240102' });
    await createStudy(orthanc, { StudyDate: '20240103', PatientID: 'ROUNDS-2' });
    storescp = await startStoreScp({ aet: 'STORESCP' });
    silent = await startSilentListener();
  });

  after(async () => {
    await orthanc?.stop();
    await storescp?.stop();
    await silent?.close();
  });

  it('run() returns OK with connect, association and echo times when storescp answers C-ECHO', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'STORESCP' });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.reason, 'ok');
    assert.match(report.outcome.summary, /^C-ECHO to STORESCP@127\.0\.0\.1:\d+ succeeded in \d+\.\d{3} s/);
    for (const name of ['connect_seconds', 'association_seconds', 'echo_seconds']) {
      assert.ok(metric(report, name) >= 0, name);
    }
    assert.ok(!report.outcome.metrics.some((m) => m.name === 'tls_cert_expiry_days'), 'no certificate over plain TCP');
  });

  it('run() returns OK against Orthanc when the called AE title is the one Orthanc checks for', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: 'ORTHANC' });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
  });

  it('run() returns CRITICAL association_rejected with the reject decoded to words when the called AE title is wrong', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: 'NOT-ORTHANC' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'association_rejected');
    assert.match(
      report.outcome.summary,
      /rejected permanently by the service user: called AE title not recognized — the node is not called NOT-ORTHANC: check calledAet against the node's AE title$/,
    );
    assert.ok(metric(report, 'connect_seconds') >= 0);
  });

  it('run() reports the matches and query time of a study-level C-FIND that Orthanc answers', async () => {
    const report = await runCheck(dicomEchoPlugin, {
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      calledAet: 'ORTHANC',
      find: { studyDate: '20240101-20240131' },
    });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'find_matches'), 2);
    assert.ok(metric(report, 'find_seconds') >= 0);
    assert.match(report.outcome.summary, /C-FIND for StudyDate 20240101-20240131 returned 2 studies/);
  });

  it('run() stops a C-FIND at its limit with C-CANCEL and still returns OK', async () => {
    const report = await runCheck(dicomEchoPlugin, {
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      calledAet: 'ORTHANC',
      find: { studyDate: '*', limit: 1 },
    });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.ok(metric(report, 'find_matches') >= 1);
  });

  it('run() accepts zero C-FIND matches for today as a valid answer', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: 'ORTHANC', find: {} });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'find_matches'), 0);
  });

  it('run() returns CRITICAL unexpected_response when the node does not accept C-FIND', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'STORESCP', find: {} });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(report.outcome.summary, /does not accept study-level C-FIND/);
  });

  it('run() returns CRITICAL refused when nothing listens on the port', async () => {
    const port = await closedPort();
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port, calledAet: 'ANY' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'refused');
    assert.equal(report.cutOff, false);
  });

  it('run() writes an IPv6 address in brackets in its summary ([::1]:port, not ::1:port)', async () => {
    const port = await closedPort();
    const report = await runCheck(dicomEchoPlugin, { host: '::1', port, calledAet: 'ANY' });
    assert.equal(report.outcome.reason, 'refused');
    assert.ok(report.outcome.summary.startsWith(`ANY@[::1]:${port}: `), report.outcome.summary);
  });

  it('run() returns CRITICAL dns when the host name does not resolve', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: 'pacs.rounds-test.invalid', port: 104, calledAet: 'ANY' });
    assert.equal(report.outcome.reason, 'dns', report.outcome.summary);
  });

  it('run() returns CRITICAL timeout naming the association when the port accepts but never answers', async () => {
    const started = Date.now();
    const report = await runCheck(
      dicomEchoPlugin,
      { host: '127.0.0.1', port: silent.port, calledAet: 'ANY', associationTimeoutSeconds: 0.3 },
      { timeoutMs: 5000 },
    );
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /no answer during association/);
    assert.ok(Date.now() - started < 2500, 'the association timeout, not the check deadline, ended it');
  });

  it('run() stops at the check deadline when it comes before the association timeout', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: silent.port, calledAet: 'ANY' }, { timeoutMs: 300 });
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.cutOff, false, 'the plugin returned by itself when its signal fired');
  });

  it('run() returns WARNING threshold when the round trip is outside the warning range', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'STORESCP', warning: '~:0' });
    assert.equal(report.outcome.status, 'WARNING');
    assert.equal(report.outcome.reason, 'threshold');
  });
});

describe('dicom-echo over DICOM TLS', () => {
  let storescp: StoreScp;
  let expired: StoreScp;
  let dir: string;
  let caFile: string;

  before(async () => {
    const cert = await selfSignedCert(30, 'localhost');
    storescp = await startStoreScp({ aet: 'TLSSCP', tls: { keyPem: cert.key, certPem: cert.cert } });
    const lapsed = await selfSignedCert(-1, 'localhost');
    expired = await startStoreScp({ aet: 'LAPSED', tls: { keyPem: lapsed.key, certPem: lapsed.cert } });
    dir = makeTempDir('dicom-tls');
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, cert.cert);
  });

  after(async () => {
    await storescp?.stop();
    await expired?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("run() returns OK over TLS when the node certificate is trusted, with the certificate's days left as a metric and in the summary", async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'TLSSCP', tls: { caFile } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    const days = metric(report, 'tls_cert_expiry_days');
    assert.ok(days > 29.8 && days <= 30, `days left: ${days}`);
    assert.match(report.outcome.summary, /; certificate expires in (29\.9|30\.0) days$/);
  });

  it('run() returns WARNING threshold when the certificate expires within certWarningDays', async () => {
    const report = await runCheck(dicomEchoPlugin, {
      host: '127.0.0.1',
      port: storescp.port,
      calledAet: 'TLSSCP',
      tls: { caFile, certWarningDays: 45 },
    });
    assert.equal(report.outcome.status, 'WARNING', report.outcome.summary);
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, / — the certificate expires in (29\.9|30\.0) days \(warning below 45\)$/);
  });

  it('run() returns CRITICAL threshold when the certificate expires within certCriticalDays', async () => {
    const report = await runCheck(dicomEchoPlugin, {
      host: '127.0.0.1',
      port: storescp.port,
      calledAet: 'TLSSCP',
      tls: { caFile, certWarningDays: 60, certCriticalDays: 45 },
    });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, /the certificate expires in (29\.9|30\.0) days \(critical below 45\)$/);
  });

  it('run() returns CRITICAL tls for an expired certificate even with verify off, though the C-ECHO succeeded', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: expired.port, calledAet: 'LAPSED', tls: { verify: false } });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls');
    assert.match(report.outcome.summary, /^C-ECHO to LAPSED@127\.0\.0\.1:\d+ succeeded in .*, but the certificate expired 1\.0 days ago$/);
    assert.ok(metric(report, 'tls_cert_expiry_days') < -0.9);
  });

  it('run() returns CRITICAL tls naming the expiry when verify is on and the certificate has expired', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: expired.port, calledAet: 'LAPSED', tls: {} });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls');
    assert.match(report.outcome.summary, /certificate has expired/);
  });

  it('run() returns CRITICAL tls when the node certificate is not trusted', async () => {
    const report = await runCheck(dicomEchoPlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'TLSSCP', tls: {} });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls', report.outcome.summary);
    assert.match(report.outcome.summary, /self-signed certificate/);
  });

  it('run() returns UNKNOWN config_error when a TLS file cannot be read', async () => {
    const report = await runCheck(dicomEchoPlugin, {
      host: '127.0.0.1',
      port: storescp.port,
      calledAet: 'TLSSCP',
      tls: { caFile: join(dir, 'missing.pem') },
    });
    assert.equal(report.outcome.status, 'UNKNOWN');
    assert.equal(report.outcome.reason, 'config_error');
    assert.match(
      report.outcome.summary,
      /^TLSSCP@127\.0\.0\.1:\d+: cannot read caFile .*missing\.pem: ENOENT.* — check the path and that the agent's user may read it$/,
    );
  });
});

describe('dicom-echo library loading', () => {
  it('loads dcmjs-dimse on the first DICOM check, not with the plugins', async () => {
    // a fresh process: this spec's own process has the library loaded by the DICOM peers
    const plugins = new URL('../index.js', import.meta.url).href;
    const port = await closedPort();
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const dimseLoaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/dcmjs-dimse/'));
      const { builtinPlugins, runPlugin } = await import(${JSON.stringify(plugins)});
      const dicom = builtinPlugins().find((p) => p.name === 'dicom-echo');
      const before = dimseLoaded();
      const config = dicom.configSchema.parse({ host: '127.0.0.1', port: ${port}, calledAet: 'PACS' });
      const report = await runPlugin(dicom, config, { timeoutMs: 5000 });
      console.log(JSON.stringify({ before, after: dimseLoaded(), reason: report.outcome.reason }));
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const result = JSON.parse(out.trim().split('\n').pop()!) as { before: boolean; after: boolean; reason: string };
    assert.equal(result.before, false, 'dcmjs-dimse loaded with the plugins');
    assert.equal(result.after, true, 'dcmjs-dimse loaded by a DICOM check');
    assert.equal(result.reason, 'refused');
  });
});

describe('dicom-echo config', () => {
  const base = { host: 'pacs.example.org', calledAet: 'PACS' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an AE title longer than 16 characters', { calledAet: 'A234567890123456X' }, 'calledAet: must be at most 16 characters (DICOM AE title), got 17'],
    ['an AE title with a backslash', { calledAet: 'PACS\\1' }, 'calledAet: must not contain a backslash (DICOM AE title)'],
    ['an AE title of spaces only', { calledAet: '    ' }, 'calledAet: must not be empty or all spaces (DICOM AE title)'],
    ['an empty AE title', { callingAet: '' }, 'callingAet: must not be empty or all spaces (DICOM AE title)'],
    [
      'an AE title with a control character',
      { callingAet: 'ROUNDS\t' },
      'callingAet: must not contain control characters such as tab or newline (DICOM AE title)',
    ],
    ['an AE title with non-ASCII characters', { calledAet: 'PÄCS' }, 'calledAet: must use plain ASCII characters only (DICOM AE title)'],
    ['a missing called AE title', { calledAet: undefined }, 'calledAet: Invalid input: expected string, received undefined'],
    ['a host with a scheme', { host: 'dicom://pacs' }, 'host: must be a host name or IP address, without scheme or port'],
    ['a port out of range', { port: 70000 }, 'port: Too big: expected number to be <=65535'],
    ['an unknown field', { aet: 'X' }, 'aet: unknown field'],
    ['a zero timeout', { responseTimeoutSeconds: 0 }, 'responseTimeoutSeconds: Too small: expected number to be >0'],
    ['a malformed threshold', { warning: 'fast' }, 'warning: "fast" is not a Nagios range: "fast" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)'],
    [
      'a client certificate without its key',
      { tls: { certFile: '/etc/rounds/cert.pem' } },
      'tls.keyFile: certFile and keyFile go together: give both or neither',
    ],
    ['a C-FIND limit of zero', { find: { limit: 0 } }, 'find.limit: Too small: expected number to be >=1'],
    [
      'certCriticalDays above certWarningDays',
      { tls: { certWarningDays: 5, certCriticalDays: 10 } },
      'tls.certCriticalDays: must not be more than certWarningDays (5): critical comes closer to expiry than warning',
    ],
    ['negative certWarningDays', { tls: { certWarningDays: -1 } }, 'tls.certWarningDays: Too small: expected number to be >=0'],
    [
      'a C-FIND study date that is not a DICOM date',
      { find: { studyDate: '2024-01-01' } },
      'find.studyDate: must be "today", "*" (any date), or a DICOM date or range such as 20240101-20240131',
    ],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(dicomEchoPlugin, { ...base, ...change }), message);
    });
  }

  it('fills the documented defaults', () => {
    const parsed = dicomEchoPlugin.configSchema.parse(base);
    assert.equal(parsed.port, 104);
    assert.equal(parsed.callingAet, 'ROUNDS');
    assert.equal(parsed.connectTimeoutSeconds, 5);
    assert.equal(parsed.associationTimeoutSeconds, 10);
    assert.equal(parsed.responseTimeoutSeconds, 10);
  });
});
