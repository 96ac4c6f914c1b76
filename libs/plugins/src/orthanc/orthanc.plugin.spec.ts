import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort, configErrors, metric, runCheck } from '../testing/index.js';
import { createStudy, startOrthanc, type Orthanc } from '../../../../test/peers/orthanc.js';
import { startStoreScp, type StoreScp } from '../../../../test/peers/storescp.js';
import { startSilentListener, type SilentListener } from '../../../../test/peers/tcp.js';
import { sleep } from '../../../../test/peers/process.js';
import { orthancPlugin } from './orthanc.plugin.js';

describe('orthanc against a real Orthanc', () => {
  let orthanc: Orthanc;
  let storescp: StoreScp;
  let silent: SilentListener;
  let auth: { url: string; username: string; password: string };

  before(async () => {
    storescp = await startStoreScp({ aet: 'STORESCP' });
    const deadPort = await closedPort();
    orthanc = await startOrthanc({
      modalities: {
        answers: { aet: 'STORESCP', host: '127.0.0.1', port: storescp.port },
        silent: { aet: 'GONE', host: '127.0.0.1', port: deadPort },
      },
    });
    await createStudy(orthanc);
    silent = await startSilentListener();
    auth = { url: orthanc.url, username: orthanc.username, password: orthanc.password };
  });

  after(async () => {
    await orthanc?.stop();
    await storescp?.stop();
    await silent?.close();
  });

  it('run() returns OK with the version, counts, storage and job metrics', async () => {
    const report = await runCheck(orthancPlugin, auth);
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.match(report.outcome.summary, /^Orthanc 1\.\d+\.\d+ \(ORTHANC\) at http:\/\/127\.0\.0\.1:\d+: 1 patients, 1 studies, 1 instances/);
    assert.equal(metric(report, 'studies'), 1);
    assert.equal(metric(report, 'instances'), 1);
    assert.ok(metric(report, 'storage_bytes') > 0);
    assert.equal(metric(report, 'jobs_failed'), 0);
    assert.equal(metric(report, 'jobs_pending'), 0);
    assert.ok(metric(report, 'api_seconds') >= 0);
    assert.ok(!report.outcome.summary.includes(orthanc.password), 'the password never reaches the summary');
  });

  it('run() returns CRITICAL with one metric per modality when Orthanc cannot C-ECHO one of them', async () => {
    const report = await runCheck(orthancPlugin, { ...auth, echoModalities: true }, { timeoutMs: 10_000 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'refused');
    assert.equal(metric(report, 'modality_echo_success', { modality: 'answers' }), 1);
    assert.equal(metric(report, 'modality_echo_success', { modality: 'silent' }), 0);
    assert.ok(metric(report, 'modality_echo_seconds', { modality: 'answers' }) >= 0);
    assert.match(report.outcome.summary, /C-ECHO from Orthanc to silent failed \(refused: .*Connection refused\)/);
    assert.match(report.outcome.summary, /C-ECHO to 1\/2 modalities OK/);
  });

  it('run() returns OK when every listed modality answers C-ECHO', async () => {
    const report = await runCheck(orthancPlugin, { ...auth, echoModalities: true, modalities: ['answers'] });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'modality_echo_success', { modality: 'answers' }), 1);
  });

  it('run() returns CRITICAL config_error for a listed modality that Orthanc does not know', async () => {
    const report = await runCheck(orthancPlugin, { ...auth, echoModalities: true, modalities: ['nosuch'] });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'config_error');
    assert.match(report.outcome.summary, /nosuch failed \(not configured in Orthanc\)/);
  });

  it('run() returns CRITICAL auth when the password is wrong', async () => {
    const report = await runCheck(orthancPlugin, { ...auth, password: 'wrong' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'auth');
    assert.match(report.outcome.summary, /check username\/password/);
  });

  it('run() returns CRITICAL refused when nothing listens at the URL', async () => {
    const report = await runCheck(orthancPlugin, { url: `http://127.0.0.1:${await closedPort()}` });
    assert.equal(report.outcome.reason, 'refused');
  });

  it('run() asks "is it a plain-text port?" when an https:// URL points at Orthanc\'s plain-HTTP port, not an OpenSSL dump', async () => {
    const report = await runCheck(orthancPlugin, { ...auth, url: auth.url.replace(/^http:/, 'https:') });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls');
    assert.match(
      report.outcome.summary,
      /^GET https:\/\/127\.0\.0\.1:\d+\/system: 127\.0\.0\.1:\d+ does not answer in TLS \(wrong version number\): is it a plain-text port\?$/,
    );
  });

  it('run() returns CRITICAL timeout at the check deadline when the server never answers', async () => {
    const report = await runCheck(orthancPlugin, { url: `http://127.0.0.1:${silent.port}` }, { timeoutMs: 300 });
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.cutOff, false);
  });

  it('run() returns CRITICAL threshold when a failed job is over the jobsFailedCritical range', async () => {
    const studies = (await orthanc.rest('GET', '/studies')).body as string[];
    const job = await orthanc.rest('POST', '/modalities/silent/store', { Resources: studies, Asynchronous: true });
    assert.equal(job.status, 200, JSON.stringify(job.body));
    for (let i = 0; i < 100; i++) {
      const jobs = (await orthanc.rest('GET', '/jobs?expand')).body as Array<{ State: string }>;
      if (jobs.some((j) => j.State === 'Failure')) break;
      await sleep(100);
    }
    const report = await runCheck(orthancPlugin, { ...auth, jobsFailedWarning: '0', jobsFailedCritical: '0' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'threshold');
    assert.equal(metric(report, 'jobs_failed'), 1);
    assert.match(report.outcome.summary, /^failed jobs 1 outside critical range 0/);
  });
});

describe('orthanc config', () => {
  const base = { url: 'http://orthanc.example.org:8042' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a URL without scheme', { url: 'orthanc:8042' }, 'url: must be an http:// or https:// URL such as http://orthanc.example.org:8042'],
    ['a URL with another scheme', { url: 'ftp://orthanc' }, 'url: must be an http:// or https:// URL such as http://orthanc.example.org:8042'],
    ['a username without password', { username: 'rounds' }, 'password: username and password go together: give both or neither'],
    ['an empty password', { username: 'rounds', password: '' }, 'password: Too small: expected string to have >=1 characters'],
    ['modalities without echoModalities', { modalities: ['CT1'] }, 'modalities: modalities is only used with echoModalities: true'],
    ['an empty modalities list', { echoModalities: true, modalities: [] }, 'modalities: Too small: expected array to have >=1 items'],
    ['a zero echo timeout', { echoTimeoutSeconds: 0 }, 'echoTimeoutSeconds: Too small: expected number to be >=1'],
    [
      'a malformed jobs threshold',
      { jobsFailedCritical: 'many' },
      'jobsFailedCritical: "many" is not a Nagios range: "many" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)',
    ],
    ['an unknown field', { user: 'x' }, 'user: unknown field'],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(orthancPlugin, { ...base, ...change }), message);
    });
  }

  it('marks the password secret in the JSON Schema', async () => {
    const { toJsonSchema } = await import('../schema.js');
    const schema = toJsonSchema(orthancPlugin.configSchema) as { properties: Record<string, Record<string, unknown>> };
    assert.equal(schema.properties['password']?.['x-secret'], true);
  });
});
