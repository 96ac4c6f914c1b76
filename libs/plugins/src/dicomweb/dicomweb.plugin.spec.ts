import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { localDateTime, mapSecrets, redactSecrets, REDACTED } from '#rounds/common';
import { closedPort, closeServer, configErrors, listenLocal, metric, runCheck } from '../testing/harness.js';
import { selfSignedCert, writeTlsFiles } from '../testing/tls-fixture.js';
import { toJsonSchema } from '../schema.js';
import { startOrthanc, type Orthanc } from '../../../../test/peers/orthanc.js';
import { makeInstance, storeInstance } from '../../../../test/peers/dicom-files.js';
import { startTlsProxy, type TlsProxy } from '../../../../test/peers/tls-proxy.js';
import { startSilentListener, type SilentListener } from '../../../../test/peers/tcp.js';
import { dicomwebPlugin } from './dicomweb.plugin.js';

/** Today's date as DICOM writes it (YYYYMMDD), in the zone the agent runs in. */
function localDicomDate(at = new Date()): string {
  return `${at.getFullYear()}${String(at.getMonth() + 1).padStart(2, '0')}${String(at.getDate()).padStart(2, '0')}`;
}

async function serve(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  const port = await listenLocal(server);
  t.after(() => closeServer(server));
  return `http://127.0.0.1:${port}`;
}

describe('dicomweb against Orthanc with its DICOMweb plugin', () => {
  let orthanc: Orthanc;
  let proxy: TlsProxy;
  let silent: SilentListener;
  let tlsFiles: Awaited<ReturnType<typeof writeTlsFiles>>;
  let root: string;
  let basicAuth: { username: string; password: string };
  /** The QA study: two instances, a patient id of its own, dated today. */
  let qaStudy: string;

  before(async () => {
    orthanc = await startOrthanc({ dicomWeb: true });
    root = `${orthanc.url}/dicom-web`;
    basicAuth = { username: orthanc.username, password: orthanc.password };
    const first = await makeInstance({ PatientID: 'QA-PHANTOM', PatientName: 'QA^PHANTOM', StudyDate: localDicomDate() });
    qaStudy = first.studyInstanceUid;
    await storeInstance(orthanc, first.file);
    const second = await makeInstance({ PatientID: 'QA-PHANTOM', StudyInstanceUID: qaStudy, SeriesInstanceUID: first.seriesInstanceUid, InstanceNumber: '2' });
    await storeInstance(orthanc, second.file);
    await storeInstance(orthanc, (await makeInstance({ PatientID: 'OTHER-1', StudyDate: '20200101' })).file);

    const fixture = await selfSignedCert(30);
    tlsFiles = await writeTlsFiles(fixture);
    proxy = await startTlsProxy({
      upstream: orthanc.url,
      key: fixture.key,
      cert: fixture.cert,
      upstreamAuth: basicAuth,
      bearerTokens: { 'reader-token': 'read', 'no-scope-token': 'forbidden' },
    });
    silent = await startSilentListener();
  });

  after(async () => {
    await proxy?.close();
    await silent?.close();
    await tlsFiles?.remove();
    await orthanc?.stop();
  });

  it('run() returns OK with the search and retrieval timings, the match and its instances when the query finds the QA study', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, query: { PatientID: 'QA-PHANTOM' } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.reason, 'ok');
    assert.match(
      report.outcome.summary,
      /^DICOMweb at http:\/\/127\.0\.0\.1:\d+\/dicom-web: QIDO-RS found 1 study in \d+ ms; WADO-RS metadata of the first study \(2 instances, [\d.]+ KiB\) in \d+ ms$/,
    );
    assert.equal(metric(report, 'search_matches'), 1);
    assert.equal(metric(report, 'metadata_instances'), 2);
    assert.ok(metric(report, 'metadata_bytes') > 1000);
    assert.ok(metric(report, 'search_seconds') >= 0);
    assert.ok(metric(report, 'metadata_seconds') >= 0);
    assert.ok(metric(report, 'total_seconds') >= metric(report, 'search_seconds'));
    assert.ok(!report.outcome.summary.includes(orthanc.password), 'the password never reaches the summary');
  });

  it('run() finds the study dated today with StudyDate: today, and only it', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, query: { StudyDate: 'today' }, limit: 10 });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'search_matches'), 1);
    assert.equal(metric(report, 'metadata_instances'), 2);
  });

  it('run() reads today in the configured timeZone: the date on the Line Islands is never the date on Samoa', async () => {
    const kiritimati = localDateTime(Date.now(), 'Pacific/Kiritimati');
    const date = `${kiritimati.year}${String(kiritimati.month).padStart(2, '0')}${String(kiritimati.day).padStart(2, '0')}`;
    await storeInstance(orthanc, (await makeInstance({ PatientID: 'TZ-1', StudyDate: date })).file);
    const query = { PatientID: 'TZ-1', StudyDate: 'today' };
    const there = await runCheck(dicomwebPlugin, { url: root, basicAuth, query, timeZone: 'Pacific/Kiritimati' });
    assert.equal(metric(there, 'search_matches'), 1, there.outcome.summary);
    const elsewhere = await runCheck(dicomwebPlugin, { url: root, basicAuth, query, timeZone: 'Pacific/Pago_Pago', retrieveMetadata: false });
    assert.equal(metric(elsewhere, 'search_matches'), 0, elsewhere.outcome.summary);
  });

  it('run() stops the search at limit and retrieves the metadata of the configured studyInstanceUid', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, limit: 1, studyInstanceUid: qaStudy });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'search_matches'), 1);
    assert.equal(metric(report, 'metadata_instances'), 2);
    assert.match(report.outcome.summary, new RegExp(`WADO-RS metadata of study ${qaStudy.replace(/\./g, '\\.')} \\(2 instances`));
  });

  it('run() searches only with retrieveMetadata: false', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, retrieveMetadata: false, query: { PatientID: 'OTHER-1' } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'search_matches'), 1);
    assert.throws(() => metric(report, 'metadata_seconds'), /no metric metadata_seconds/);
  });

  it('run() returns WARNING/assertion naming the query when no study matches, and skips the retrieval', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, query: { PatientID: 'NOBODY' } });
    assert.equal(report.outcome.status, 'WARNING');
    assert.equal(report.outcome.reason, 'assertion');
    assert.match(report.outcome.summary, /^no study matches \?PatientID=NOBODY&limit=1 — DICOMweb at .*: QIDO-RS found 0 studies in \d+ ms$/);
    assert.equal(metric(report, 'search_matches'), 0);
    assert.throws(() => metric(report, 'metadata_seconds'), /no metric/);
  });

  it('run() returns OK when no study matches and noMatchStatus is OK', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, query: { PatientID: 'NOBODY' }, noMatchStatus: 'OK' });
    assert.equal(report.outcome.status, 'OK');
    assert.equal(report.outcome.reason, 'ok');
    assert.match(report.outcome.summary, /^no study matches/);
  });

  it('run() returns WARNING/threshold when search and retrieval together are outside latencyWarning', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, query: { PatientID: 'QA-PHANTOM' }, latencyWarning: 0 });
    assert.equal(report.outcome.status, 'WARNING');
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, /^latency \d+ ms is above the warning limit 0 s — DICOMweb at /);
  });

  it('run() returns CRITICAL/auth saying to check basicAuth when Orthanc refuses the password', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth: { ...basicAuth, password: 'wrong' } });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'auth');
    assert.match(
      report.outcome.summary,
      /^the DICOMweb server refused the credentials \(HTTP 401\) for the QIDO-RS study search \(GET \/dicom-web\/studies\): check basicAuth$/,
    );
  });

  it('run() returns CRITICAL/auth saying to set credentials when Orthanc asks for them', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root });
    assert.equal(report.outcome.reason, 'auth');
    assert.match(report.outcome.summary, /asks for credentials \(HTTP 401\) .*: set basicAuth or bearerToken$/);
  });

  it('run() asks whether the DICOMweb plugin is enabled and the root right when the root answers 404', async () => {
    const report = await runCheck(dicomwebPlugin, { url: `${orthanc.url}/dicomweb`, basicAuth });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'config_error');
    assert.match(
      report.outcome.summary,
      /^the QIDO-RS study search \(GET \/dicomweb\/studies\) found nothing at http:\/\/127\.0\.0\.1:\d+\/dicomweb\/studies \(HTTP 404\): is the DICOMweb service \(Orthanc's DICOMweb plugin\) enabled, and is url its root \(e\.g\. …\/dicom-web\)\?$/,
    );
  });

  it('run() says the configured study is not on the server when WADO-RS answers 404 for it', async () => {
    const report = await runCheck(dicomwebPlugin, { url: root, basicAuth, studyInstanceUid: '1.2.3.4.5' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(report.outcome.summary, /^the study in studyInstanceUid is not on the server \(HTTP 404 from the WADO-RS metadata retrieval/);
    assert.match(report.outcome.summary, /Accessing an inexistent study with WADO-RS: 1\.2\.3\.4\.5/);
    assert.ok(metric(report, 'search_seconds') >= 0, 'the search that worked is still reported');
  });

  it('run() returns OK over https with the CA in caFile and a bearer token, through a TLS proxy in front of Orthanc', async () => {
    const report = await runCheck(dicomwebPlugin, {
      url: `${proxy.url}/dicom-web`,
      bearerToken: 'reader-token',
      caFile: tlsFiles.certFile,
      query: { PatientID: 'QA-PHANTOM' },
    });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'metadata_instances'), 2);
    assert.ok(!report.outcome.summary.includes('reader-token'));
  });

  it('run() returns CRITICAL/tls when the https certificate is signed by a CA the agent was not given', async () => {
    const report = await runCheck(dicomwebPlugin, { url: `${proxy.url}/dicom-web`, bearerToken: 'reader-token' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls');
    assert.match(
      report.outcome.summary,
      /^the QIDO-RS study search: TLS verification of 127\.0\.0\.1:\d+ failed: the certificate is self-signed and not trusted/,
    );
  });

  it('run() returns CRITICAL/auth when the gateway does not know the bearer token', async () => {
    const report = await runCheck(dicomwebPlugin, { url: `${proxy.url}/dicom-web`, bearerToken: 'stolen-token', caFile: tlsFiles.certFile });
    assert.equal(report.outcome.reason, 'auth');
    assert.match(report.outcome.summary, /refused the credentials \(HTTP 401\) .*: check bearerToken$/);
  });

  it("run() returns CRITICAL/access_denied with the server's words when the token may not read studies (403)", async () => {
    const report = await runCheck(dicomwebPlugin, { url: `${proxy.url}/dicom-web`, bearerToken: 'no-scope-token', caFile: tlsFiles.certFile });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'access_denied');
    assert.match(
      report.outcome.summary,
      /^the DICOMweb server forbids the QIDO-RS study search \(GET \/dicom-web\/studies\) \(HTTP 403\): "the token may not read studies": the credentials are known but may not read studies — grant them read access$/,
    );
  });

  it('run() returns CRITICAL/timeout at the deadline when the server accepts the connection and never answers', async () => {
    const report = await runCheck(dicomwebPlugin, { url: `http://127.0.0.1:${silent.port}/dicom-web` }, { timeoutMs: 300 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.cutOff, false, 'the plugin stopped at its deadline by itself');
    assert.match(report.outcome.summary, /^timed out after \d+ ms waiting for the first byte in the QIDO-RS study search$/);
  });

  it('run() returns CRITICAL/refused when nothing listens at the URL', async () => {
    const report = await runCheck(dicomwebPlugin, { url: `http://127.0.0.1:${await closedPort()}/dicom-web` });
    assert.equal(report.outcome.reason, 'refused');
    assert.match(report.outcome.summary, /^the QIDO-RS study search: connection to 127\.0\.0\.1:\d+ refused/);
  });
});

describe('dicomweb against servers that are not DICOMweb', () => {
  it('run() names a login page when the root answers HTML instead of DICOM JSON', async (t) => {
    const url = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Sign in</title>');
    });
    const report = await runCheck(dicomwebPlugin, { url: `${url}/dicom-web` });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.equal(
      report.outcome.summary,
      'the QIDO-RS study search answered text/html, not DICOM JSON (starts "<!doctype html><title>Sign in</title>"): a login page or a web viewer? Give the DICOMweb root as url',
    );
  });

  it('run() says where a redirect leads instead of following it to a login page', async (t) => {
    const url = await serve(t, (_req, res) => {
      res.writeHead(302, { location: '/sso/login?next=%2Fdicom-web' });
      res.end();
    });
    const report = await runCheck(dicomwebPlugin, { url: `${url}/dicom-web` });
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(report.outcome.summary, /was redirected to "\/sso\/login\?next=%2Fdicom-web" \(HTTP 302\): a login page or a proxy in between\?/);
  });

  it('run() says to write https:// when the server redirects the same path to https', async (t) => {
    const url = await serve(t, (req, res) => {
      res.writeHead(301, { location: `https://${req.headers.host}${req.url}` });
      res.end();
    });
    const report = await runCheck(dicomwebPlugin, { url: `${url}/dicom-web` });
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.equal(report.outcome.summary, 'the server redirects the QIDO-RS study search (GET /dicom-web/studies) to https (HTTP 301): write url with https://');
  });

  it('run() reports JSON that is not a list of datasets', async (t) => {
    const url = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"UP"}');
    });
    const report = await runCheck(dicomwebPlugin, { url });
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(report.outcome.summary, /answered JSON that is not a list of DICOM datasets \(starts "\{\\"status\\":\\"UP\\"\}"\)$/);
  });

  it('run() refuses metadata that belongs to another study than the one asked for', async (t) => {
    const study = (uid: string) => `[{"0020000D":{"vr":"UI","Value":["${uid}"]}}]`;
    const url = await serve(t, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      res.end(req.url?.includes('/metadata') ? study('9.9.9') : study('1.2.3'));
    });
    const report = await runCheck(dicomwebPlugin, { url });
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(report.outcome.summary, /: QIDO-RS found 1 study in \d+ ms, but the WADO-RS metadata of study 1\.2\.3 holds an instance of study 9\.9\.9$/);
  });

  it('run() takes 204 No Content as no match, as the standard allows', async (t) => {
    const url = await serve(t, (_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const report = await runCheck(dicomwebPlugin, { url, noMatchStatus: 'OK' });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'search_matches'), 0);
  });

  it('run() returns CRITICAL/timeout naming the body when the server stalls halfway through the metadata', async (t) => {
    const url = await serve(t, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      if (req.url?.includes('/metadata')) res.write('[{"0020000D":{"vr":"UI","Value":["1.2.3"]}');
      else res.end('[{"0020000D":{"vr":"UI","Value":["1.2.3"]}}]');
    });
    const report = await runCheck(dicomwebPlugin, { url }, { timeoutMs: 400 });
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.cutOff, false);
    assert.match(
      report.outcome.summary,
      /^timed out after \d+ ms reading the body \(\d+ bytes so far\) in the WADO-RS metadata retrieval \(after QIDO-RS found 1 study in \d+ ms\)$/,
    );
  });

  it("run() reads a server error's own words", async (t) => {
    const url = await serve(t, (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('database connection lost\nstack…');
    });
    const report = await runCheck(dicomwebPlugin, { url });
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.equal(report.outcome.summary, 'the QIDO-RS study search (GET /studies) answered a server error, HTTP 500: "database connection lost"');
  });
});

describe('dicomweb config', () => {
  const base = { url: 'https://pacs.example.org/dicom-web' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a URL without scheme', { url: 'pacs:8042/dicom-web' }, 'url: scheme "pacs:" is not supported: use http:// or https://'],
    [
      'text that is not a URL',
      { url: 'the pacs' },
      'url: "the pacs" is not a URL: write the DICOMweb root in full, e.g. http://orthanc.example.org:8042/dicom-web',
    ],
    [
      'credentials in the URL',
      { url: 'https://u:p@pacs/dicom-web' },
      'url: must not contain a user name or password: use basicAuth, whose password is kept secret',
    ],
    [
      'a query in the URL',
      { url: 'https://pacs/dicom-web?PatientID=1' },
      'url: must be the DICOMweb root without ?query or #fragment: put search keys in query',
    ],
    [
      'a query key that is no DICOM attribute',
      { query: { 'Patient ID': '1' } },
      'query.Patient ID: "Patient ID" is not a DICOM attribute: write a keyword like PatientID or a tag like 00100020',
    ],
    ['limit as a query key', { query: { limit: '5' } }, 'query.limit: "limit" is set by the check itself: use the limit field, not a query key'],
    ['an empty query value', { query: { PatientID: '' } }, 'query.PatientID: must not be empty: give the value to match, or remove the key'],
    ['a query value with a newline', { query: { PatientID: 'a\nb' } }, 'query.PatientID: must not contain control characters (newline, tab and the like)'],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, 'timeZone: "Mars/Olympus" is not an IANA time zone name: write one like Europe/Berlin or UTC'],
    ['a limit above 100', { limit: 500 }, 'limit: Too big: expected number to be <=100'],
    ['a study UID with letters', { studyInstanceUid: '1.2.abc' }, 'studyInstanceUid: must be a DICOM UID: digits and dots, e.g. 1.2.840.113619.2.55.3'],
    [
      'a study UID without metadata retrieval',
      { studyInstanceUid: '1.2.3', retrieveMetadata: false },
      'studyInstanceUid: is only used to retrieve metadata: remove it or set retrieveMetadata: true',
    ],
    ['CRITICAL when nothing matches', { noMatchStatus: 'CRITICAL' }, 'noMatchStatus: Invalid option: expected one of "OK"|"WARNING"'],
    [
      'both basicAuth and bearerToken',
      { basicAuth: { username: 'u', password: 'p' }, bearerToken: 't' },
      'bearerToken: set either basicAuth or bearerToken, not both',
    ],
    ['an empty bearer token', { bearerToken: '' }, 'bearerToken: Too small: expected string to have >=1 characters'],
    ['basicAuth without password', { basicAuth: { username: 'u' } }, 'basicAuth.password: Invalid input: expected string, received undefined'],
    ['caFile on an http URL', { url: 'http://pacs/dicom-web', caFile: '/etc/ca.pem' }, 'caFile: caFile is used only for https:// URLs: use https or remove it'],
    ['certFile without keyFile', { certFile: '/etc/c.pem' }, 'keyFile: certFile and keyFile go together: give both or neither'],
    [
      'a malformed latency range',
      { latencyWarning: 'slow' },
      'latencyWarning: "slow" is not a Nagios range: "slow" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)',
    ],
    ['an unknown field', { password: 'x' }, 'password: unknown field'],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(dicomwebPlugin, { ...base, ...change }), message);
    });
  }

  it('marks basicAuth.password and bearerToken secret, so they are redacted in views and sealed at rest', () => {
    const schema = toJsonSchema(dicomwebPlugin.configSchema);
    const basic = { url: 'https://x/dicom-web', basicAuth: { username: 'u', password: 'p' } };
    assert.deepEqual(redactSecrets(schema, basic), { ...basic, basicAuth: { username: 'u', password: REDACTED } });
    assert.deepEqual(redactSecrets(schema, { url: 'https://x/dicom-web', bearerToken: 't' }), { url: 'https://x/dicom-web', bearerToken: REDACTED });
    const sealed: string[] = [];
    mapSecrets(schema, { ...basic, bearerToken: 't' }, (s, field) => (sealed.push(field), s));
    assert.deepEqual(sealed, ['config.basicAuth.password', 'config.bearerToken']);
  });

  it('UNKNOWN/config_error names a caFile that cannot be read', async () => {
    const report = await runCheck(dicomwebPlugin, { ...base, caFile: '/nonexistent/ca.pem' });
    assert.equal(report.outcome.status, 'UNKNOWN');
    assert.equal(report.outcome.reason, 'config_error');
    assert.match(report.outcome.summary, /^cannot read caFile \/nonexistent\/ca\.pem: ENOENT.* — check the path and that the agent's user may read it$/);
  });
});
