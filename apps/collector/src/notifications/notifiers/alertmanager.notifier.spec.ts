import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, makeTempDir, requireBinary, startDaemon, type Daemon } from '../../../../../test/peers/process.js';
import { alertmanagerConfigSchema } from '../channel-config.js';
import type { NotificationMessage } from '../message.js';
import { AlertmanagerNotifier } from './alertmanager.notifier.js';

// Critical alerts go to "pager", everything else to "mail": the test reads the receiver
// Alertmanager picked, which proves the labels route.
const ALERTMANAGER_YML = `
route:
  receiver: mail
  group_by: [alertname, agent]
  routes:
    - receiver: pager
      matchers: ['severity="critical"', 'site="main"']
receivers:
  - name: mail
  - name: pager
`;

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
  receivers: { name: string }[];
}

async function startAlertmanager(): Promise<Daemon & { url: string }> {
  const command = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = makeTempDir('alertmanager');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'alertmanager.yml'), ALERTMANAGER_YML);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon({
    name: 'alertmanager',
    command,
    args: [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      `--storage.path=${join(dir, 'data')}`,
    ],
    dir,
    ready: async () => (await fetch(`${url}/-/ready`)).status === 200,
  });
  return Object.assign(daemon, { url });
}

const since = Date.now() - 10 * 60_000;
const firing: NotificationMessage = {
  key: 'alert-3:firing:1',
  kind: 'firing',
  severity: 'critical',
  title: 'DICOM echo is CRITICAL',
  checkName: 'DICOM echo',
  agentName: 'pacs-01',
  since,
  reason: 'association_rejected',
  summary: 'called AE title ORTHANC rejected',
  url: 'https://rounds.example/checks/c-3',
  labels: { alertname: 'RoundsCheckFailing', check_id: 'c-3' },
};

describe('AlertmanagerNotifier against a real Alertmanager', () => {
  let am: Daemon & { url: string };
  const notifier = new AlertmanagerNotifier();

  before(async () => {
    am = await startAlertmanager();
  });
  after(() => am.stop());

  const alerts = async (): Promise<ApiAlert[]> => {
    const res = await fetch(`${am.url}/api/v2/alerts`);
    assert.equal(res.status, 200);
    return (await res.json()) as ApiAlert[];
  };

  it('send() posts a firing alert that Alertmanager lists with its labels, annotations and route', async () => {
    const config = alertmanagerConfigSchema.parse({ url: am.url, labels: { site: 'main' } });
    await notifier.send(config, firing, AbortSignal.timeout(5000));
    const listed = (await alerts()).filter((a) => a.labels['check_id'] === 'c-3');
    assert.equal(listed.length, 1, JSON.stringify(await alerts()));
    const alert = listed[0]!;
    assert.deepEqual(alert.labels, {
      alertname: 'RoundsCheckFailing',
      severity: 'critical',
      check: 'DICOM echo',
      agent: 'pacs-01',
      check_id: 'c-3',
      site: 'main',
    });
    assert.equal(alert.annotations['summary'], 'called AE title ORTHANC rejected');
    assert.equal(alert.annotations['reason'], 'association_rejected');
    assert.equal(alert.annotations['title'], 'DICOM echo is CRITICAL');
    assert.equal(alert.generatorURL, 'https://rounds.example/checks/c-3');
    assert.equal(Date.parse(alert.startsAt), since);
    assert.ok(Date.parse(alert.endsAt) > Date.now() + 50 * 60_000, 'a firing alert lasts resolveAfterMinutes unless re-sent');
    assert.equal(alert.status.state, 'active');
    assert.deepEqual(
      alert.receivers.map((r) => r.name),
      ['pager'],
    );
  });

  it('send() of the resolved notification sets endsAt, and Alertmanager stops listing the alert', async () => {
    const config = alertmanagerConfigSchema.parse({ url: am.url, labels: { site: 'main' } });
    await notifier.send(
      config,
      { ...firing, key: 'alert-3:resolved', kind: 'resolved', resolvedAt: Date.now() - 1000, reason: 'ok', summary: 'echo answered in 12 ms' },
      AbortSignal.timeout(5000),
    );
    assert.deepEqual(
      (await alerts()).filter((a) => a.labels['check_id'] === 'c-3'),
      [],
    );
  });

  it('send() routes a warning to the default receiver', async () => {
    const config = alertmanagerConfigSchema.parse({ url: am.url, labels: { site: 'main' } });
    await notifier.send(config, { ...firing, key: 'alert-4:firing:1', severity: 'warning', labels: { check_id: 'c-4' } }, AbortSignal.timeout(5000));
    const alert = (await alerts()).find((a) => a.labels['check_id'] === 'c-4');
    assert.ok(alert);
    assert.equal(alert.labels['alertname'], 'RoundsAlert');
    assert.deepEqual(
      alert.receivers.map((r) => r.name),
      ['mail'],
    );
  });

  it('send() fails with a hint when the URL is not the Alertmanager base URL', async () => {
    await assert.rejects(notifier.send(alertmanagerConfigSchema.parse({ url: `${am.url}/api/v2/alerts` }), firing, AbortSignal.timeout(5000)), {
      message: new RegExp(`^Alertmanager ${am.url.replace(/\./g, '\\.')} answered 404 Not Found.* — check the url`),
    });
  });
});
