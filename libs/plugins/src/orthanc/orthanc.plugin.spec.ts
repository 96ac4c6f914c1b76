import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { systemClock, WEEKDAYS } from '#rounds/common';
import { closedPort, configErrors, metric, runCheck } from '../testing/index.js';
import { runPlugin, type RunReport } from '../runner.js';
import { validateWith } from '../schema.js';
import { createStudy, startOrthanc, type Orthanc } from '../../../../test/peers/orthanc.js';
import { startStoreScp, type StoreScp } from '../../../../test/peers/storescp.js';
import { startSilentListener, type SilentListener } from '../../../../test/peers/tcp.js';
import { makeTempDir, sleep } from '../../../../test/peers/process.js';
import { orthancPlugin } from './orthanc.plugin.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Runs the check with its clock stopped at `atMs` (timers stay real): how arrival sees a silence without waiting for it. */
async function runAt(config: Record<string, unknown>, atMs: number): Promise<RunReport> {
  const v = validateWith(orthancPlugin.configSchema, config);
  if (!v.ok) throw new Error(`invalid orthanc config: ${JSON.stringify(v.errors)}`);
  return runPlugin(orthancPlugin, v.value, { timeoutMs: 5000, clock: { ...systemClock, now: () => atMs } });
}

/** Epoch ms of `hh:mm` UTC on the day `days` after the UTC day of `fromMs`. */
function utcDayAt(fromMs: number, days: number, hh: number, mm: number): number {
  const d = new Date(fromMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + days, hh, mm);
}

const weekdayOfUtc = (ms: number) => WEEKDAYS[new Date(ms).getUTCDay()]!;

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

  it('run() without arrival reads no change log and reports no arrival metrics, as before', async () => {
    const report = await runCheck(orthancPlugin, auth);
    assert.equal(report.outcome.status, 'OK');
    for (const name of ['last_arrival_timestamp_seconds', 'last_arrival_age_seconds', 'arrival_silence_seconds']) {
      assert.throws(() => metric(report, name), /no metric/);
    }
    assert.doesNotMatch(report.outcome.summary, /arrived/);
  });

  it('run() reports when the last instance arrived, and stays OK while it is recent', async () => {
    const report = await runCheck(orthancPlugin, { ...auth, arrival: { warnAfter: '2h' } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.match(report.outcome.summary, /; last instance arrived \d+ s ago$/);
    const arrivedAt = metric(report, 'last_arrival_timestamp_seconds');
    assert.ok(Math.abs(arrivedAt - Date.now() / 1000) < 300, `arrived at ${arrivedAt}`);
    assert.ok(metric(report, 'last_arrival_age_seconds') < 300);
    assert.equal(metric(report, 'arrival_silence_seconds'), metric(report, 'last_arrival_age_seconds'), 'without working hours all time counts');
  });

  it('run() returns WARNING/threshold once no instance has arrived for longer than warnAfter', async () => {
    const arrivedAt = metric(await runCheck(orthancPlugin, { ...auth, arrival: { warnAfter: '2h' } }), 'last_arrival_timestamp_seconds') * 1000;
    const report = await runAt({ ...auth, arrival: { warnAfter: '2h', criticalAfter: '8h' } }, arrivedAt + 3 * HOUR);
    assert.equal(report.outcome.status, 'WARNING');
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, /^no new instance for 3 h \(warning after 2h\) — Orthanc .*; last instance arrived 3 h ago$/);
    assert.equal(metric(report, 'last_arrival_timestamp_seconds'), arrivedAt / 1000);
    assert.equal(metric(report, 'last_arrival_age_seconds'), 3 * 3600);
  });

  it('run() returns CRITICAL/threshold once the silence is longer than criticalAfter', async () => {
    const arrivedAt = metric(await runCheck(orthancPlugin, { ...auth, arrival: { warnAfter: '2h' } }), 'last_arrival_timestamp_seconds') * 1000;
    const report = await runAt({ ...auth, arrival: { warnAfter: '1h', criticalAfter: '2h' } }, arrivedAt + 3 * HOUR);
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, /^no new instance for 3 h \(critical after 2h\)/);
  });

  it('run() counts only working time: two days of wall clock that hold 30 minutes of working hours are a silence of 30 minutes', async () => {
    const arrivedAt = metric(await runCheck(orthancPlugin, { ...auth, arrival: { warnAfter: '2h' } }), 'last_arrival_timestamp_seconds') * 1000;
    // Two days later at 07:30 UTC, with working hours 07:00–18:00 on that weekday only: like Friday evening to Monday 07:30.
    const now = utcDayAt(arrivedAt, 2, 7, 30);
    const workingHours = { days: [weekdayOfUtc(now)], from: '07:00', to: '18:00', timeZone: 'UTC' };
    const quiet = await runAt({ ...auth, arrival: { warnAfter: '1h', workingHours } }, now);
    assert.equal(quiet.outcome.status, 'OK', quiet.outcome.summary);
    assert.equal(metric(quiet, 'arrival_silence_seconds'), 1800);
    assert.equal(metric(quiet, 'last_arrival_age_seconds'), (now - arrivedAt) / 1000);
    // 07:30 two days after the day of the upload: 1 d 7 h after an upload at midnight UTC, 2 d 7 h after one before 07:30.
    const age = now - arrivedAt;
    const [days, hours] = [Math.floor(age / DAY), Math.floor((age % DAY) / HOUR)];
    const shown = hours === 0 ? `${days} d` : `${days} d ${hours} h`;
    assert.match(quiet.outcome.summary, new RegExp(`; last instance arrived ${shown} ago, 30 min of it in working hours$`));

    const late = await runAt({ ...auth, arrival: { warnAfter: '20m', workingHours } }, now);
    assert.equal(late.outcome.status, 'WARNING');
    assert.match(late.outcome.summary, /^no new instance for 30 min of working time \(warning after 20m\) — /);
  });

  it('run() never alerts outside working hours, however long the silence', async () => {
    const arrivedAt = metric(await runCheck(orthancPlugin, { ...auth, arrival: { warnAfter: '2h' } }), 'last_arrival_timestamp_seconds') * 1000;
    const now = utcDayAt(arrivedAt, 3, 12, 0);
    const days = WEEKDAYS.filter((d) => d !== weekdayOfUtc(now));
    const report = await runAt(
      { ...auth, arrival: { warnAfter: '1h', criticalAfter: '8h', workingHours: { days, from: '07:00', to: '18:00', timeZone: 'UTC' } } },
      now,
    );
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.ok(metric(report, 'arrival_silence_seconds') >= 22 * 3600, 'two whole working days passed');
    assert.match(report.outcome.summary, /of it in working hours \(outside working hours .* 07:00–18:00 UTC: not judged\)$/);
  });

  it('run() reads the change log back past pages of other changes to the last arrival', async () => {
    const before = metric(await runCheck(orthancPlugin, { ...auth, arrival: { warnAfter: '2h' } }), 'last_arrival_timestamp_seconds');
    const [instance] = (await orthanc.rest('GET', '/instances')).body as string[];
    // Orthanc logs each metadata change; 250 of them push the last NewInstance three pages back.
    for (let i = 0; i < 250; i++) {
      const res = await orthanc.rest('PUT', `/instances/${instance}/metadata/1024`, `note ${i}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const last = (await orthanc.rest('GET', '/changes?last')).body as { Changes: { ChangeType: string }[] };
    assert.equal(last.Changes[0]?.ChangeType, 'UpdatedMetadata');
    const report = await runCheck(orthancPlugin, { ...auth, arrival: { warnAfter: '2h' } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(metric(report, 'last_arrival_timestamp_seconds'), before);
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

describe('orthanc arrival across restarts of Orthanc', () => {
  let storageDir: string;
  let orthanc: Orthanc | undefined;

  before(() => {
    storageDir = makeTempDir('orthanc-storage');
  });

  after(async () => {
    await orthanc?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('warns in working hours when Orthanc holds no instance, and finds the arrival again after Orthanc restarts', async () => {
    orthanc = await startOrthanc({ storageDir });
    const config = { url: orthanc.url, username: orthanc.username, password: orthanc.password, arrival: { warnAfter: '2h' } };
    const empty = await runCheck(orthancPlugin, config);
    assert.equal(empty.outcome.status, 'WARNING');
    assert.equal(empty.outcome.reason, 'threshold');
    assert.match(empty.outcome.summary, /^no instance has arrived \(Orthanc's change log holds none\) — /);
    assert.throws(() => metric(empty, 'last_arrival_age_seconds'), /no metric/);

    await createStudy(orthanc);
    const arrivedAt = metric(await runCheck(orthancPlugin, config), 'last_arrival_timestamp_seconds');
    await orthanc.stop();
    orthanc = await startOrthanc({ storageDir });
    // A new Orthanc process on the same database, and a fresh run of the plugin (as after an agent restart): no state but Orthanc's.
    const again = await runCheck(orthancPlugin, { ...config, url: orthanc.url });
    assert.equal(again.outcome.status, 'OK', again.outcome.summary);
    assert.equal(metric(again, 'last_arrival_timestamp_seconds'), arrivedAt);
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
    ['arrival without a threshold', { arrival: {} }, 'arrival: give warnAfter, criticalAfter or both: how long without a new instance is too long'],
    [
      'arrival with a duration that is not one',
      { arrival: { warnAfter: '2 hours' } },
      'arrival.warnAfter: must be a duration like 30s, 5m, 1h or 1d, got "2 hours"',
    ],
    ['arrival with a silence under a minute', { arrival: { warnAfter: '30s' } }, 'arrival.warnAfter: must be at least 1m, got 30s'],
    [
      'arrival critical before warning',
      { arrival: { warnAfter: '8h', criticalAfter: '2h' } },
      'arrival.criticalAfter: must not be shorter than warnAfter: critical comes after warning',
    ],
    [
      'working hours in an unknown zone',
      { arrival: { warnAfter: '2h', workingHours: { timeZone: 'Mars/Olympus' } } },
      'arrival.workingHours.timeZone: "Mars/Olympus" is not an IANA time zone name: write one like Europe/Berlin or UTC',
    ],
    [
      'working hours on a day that is none',
      { arrival: { warnAfter: '2h', workingHours: { days: ['funday'] } } },
      'arrival.workingHours.days.0: must be one of sun, mon, tue, wed, thu, fri, sat',
    ],
    [
      'working hours with a bad time',
      { arrival: { warnAfter: '2h', workingHours: { from: '7am' } } },
      'arrival.workingHours.from: must be a time of day like 02:00 (24-hour HH:MM)',
    ],
    ['an unknown arrival field', { arrival: { warnAfter: '2h', after: '1h' } }, 'arrival.after: unknown field'],
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
