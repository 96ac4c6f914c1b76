import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets, REDACTED } from '#rounds/common';
import { closedPort, configErrors, metric, runCheck, selfSignedCert } from '../testing/index.js';
import type { RunReport } from '../runner.js';
import { startOrthanc, type Orthanc } from '../../../../test/peers/orthanc.js';
import { startStoreScp, type StoreScp } from '../../../../test/peers/storescp.js';
import { startFaultScp, type FaultScp } from '../../../../test/peers/dicom-faults.js';
import { startSilentListener, type SilentListener } from '../../../../test/peers/tcp.js';
import { makeTempDir } from '../../../../test/peers/process.js';
import { toJsonSchema } from '../schema.js';
import { dicomStorePlugin } from './dicom-store.plugin.js';
import { storeVerdict } from './store-status.js';
import type { AssociateReject } from '../shared/dicom-codes.js';
import { describeFailure } from '../shared/dicom-session.js';
import { testUids } from './test-instance.js';
import { UID_ROOT_MAX } from './dicom-store.schema.js';

/** The StudyInstanceUID a run stored, as its summary names it. */
function storedStudy(report: RunReport): string {
  const m = /C-STORE of test study (\S+) \(patient /.exec(report.outcome.summary);
  assert.ok(m, `no study UID in: ${report.outcome.summary}`);
  return m[1] as string;
}

function hasMetric(report: RunReport, name: string): boolean {
  return report.outcome.metrics.some((m) => m.name === name);
}

/** Orthanc's ids of the studies with this StudyInstanceUID. */
async function orthancStudies(orthanc: Orthanc, studyUid: string): Promise<string[]> {
  const res = await orthanc.rest('POST', '/tools/find', { Level: 'Study', Query: { StudyInstanceUID: studyUid } });
  assert.equal(res.status, 200);
  return res.body as string[];
}

describe('dicom-store against Orthanc', () => {
  let orthanc: Orthanc;
  let cleanup: { url: string; username: string; password: string };
  const base = () => ({ host: '127.0.0.1', port: orthanc.dicomPort, calledAet: 'ORTHANC' });

  before(async () => {
    orthanc = await startOrthanc({
      aet: 'ORTHANC',
      checkCalledAet: true,
      knownModalitiesOnly: true,
      modalities: {
        rounds: { aet: 'ROUNDS', host: '127.0.0.1', port: 104 },
        viewer: { aet: 'VIEWER', host: '127.0.0.1', port: 104, allowStore: false },
      },
    });
    cleanup = { url: orthanc.url, username: orthanc.username, password: orthanc.password };
  });

  after(async () => {
    await orthanc?.stop();
  });

  it('run() stores a test image, finds it by its StudyInstanceUID and deletes it through Orthanc, with store time and time until findable', async () => {
    const report = await runCheck(dicomStorePlugin, { ...base(), cleanup });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.reason, 'ok');
    assert.match(
      report.outcome.summary,
      /^C-STORE of test study 2\.25\.\d+ \(patient ROUNDS-TEST\) to ORTHANC@127\.0\.0\.1:\d+ succeeded in \d+\.\d{3} s \(connect \d+\.\d{3} s, association \d+\.\d{3} s\); findable by C-FIND after \d+\.\d{3} s \(1 query\); test study deleted through Orthanc$/,
    );
    for (const name of ['connect_seconds', 'association_seconds', 'store_seconds', 'findable_seconds']) assert.ok(metric(report, name) >= 0, name);
    assert.equal(metric(report, 'find_queries'), 1);
    assert.equal(metric(report, 'cleanup_success'), 1);
    assert.deepEqual(await orthancStudies(orthanc, storedStudy(report)), [], 'the test study is gone');
    assert.ok(!report.outcome.summary.includes(orthanc.password), 'the password never reaches the summary');
  });

  it('run() files each test image under the test patient and patientId, with fresh UIDs under uidRoot each run', async () => {
    const config = { ...base(), patientId: 'ROUNDS-QA', uidRoot: '1.2.826.0.1.3680043.10.1234' };
    const runs = [await runCheck(dicomStorePlugin, config), await runCheck(dicomStorePlugin, config)];
    const uids = runs.map(storedStudy);
    assert.notEqual(uids[0], uids[1]);
    for (const [i, uid] of uids.entries()) {
      assert.equal(runs[i]!.outcome.status, 'OK', runs[i]!.outcome.summary);
      assert.match(uid, /^1\.2\.826\.0\.1\.3680043\.10\.1234\.\d{13}\.\d+\.1$/);
      const [id] = await orthancStudies(orthanc, uid);
      assert.ok(id, `Orthanc has no study ${uid}`);
      const study = (await orthanc.rest('GET', `/studies/${id}`)).body as {
        PatientMainDicomTags: Record<string, string>;
        MainDicomTags: Record<string, string>;
      };
      assert.equal(study.PatientMainDicomTags['PatientID'], 'ROUNDS-QA');
      assert.equal(study.PatientMainDicomTags['PatientName'], 'ROUNDS^TEST');
      assert.equal(study.MainDicomTags['StudyDescription'], 'Rounds store check - test image, safe to delete');
      assert.equal((await orthanc.rest('DELETE', `/studies/${id}`)).status, 200);
    }
    assert.ok(!hasMetric(runs[0]!, 'cleanup_success'), 'no cleanup configured, none reported');
  });

  it('run() keeps the store result and says why when the cleanup is refused (wrong password)', async () => {
    const report = await runCheck(dicomStorePlugin, { ...base(), cleanup: { ...cleanup, password: 'not-the-password' } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.reason, 'ok');
    assert.match(report.outcome.summary, /; cleanup failed: Orthanc refused the credentials \(HTTP 401\) — check username\/password against RegisteredUsers$/);
    assert.equal(metric(report, 'cleanup_success'), 0);
    assert.ok(!report.outcome.summary.includes('not-the-password'));
    const [id] = await orthancStudies(orthanc, storedStudy(report));
    assert.ok(id, 'the study is still there');
    await orthanc.rest('DELETE', `/studies/${id}`);
  });

  it('run() says the cleanup failed when nothing listens at cleanup.url', async () => {
    const port = await closedPort();
    const report = await runCheck(dicomStorePlugin, { ...base(), cleanup: { ...cleanup, url: `http://127.0.0.1:${port}` } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.match(
      report.outcome.summary,
      new RegExp(`; cleanup failed: POST http://127\\.0\\.0\\.1:${port}/tools/find: connection to 127\\.0\\.0\\.1:${port} refused`),
    );
    assert.equal(metric(report, 'cleanup_success'), 0);
    const [id] = await orthancStudies(orthanc, storedStudy(report));
    if (id) await orthanc.rest('DELETE', `/studies/${id}`);
  });

  it("run() says the cleanup failed at the check's deadline when the cleanup URL never answers, and returns by itself with the store result", async () => {
    const silent = await startSilentListener();
    try {
      const report = await runCheck(dicomStorePlugin, { ...base(), cleanup: { ...cleanup, url: `http://127.0.0.1:${silent.port}` } }, { timeoutMs: 4000 });
      assert.equal(report.outcome.status, 'OK', report.outcome.summary);
      assert.equal(report.cutOff, false, 'the plugin returned at its deadline, not the runner for it');
      assert.match(
        report.outcome.summary,
        /; findable by C-FIND after .*; cleanup failed: POST http:\/\/127\.0\.0\.1:\d+\/tools\/find: no answer before the check's deadline$/,
      );
      assert.equal(metric(report, 'cleanup_success'), 0);
      const [id] = await orthancStudies(orthanc, storedStudy(report));
      assert.ok(id, 'the study is still there');
      await orthanc.rest('DELETE', `/studies/${id}`);
    } finally {
      await silent.close();
    }
  });

  it('run() returns CRITICAL association_rejected saying to check calledAet when the called AE title is wrong, and cleans nothing up', async () => {
    const report = await runCheck(dicomStorePlugin, { ...base(), calledAet: 'NOT-ORTHANC', cleanup });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'association_rejected');
    assert.match(
      report.outcome.summary,
      /^NOT-ORTHANC@127\.0\.0\.1:\d+: association rejected permanently by the service user: called AE title not recognized — the node is not called NOT-ORTHANC: check calledAet against the node's AE title$/,
    );
    assert.ok(!hasMetric(report, 'cleanup_success'));
    assert.ok(!hasMetric(report, 'store_seconds'));
  });

  it('run() returns CRITICAL association_rejected saying to add our AE title when the node does not know the calling AE title', async () => {
    const report = await runCheck(dicomStorePlugin, { ...base(), callingAet: 'STRANGER' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'association_rejected');
    assert.match(
      report.outcome.summary,
      /rejected permanently by the service user: calling AE title not recognized — the node does not know our AE title STRANGER: add it to the node's known AE titles \(or set callingAet to one it knows\)$/,
    );
  });

  it('run() returns CRITICAL aborted, saying the node may not let us store, when Orthanc aborts the C-STORE of an AE title it does not let store', async () => {
    const report = await runCheck(dicomStorePlugin, { ...base(), callingAet: 'VIEWER' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'aborted');
    assert.match(
      report.outcome.summary,
      /: association aborted by the service user \(the node itself\) during the C-STORE — the node gave up on the image: it may not let VIEWER store, or could not keep the image \(its log says which\)$/,
    );
  });

  it('run() returns WARNING threshold when the time until findable is outside find.warning, and CRITICAL when the C-STORE is outside critical', async () => {
    const slowFind = await runCheck(dicomStorePlugin, { ...base(), find: { warning: '@0:600' }, cleanup });
    assert.equal(slowFind.outcome.status, 'WARNING', slowFind.outcome.summary);
    assert.equal(slowFind.outcome.reason, 'threshold');
    assert.match(slowFind.outcome.summary, / — time until findable \d+\.\d{3} s outside warning range @0:600; test study deleted through Orthanc$/);
    const slowStore = await runCheck(dicomStorePlugin, { ...base(), critical: '@0:600', cleanup });
    assert.equal(slowStore.outcome.status, 'CRITICAL', slowStore.outcome.summary);
    assert.equal(slowStore.outcome.reason, 'threshold');
    assert.match(slowStore.outcome.summary, / — C-STORE \d+\.\d{3} s outside critical range @0:600; test study deleted/);
  });
});

describe("dicom-store against dcmtk's storescp", () => {
  let storescp: StoreScp;
  let aborting: StoreScp;
  let refusing: StoreScp;

  before(async () => {
    storescp = await startStoreScp({ aet: 'STORESCP' });
    aborting = await startStoreScp({ aet: 'ABORTS', args: ['--abort-during'] });
    refusing = await startStoreScp({ aet: 'REFUSES', args: ['--refuse'] });
  });

  after(async () => {
    await storescp?.stop();
    await aborting?.stop();
    await refusing?.stop();
  });

  it('run() returns OK for a store-only node with find.enabled: false, and the node has the image', async () => {
    const before = readdirSync(storescp.received).length;
    const report = await runCheck(dicomStorePlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'STORESCP', find: { enabled: false } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.match(report.outcome.summary, /^C-STORE of test study 2\.25\.\d+ \(patient ROUNDS-TEST\) to STORESCP@127\.0\.0\.1:\d+ succeeded in [^;]+\)$/);
    const files = readdirSync(storescp.received);
    assert.equal(files.length, before + 1);
    assert.ok(
      files.every((f) => f.startsWith('SC.')),
      files.join(', '),
    );
    assert.ok(metric(report, 'store_seconds') >= 0);
    assert.ok(!hasMetric(report, 'find_queries') && !hasMetric(report, 'findable_seconds'), 'nothing said about a find that was not asked for');
  });

  it('run() says the cleanup failed, naming cleanup.url, when that Orthanc is not the node that stored the image', async () => {
    const other = await startOrthanc();
    try {
      const report = await runCheck(dicomStorePlugin, {
        host: '127.0.0.1',
        port: storescp.port,
        calledAet: 'STORESCP',
        find: { enabled: false },
        cleanup: { url: other.url, username: other.username, password: other.password },
      });
      assert.equal(report.outcome.status, 'OK', report.outcome.summary);
      assert.ok(
        report.outcome.summary.endsWith(
          `; cleanup failed: the Orthanc at ${other.url} has no study ${storedStudy(report)}: is cleanup.url the Orthanc that STORESCP names?`,
        ),
        report.outcome.summary,
      );
      assert.equal(metric(report, 'cleanup_success'), 0);
    } finally {
      await other.stop();
    }
  });

  it('run() returns CRITICAL unexpected_response naming find.enabled when the node stores but cannot answer C-FIND', async () => {
    const report = await runCheck(dicomStorePlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'STORESCP' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(
      report.outcome.summary,
      /succeeded in .*, but the node does not accept study-level C-FIND \(.+\) — set find\.enabled: false for a node that only stores$/,
    );
    assert.ok(metric(report, 'store_seconds') >= 0, 'the store was measured all the same');
  });

  it('run() returns CRITICAL aborted when the node aborts the association during the C-STORE', async () => {
    const report = await runCheck(dicomStorePlugin, { host: '127.0.0.1', port: aborting.port, calledAet: 'ABORTS', find: { enabled: false } });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'aborted');
    assert.match(report.outcome.summary, /: association aborted by the service user \(the node itself\) during the C-STORE — the node gave up on the image/);
  });

  it('run() returns CRITICAL association_rejected with "no reason given" when the node refuses every association', async () => {
    const report = await runCheck(dicomStorePlugin, { host: '127.0.0.1', port: refusing.port, calledAet: 'REFUSES' });
    assert.equal(report.outcome.reason, 'association_rejected');
    assert.match(report.outcome.summary, /: association rejected permanently by the service user: no reason given$/);
  });
});

describe('dicom-store against peers that misbehave', () => {
  let faulty: FaultScp;
  let silent: SilentListener;
  const at = () => ({ host: '127.0.0.1', port: faulty.port, calledAet: 'FAULTY' });

  before(async () => {
    faulty = await startFaultScp({ kind: 'status', status: 0 });
    silent = await startSilentListener();
  });

  after(async () => {
    await faulty?.close();
    await silent?.close();
  });

  const statuses: Array<[number, string | undefined, 'WARNING' | 'CRITICAL', string, RegExp]> = [
    [
      0xa700,
      'disk full',
      'CRITICAL',
      'unexpected_response',
      /C-STORE of the test image failed with status 0xA700 \(refused: out of resources — the node could not keep the image: often full storage, sometimes a licence limit\); the node says: disk full$/,
    ],
    [
      0xa9ff,
      undefined,
      'CRITICAL',
      'unexpected_response',
      /failed with status 0xA9FF \(error: data set does not match SOP class — the node refused the test image\)$/,
    ],
    [
      0xc011,
      undefined,
      'CRITICAL',
      'unexpected_response',
      /failed with status 0xC011 \(error: cannot understand — the node could not process the test image\)$/,
    ],
    [
      0x0124,
      undefined,
      'CRITICAL',
      'access_denied',
      /failed with status 0x0124 \(refused: not authorized — the node does not let this calling AE title store; allow it on the node\)$/,
    ],
    [
      0xb000,
      undefined,
      'WARNING',
      'unexpected_response',
      / — the node answered with status 0xB000 \(warning: coercion of data elements — stored, but the node changed some attributes/,
    ],
    [0xb007, undefined, 'WARNING', 'unexpected_response', / — the node answered with status 0xB007 \(warning: data set does not match SOP class — stored/],
    [0xb006, undefined, 'WARNING', 'unexpected_response', / — the node answered with status 0xB006 \(warning: elements discarded/],
    [
      0x0001,
      undefined,
      'WARNING',
      'unexpected_response',
      / — the node answered with status 0x0001 \(warning: stored with a warning the node did not explain\)$/,
    ],
  ];
  for (const [status, errorComment, expected, reason, summary] of statuses) {
    const hex = `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
    it(`run() returns ${expected} ${reason} with the words for C-STORE status ${hex}`, async () => {
      faulty.setFault({ kind: 'status', status, ...(errorComment ? { errorComment } : {}) });
      const report = await runCheck(dicomStorePlugin, { ...at(), find: { enabled: false } });
      assert.equal(report.outcome.status, expected, report.outcome.summary);
      assert.equal(report.outcome.reason, reason);
      assert.match(report.outcome.summary, summary);
      assert.ok(metric(report, 'store_seconds') >= 0);
    });
  }

  it('run() asks again at find.intervalSeconds and returns CRITICAL assertion when the stored study never becomes findable', async () => {
    faulty.setFault({ kind: 'status', status: 0, find: 'nothing' });
    const finds = faulty.finds();
    const report = await runCheck(dicomStorePlugin, { ...at(), find: { intervalSeconds: 0.1, timeoutSeconds: 0.6 } });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'assertion');
    const queries = metric(report, 'find_queries');
    assert.ok(queries >= 2, `it asked ${queries} times`);
    // The last query may be cut short by the closing window as it is sent: counted, it may not have arrived.
    const seen = faulty.finds() - finds;
    assert.ok(seen === queries || seen === queries - 1, `the node saw ${seen} of the ${queries} queries counted`);
    assert.match(
      report.outcome.summary,
      new RegExp(
        `, but a C-FIND for it found nothing within find\\.timeoutSeconds \\(0\\.6 s; ${queries} queries over \\d+\\.\\d{3} s\\) — the node stored it but does not make it findable$`,
      ),
    );
    assert.ok(!hasMetric(report, 'findable_seconds'));
  });

  it("run() returns CRITICAL timeout naming the check's deadline when that comes before find.timeoutSeconds", async () => {
    faulty.setFault({ kind: 'status', status: 0, find: 'nothing' });
    const report = await runCheck(dicomStorePlugin, { ...at(), find: { intervalSeconds: 0.2 } }, { timeoutMs: 1200 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.equal(report.cutOff, false, 'the plugin stopped by itself at its deadline');
    assert.match(
      report.outcome.summary,
      /found nothing before the check's deadline \(\d+ quer(y|ies) over .*; find\.timeoutSeconds is 30 s — give the check a longer timeout\)$/,
    );
  });

  it('run() returns CRITICAL unexpected_response when the node answers the C-FIND with another study, as one that ignores the key does', async () => {
    faulty.setFault({ kind: 'status', status: 0, find: 'another-study' });
    const report = await runCheck(dicomStorePlugin, at());
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(
      report.outcome.summary,
      /, but the C-FIND for its StudyInstanceUID returned 1 other study — the node ignores the StudyInstanceUID matching key$/,
    );
  });

  it('run() returns CRITICAL unexpected_response when the node takes the association but no storage SOP class', async () => {
    faulty.setFault({ kind: 'refuse-storage' });
    const report = await runCheck(dicomStorePlugin, at());
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(
      report.outcome.summary,
      /^FAULTY@127\.0\.0\.1:\d+: the node does not accept Secondary Capture Image Storage \(.+\) — allow ROUNDS to store on it$/,
    );
  });

  it('run() returns CRITICAL protocol_error when the node drops the connection as the C-STORE arrives', async () => {
    faulty.setFault({ kind: 'drop-on-first-pdata' });
    const report = await runCheck(dicomStorePlugin, at());
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'protocol_error');
    assert.match(report.outcome.summary, /^FAULTY@127\.0\.0\.1:\d+: the node closed the connection during the C-STORE without a reject or abort$/);
    assert.ok(metric(report, 'association_seconds') >= 0, 'the association had been accepted');
  });

  it('run() returns CRITICAL timeout naming the C-STORE when the node never answers it within responseTimeoutSeconds', async () => {
    faulty.setFault({ kind: 'stall' });
    const report = await runCheck(dicomStorePlugin, { ...at(), responseTimeoutSeconds: 0.3 }, { timeoutMs: 5000 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /: no answer during the C-STORE$/);
  });

  it("run() stops at the check's deadline when the node never answers the C-STORE, without being cut off", async () => {
    faulty.setFault({ kind: 'stall' });
    const report = await runCheck(dicomStorePlugin, at(), { timeoutMs: 800 });
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /: the check's deadline came during the C-STORE$/);
    assert.equal(report.cutOff, false);
  });

  it("run() stops at the check's deadline when the port accepts but never answers the association", async () => {
    const report = await runCheck(dicomStorePlugin, { host: '127.0.0.1', port: silent.port, calledAet: 'ANY' }, { timeoutMs: 800 });
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /: the check's deadline came during association$/);
    assert.equal(report.cutOff, false);
  });

  it('run() returns CRITICAL refused when nothing listens on the port', async () => {
    const port = await closedPort();
    const report = await runCheck(dicomStorePlugin, { host: '127.0.0.1', port, calledAet: 'ANY' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'refused');
  });
});

describe('dicom-store over DICOM TLS', () => {
  let orthanc: Orthanc;
  let lapsed: StoreScp;
  let dir: string;
  let caFile: string;

  before(async () => {
    const cert = await selfSignedCert(30, 'localhost');
    orthanc = await startOrthanc({ aet: 'ORTHANC', dicomTls: { keyPem: cert.key, certPem: cert.cert } });
    const expired = await selfSignedCert(-1, 'localhost');
    lapsed = await startStoreScp({ aet: 'LAPSED', tls: { keyPem: expired.key, certPem: expired.cert } });
    dir = makeTempDir('dicom-store-tls');
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, cert.cert);
  });

  after(async () => {
    await orthanc?.stop();
    await lapsed?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("run() stores, finds and cleans up over TLS, reporting the certificate's days left", async () => {
    const report = await runCheck(dicomStorePlugin, {
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      calledAet: 'ORTHANC',
      tls: { caFile },
      cleanup: { url: orthanc.url, username: orthanc.username, password: orthanc.password },
    });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    const days = metric(report, 'tls_cert_expiry_days');
    assert.ok(days > 29.8 && days <= 30, `days left: ${days}`);
    assert.match(report.outcome.summary, /; findable by C-FIND after .*; certificate expires in (29\.9|30\.0) days; test study deleted through Orthanc$/);
  });

  it('run() returns WARNING threshold when the certificate expires within certWarningDays, the store being fine', async () => {
    const report = await runCheck(dicomStorePlugin, {
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      calledAet: 'ORTHANC',
      tls: { caFile, certWarningDays: 45 },
      cleanup: { url: orthanc.url, username: orthanc.username, password: orthanc.password },
    });
    assert.equal(report.outcome.status, 'WARNING', report.outcome.summary);
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, / — the certificate expires in (29\.9|30\.0) days \(warning below 45\); test study deleted through Orthanc$/);
  });

  it('run() returns CRITICAL tls for an expired certificate with verify off, though the image was stored', async () => {
    const report = await runCheck(dicomStorePlugin, {
      host: '127.0.0.1',
      port: lapsed.port,
      calledAet: 'LAPSED',
      tls: { verify: false },
      find: { enabled: false },
    });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls');
    assert.match(report.outcome.summary, /succeeded in .*, but the certificate expired 1\.0 days ago$/);
    assert.ok(metric(report, 'store_seconds') >= 0);
  });

  it('run() returns CRITICAL tls when the certificate is not trusted', async () => {
    const report = await runCheck(dicomStorePlugin, { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: 'ORTHANC', tls: {} });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls');
    assert.match(report.outcome.summary, /self-signed certificate/);
  });
});

describe('C-STORE status words', () => {
  const cases: Array<[number, string, string]> = [
    [0x0000, 'OK', '0x0000 (success)'],
    [0xa7ff, 'CRITICAL', '0xA7FF (refused: out of resources — the node could not keep the image: often full storage, sometimes a licence limit)'],
    [0xa900, 'CRITICAL', '0xA900 (error: data set does not match SOP class — the node refused the test image)'],
    [0xcfff, 'CRITICAL', '0xCFFF (error: cannot understand — the node could not process the test image)'],
    [0x0122, 'CRITICAL', '0x0122 (SOP class not supported — the node does not store Secondary Capture images)'],
    [0x0213, 'CRITICAL', '0x0213 (resource limitation — the node is short of resources; try later or look at its load)'],
    [0xb123, 'WARNING', '0xB123 (warning — stored, with a warning code the standard does not name)'],
    [0x0300, 'CRITICAL', '0x0300 (failure)'],
  ];
  for (const [status, level, text] of cases) {
    it(`reads 0x${status.toString(16).padStart(4, '0')} as ${level}: ${text}`, () => {
      const verdict = storeVerdict(status);
      assert.equal(verdict.status, level);
      assert.equal(verdict.text, text);
    });
  }
});

describe('association rejections in words, with what to do', () => {
  const where = { callingAet: 'ROUNDS', calledAet: 'MAIN_PACS' };
  const cases: Array<[AssociateReject, string]> = [
    [
      { result: 1, source: 1, reason: 3 },
      "association rejected permanently by the service user: calling AE title not recognized — the node does not know our AE title ROUNDS: add it to the node's known AE titles (or set callingAet to one it knows)",
    ],
    [
      { result: 1, source: 1, reason: 7 },
      "association rejected permanently by the service user: called AE title not recognized — the node is not called MAIN_PACS: check calledAet against the node's AE title",
    ],
    [{ result: 1, source: 1, reason: 1 }, 'association rejected permanently by the service user: no reason given'],
    [
      { result: 2, source: 3, reason: 1 },
      'association rejected transiently by the service provider (presentation layer): temporary congestion — the node is busy: it will take associations again once others end, or its limit can be raised',
    ],
  ];
  for (const [reject, text] of cases) {
    it(`says ${reject.result}/${reject.source}/${reject.reason} as "${text.slice(0, 60)}…"`, () => {
      assert.deepEqual(describeFailure({ kind: 'rejected', reject }, where), { reason: 'association_rejected', text });
    });
  }
});

describe('dicom-store test image UIDs', () => {
  it('are UUID-derived under 2.25 without a root, and different each run', () => {
    const a = testUids(undefined, Date.now());
    const b = testUids(undefined, Date.now());
    for (const uid of [a.study, a.series, a.instance]) {
      assert.match(uid, /^2\.25\.[1-9]\d*$/);
      assert.ok(uid.length <= 64, uid);
    }
    assert.equal(new Set([a.study, a.series, a.instance, b.study]).size, 4);
  });

  it('stay within 64 characters under the longest root the schema allows', () => {
    const root = `1.${'2'.repeat(UID_ROOT_MAX - 2)}`;
    assert.equal(configErrors(dicomStorePlugin, { host: 'pacs', calledAet: 'PACS', uidRoot: root }), '');
    const uids = testUids(root, Date.parse('2286-11-20T17:46:39Z'));
    for (const uid of [uids.study, uids.series, uids.instance]) assert.ok(uid.length <= 64, `${uid} is ${uid.length} characters`);
  });
});

describe('dicom-store config', () => {
  const base = { host: 'pacs.example.org', calledAet: 'PACS' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a missing called AE title', { calledAet: undefined }, 'calledAet: Invalid input: expected string, received undefined'],
    [
      'a calling AE title longer than 16 characters',
      { callingAet: 'ROUNDS-STORE-CHECK' },
      'callingAet: must be at most 16 characters (DICOM AE title), got 18',
    ],
    ['an unknown field', { studyUid: '1.2.3' }, 'studyUid: unknown field'],
    [
      'a uidRoot with a leading zero',
      { uidRoot: '1.2.03' },
      'uidRoot: must be a DICOM UID root: numbers separated by dots, without leading zeros (e.g. 1.2.826.0.1.3680043.10.1234)',
    ],
    [
      'a uidRoot too long to leave room for the run',
      { uidRoot: `1.${'2'.repeat(UID_ROOT_MAX - 1)}` },
      `uidRoot: must be at most ${UID_ROOT_MAX} characters: each run adds its time, a random number and a counter, and a UID is at most 64`,
    ],
    ['a patientId with a backslash', { patientId: 'ROUNDS\\TEST' }, 'patientId: must be plain ASCII without backslash or control characters (DICOM LO)'],
    ['a patientId of spaces', { patientId: '   ' }, 'patientId: must not be all spaces'],
    ['a patientId over 64 characters', { patientId: 'P'.repeat(65) }, 'patientId: Too big: expected string to have <=64 characters'],
    ['a find interval under 0.1 s', { find: { intervalSeconds: 0.05 } }, 'find.intervalSeconds: Too small: expected number to be >=0.1'],
    ['an unknown find field', { find: { studyDate: 'today' } }, 'find.studyDate: unknown field'],
    [
      'a malformed findable threshold',
      { find: { warning: 'slow' } },
      'find.warning: "slow" is not a Nagios range: "slow" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)',
    ],
    [
      'a cleanup URL that is not http',
      { cleanup: { url: 'ftp://orthanc' } },
      'cleanup.url: must be an http:// or https:// URL such as http://orthanc.example.org:8042',
    ],
    [
      'a cleanup URL with credentials in it',
      { cleanup: { url: 'http://rounds:secret@orthanc:8042' } },
      'cleanup.url: must not contain a user name or password: use username and password, whose password is kept secret',
    ],
    [
      'a cleanup username without its password',
      { cleanup: { url: 'http://orthanc:8042', username: 'rounds' } },
      'cleanup.password: username and password go together: give both or neither',
    ],
    [
      'a cleanup caFile for an http URL',
      { cleanup: { url: 'http://orthanc:8042', caFile: '/etc/rounds/ca.pem' } },
      'cleanup.caFile: caFile is used only for https:// URLs: use https or remove it',
    ],
    [
      'certCriticalDays above certWarningDays',
      { tls: { certWarningDays: 5, certCriticalDays: 10 } },
      'tls.certCriticalDays: must not be more than certWarningDays (5): critical comes closer to expiry than warning',
    ],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(dicomStorePlugin, { ...base, ...change }), message);
    });
  }

  it('fills the documented defaults, with the find on', () => {
    const parsed = dicomStorePlugin.configSchema.parse(base);
    assert.equal(parsed.port, 104);
    assert.equal(parsed.callingAet, 'ROUNDS');
    assert.equal(parsed.patientId, 'ROUNDS-TEST');
    assert.equal(parsed.uidRoot, undefined);
    assert.deepEqual(parsed.find, { enabled: true, intervalSeconds: 1, timeoutSeconds: 30 });
    assert.equal(parsed.cleanup, undefined);
  });

  it('marks the cleanup password secret, so it is redacted and sealed like every secret', () => {
    const schema = toJsonSchema(dicomStorePlugin.configSchema);
    const shown = redactSecrets(schema, { ...base, cleanup: { url: 'http://orthanc:8042', username: 'rounds', password: 'hunter2' } }) as {
      cleanup: Record<string, string>;
    };
    assert.deepEqual(shown.cleanup, { url: 'http://orthanc:8042', username: 'rounds', password: REDACTED });
  });
});
