import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { systemClock, type Clock } from '#rounds/common';
import { runPlugin, type RunReport } from '../runner.js';
import { closedPort, configErrors, metric, runCheck } from '../testing/index.js';
import { startStoreScp, type StoreScp } from '../../../../test/peers/storescp.js';
import { startSilentListener, type SilentListener } from '../../../../test/peers/tcp.js';
import { startWorklistScp, writeWorklistFiles, type WorklistItem, type WorklistScp } from '../../../../test/peers/wlmscpfs.js';
import { startOrthanc, type Orthanc } from '../../../../test/peers/orthanc.js';
import { makeTempDir } from '../../../../test/peers/process.js';
import { dicomWorklistPlugin } from './dicom-worklist.plugin.js';

/** The system clock moved to `iso`: "today" and working hours are then known to the test, and time still passes. */
function clockAt(iso: string): Clock {
  const offset = Date.parse(iso) - Date.now();
  return { ...systemClock, now: () => Date.now() + offset };
}

/** Runs the plugin through the real runner as if it were `iso` now. */
function runAt(iso: string, config: Record<string, unknown>, timeoutMs = 5000): Promise<RunReport> {
  return runPlugin(dicomWorklistPlugin, dicomWorklistPlugin.configSchema.parse(config), { timeoutMs, clock: clockAt(iso) });
}

const items = (n: number, item: WorklistItem): WorklistItem[] => Array.from({ length: n }, () => item);

// 2026-03-10 is a Tuesday; Berlin is UTC+1 then (daylight saving starts on 29 March).
const TUESDAY_10_BERLIN = '2026-03-10T09:00:00Z';
const SATURDAY_10_BERLIN = '2026-03-14T09:00:00Z';
const WORKING_HOURS = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '18:00', timeZone: 'Europe/Berlin' };

describe('dicom-worklist against dcmtk wlmscpfs', () => {
  let wlm: WorklistScp;
  let stalled: WorklistScp;
  let storescp: StoreScp;
  let silent: SilentListener;
  let base: { host: string; port: number; calledAet: string };

  before(async () => {
    wlm = await startWorklistScp();
    await wlm.addItems('RIS', [
      ...items(3, { station: 'CT1', modality: 'CT', date: '20260310' }),
      ...items(1, { station: 'CT1', modality: 'CT', date: '20260309' }),
      ...items(2, { station: 'MR1', modality: 'MR', date: '20260310' }),
    ]);
    wlm.addBrokenWorklist('NOLOCK');
    stalled = await startWorklistScp({ sleepBeforeFindSeconds: 30 });
    await stalled.addItems('RIS', items(1, { station: 'CT1', modality: 'CT', date: '20260310' }));
    storescp = await startStoreScp({ aet: 'STORESCP' });
    silent = await startSilentListener();
    base = { host: '127.0.0.1', port: wlm.port, calledAet: 'RIS' };
  });

  after(async () => {
    await wlm?.stop();
    await stalled?.stop();
    await storescp?.stop();
    await silent?.close();
  });

  it('run() returns OK with the number of items scheduled on a station for a date and the query time', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, scheduledStationAet: 'CT1', scheduledDate: '20260310' });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.reason, 'ok');
    assert.equal(metric(report, 'scheduled_items'), 3);
    assert.ok(metric(report, 'query_seconds') >= 0);
    assert.ok(metric(report, 'association_seconds') >= 0);
    assert.match(report.outcome.summary, /^worklist RIS@127\.0\.0\.1:\d+: 3 items scheduled for 20260310 on station CT1; query \d+\.\d{3} s/);
  });

  it('run() counts by modality across stations when no station is named', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, modality: 'MR', scheduledDate: '20260310' });
    assert.equal(metric(report, 'scheduled_items'), 2, report.outcome.summary);
    assert.match(report.outcome.summary, /2 items scheduled for 20260310 modality MR/);
  });

  it('run() asks for "today" as the date in the configured time zone, not in UTC', async () => {
    // 23:30 UTC on Monday 9 March is 00:30 on Tuesday 10 March in Berlin.
    const report = await runAt('2026-03-09T23:30:00Z', { ...base, scheduledStationAet: 'CT1', timeZone: 'Europe/Berlin' });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'scheduled_items'), 3);
    assert.match(report.outcome.summary, /scheduled for today \(20260310, Europe\/Berlin\) on station CT1/);
    const utc = await runAt('2026-03-09T23:30:00Z', { ...base, scheduledStationAet: 'CT1', timeZone: 'UTC' });
    assert.equal(metric(utc, 'scheduled_items'), 1, utc.outcome.summary);
  });

  it('run() stops counting at its limit with C-CANCEL and says the count is a lower bound', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, scheduledDate: '*', limit: 2 });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'scheduled_items'), 2);
    assert.match(report.outcome.summary, /at least 2 items \(limit reached, cancelled\) scheduled for any date/);
  });

  it('run() returns WARNING threshold when fewer items than warningBelow are scheduled during working hours', async () => {
    const report = await runAt(TUESDAY_10_BERLIN, { ...base, scheduledStationAet: 'CT1', warningBelow: 5, criticalBelow: 1, workingHours: WORKING_HOURS });
    assert.equal(report.outcome.status, 'WARNING', report.outcome.summary);
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(
      report.outcome.summary,
      /3 items scheduled .* — fewer than 5 during working hours \(mon–fri 07:00–18:00 Europe\/Berlin\): is the RIS sending orders/,
    );
    assert.equal(metric(report, 'thresholds_active'), 1);
  });

  it('run() returns CRITICAL threshold when fewer items than criticalBelow are scheduled during working hours', async () => {
    const report = await runAt(TUESDAY_10_BERLIN, { ...base, scheduledStationAet: 'US1', warningBelow: 5, criticalBelow: 1, workingHours: WORKING_HOURS });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(report.outcome.reason, 'threshold');
    assert.equal(metric(report, 'scheduled_items'), 0);
    assert.match(report.outcome.summary, /0 items scheduled for today \(20260310, Europe\/Berlin\) on station US1/);
  });

  it('run() reports a shortfall outside working hours but stays OK', async () => {
    const report = await runAt(SATURDAY_10_BERLIN, { ...base, scheduledStationAet: 'US1', criticalBelow: 1, workingHours: WORKING_HOURS });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'scheduled_items'), 0);
    assert.equal(metric(report, 'thresholds_active'), 0);
    assert.match(report.outcome.summary, /fewer than 1, but outside working hours \(mon–fri 07:00–18:00 Europe\/Berlin\)$/);
  });

  it('run() applies its thresholds at any hour when no working hours are given', async () => {
    const report = await runAt(SATURDAY_10_BERLIN, { ...base, scheduledStationAet: 'US1', criticalBelow: 1, timeZone: 'Europe/Berlin' });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(metric(report, 'thresholds_active'), 1, 'the thresholds apply at any hour');
  });

  it('run() returns CRITICAL association_rejected with the reason in words when the called AE title has no worklist', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, calledAet: 'NOT-RIS' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'association_rejected');
    assert.match(
      report.outcome.summary,
      /^NOT-RIS@127\.0\.0\.1:\d+: association rejected permanently by the service user: called AE title not recognized — the node is not called NOT-RIS: check calledAet against the node's AE title$/,
    );
  });

  it('run() returns CRITICAL unexpected_response with the status decoded when the provider fails the query', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, calledAet: 'NOLOCK', scheduledDate: '20260310' });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(report.outcome.summary, /the worklist query for 20260310 failed with status 0xA700 \(refused: out of resources\) after 0 items/);
    assert.throws(() => metric(report, 'scheduled_items'), 'a failed query reports no count');
  });

  it('run() returns CRITICAL unexpected_response when the node does not offer Modality Worklist', async () => {
    const report = await runCheck(dicomWorklistPlugin, { host: '127.0.0.1', port: storescp.port, calledAet: 'STORESCP' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(
      report.outcome.summary,
      /STORESCP@127\.0\.0\.1:\d+ does not offer Modality Worklist query \(1\.2\.840\.10008\.5\.1\.4\.31\): .* — is this the worklist/,
    );
  });

  it('run() returns CRITICAL timeout at the check deadline when the provider never answers the query', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, port: stalled.port, scheduledDate: '20260310' }, { timeoutMs: 800 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /the check's deadline came during the C-FIND/);
    assert.equal(report.cutOff, false, 'the plugin returned by itself when its signal fired');
    assert.ok(metric(report, 'association_seconds') >= 0, 'the association was accepted before the stall');
  });

  it('run() names the C-FIND when the response timeout ends a stalled query before the deadline', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, port: stalled.port, responseTimeoutSeconds: 0.3 }, { timeoutMs: 5000 });
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /no answer during the C-FIND/);
  });

  it('run() returns CRITICAL timeout naming the association when the port accepts but never answers', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, port: silent.port }, { timeoutMs: 500 });
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /the check's deadline came during association/);
    assert.equal(report.cutOff, false);
  });

  it('run() returns CRITICAL refused when nothing listens on the port', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...base, port: await closedPort() });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'refused');
  });
});

describe("dicom-worklist against Orthanc's worklist plugin, which knows its modalities", () => {
  let orthanc: Orthanc;
  let folder: string;
  const at = () => ({ host: '127.0.0.1', port: orthanc.dicomPort, calledAet: 'ORTHANC', scheduledDate: '20260310' });

  before(async () => {
    folder = makeTempDir('orthanc-worklists');
    await writeWorklistFiles(folder, items(2, { station: 'CT1', modality: 'CT', date: '20260310' }));
    orthanc = await startOrthanc({
      aet: 'ORTHANC',
      knownModalitiesOnly: true,
      modalities: { ct1: { aet: 'CT1', host: '127.0.0.1', port: 104 } },
      worklistFolder: folder,
    });
  });

  after(async () => {
    await orthanc?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('run() counts the items a second provider serves to a modality it knows', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...at(), callingAet: 'CT1', scheduledStationAet: 'CT1' });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'scheduled_items'), 2);
  });

  it('run() returns CRITICAL association_rejected saying to add our AE title when the provider does not know the calling AE title', async () => {
    const report = await runCheck(dicomWorklistPlugin, { ...at(), callingAet: 'STRANGER' });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'association_rejected');
    assert.match(
      report.outcome.summary,
      /^ORTHANC@127\.0\.0\.1:\d+: association rejected permanently by the service user: calling AE title not recognized — the node does not know our AE title STRANGER: add it to the node's known AE titles \(or set callingAet to one it knows\)$/,
    );
  });
});

describe('dicom-worklist config', () => {
  const base = { host: 'ris.example.org', calledAet: 'RIS' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    [
      'a station AE title longer than 16 characters',
      { scheduledStationAet: 'CT-SCANNER-NORTH-1' },
      'scheduledStationAet: must be at most 16 characters (DICOM AE title), got 18',
    ],
    [
      'a modality in lower case',
      { modality: 'ct' },
      'modality: must be a DICOM modality code such as CT, MR or US (capital letters, digits, underscore, at most 16)',
    ],
    [
      'a scheduled date that is not a DICOM date',
      { scheduledDate: '2026-03-10' },
      'scheduledDate: must be "today", "*" (any date), or a DICOM date or range such as 20240101-20240131',
    ],
    ['an unknown time zone', { timeZone: 'Berlin' }, 'timeZone: "Berlin" is not an IANA time zone name: write one like Europe/Berlin or UTC'],
    [
      'criticalBelow above warningBelow',
      { warningBelow: 2, criticalBelow: 5 },
      'criticalBelow: must not be more than warningBelow (2): critical is the deeper shortfall',
    ],
    ['a threshold above the limit', { warningBelow: 20, limit: 10 }, 'warningBelow: must not be more than limit (10): the count stops there'],
    ['a zero threshold', { warningBelow: 0 }, 'warningBelow: Too small: expected number to be >=1'],
    [
      'working hours without a threshold',
      { workingHours: {} },
      'workingHours: workingHours only says when warningBelow or criticalBelow apply: set one of them or remove it',
    ],
    [
      'a working day that is not a weekday name',
      { warningBelow: 1, workingHours: { days: ['monday'] } },
      'workingHours.days.0: must be one of sun, mon, tue, wed, thu, fri, sat',
    ],
    ['no working days', { warningBelow: 1, workingHours: { days: [] } }, 'workingHours.days: needs at least one weekday, e.g. ["mon"]'],
    [
      'a working-hours time that is not HH:MM',
      { warningBelow: 1, workingHours: { from: '7am' } },
      'workingHours.from: must be a time of day like 02:00 (24-hour HH:MM)',
    ],
    ['an unknown field in working hours', { warningBelow: 1, workingHours: { start: '07:00' } }, 'workingHours.start: unknown field'],
    ['an unknown field', { studyDate: 'today' }, 'studyDate: unknown field'],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(dicomWorklistPlugin, { ...base, ...change }), message);
    });
  }

  it('fills the documented defaults', () => {
    const parsed = dicomWorklistPlugin.configSchema.parse({ ...base, criticalBelow: 1, workingHours: {} });
    assert.equal(parsed.port, 104);
    assert.equal(parsed.callingAet, 'ROUNDS');
    assert.equal(parsed.scheduledDate, 'today');
    assert.equal(parsed.limit, 1000);
    assert.deepEqual(parsed.workingHours, { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '18:00' });
  });
});
