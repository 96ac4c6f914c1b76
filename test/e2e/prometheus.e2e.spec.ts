import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { selfSignedCert } from '#rounds/plugins/testing';
import { createStudy, startOrthanc, type Orthanc } from '../peers/orthanc.js';
import { makeTempDir, requireBinary, startDaemon, type Daemon } from '../peers/process.js';
import { startSamba, type Samba } from '../peers/samba.js';
import { startStoreScp, type StoreScp } from '../peers/storescp.js';
import { startWorklistScp, type WorklistScp } from '../peers/wlmscpfs.js';
import { startHl7Listener, type Hl7Listener } from '../peers/hl7.js';
import { alertRules, dashboardQueries, PROMETHEUS_DIR, recordingRules, RULES_FILE, signalQuery, substitute } from '../deploy/observability.js';
import { freePort, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';
import { TEST_ON_POSTGRES } from '../../apps/collector/src/storage/testing.js';

const METRICS_TOKEN = `metrics-${Math.random().toString(36).slice(2)}-0123456789abcdef`;

interface PromResponse<T> {
  status: 'success' | 'error';
  error?: string;
  data: T;
}
interface Target {
  health: string;
  lastError: string;
  labels: Record<string, string>;
}
interface RuleGroup {
  rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[];
}

/** Debian's prometheus with the committed scrape config, rescaled for a test: its own port, temp storage, 1 s scrapes. */
async function startPrometheus(collectorAddress: string): Promise<Daemon & { url: string }> {
  const command = requireBinary('prometheus', 'prometheus');
  const dir = makeTempDir('prometheus');
  const port = await freePort();
  const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: Record<string, unknown>[];
  };
  config.global.scrape_interval = '1s';
  config.global.evaluation_interval = '1s';
  config.rule_files = [RULES_FILE];
  const job = config.scrape_configs[0]!;
  Object.assign(job, {
    scrape_interval: '1s',
    scrape_timeout: '1s',
    static_configs: [{ targets: [collectorAddress] }],
    authorization: { type: 'Bearer', credentials: METRICS_TOKEN },
  });
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon({
    name: 'prometheus',
    command,
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    dir,
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
    readyTimeoutMs: 30_000,
  });
  return Object.assign(daemon, { url });
}

/**
 * The Prometheus integration for real: a collector polls two agents running a check of
 * every built-in plugin against real peers (Orthanc, storescp, smbd, an https server, a
 * closed port, Nagios' check_disk); Debian's Prometheus scrapes it with the committed
 * config and rules; every Grafana panel query and every alert signal must return data.
 */
describe('Prometheus scraping a collector that polls real agents', { timeout: 240_000 }, () => {
  let storescp: StoreScp;
  let orthanc: Orthanc;
  let samba: Samba;
  let tlsScp: StoreScp;
  let worklist: WorklistScp;
  let hl7: Hl7Listener;
  let https: Server;
  let collector: CollectorHandle;
  let pacs: AgentHandle;
  let ward: AgentHandle;
  let prometheus: (Daemon & { url: string }) | undefined;
  let metricsText = '';

  const scrape = async (headers: Record<string, string> = {}) =>
    fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}`, ...headers } });
  const query = async (promql: string) => {
    const res = await fetch(`${prometheus!.url}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`);
    return (await res.json()) as PromResponse<{ resultType: string; result: unknown[] }>;
  };

  before(async () => {
    const tls = await selfSignedCert(10);
    // The peers start side by side: each plugin, the imaging pack's included, against its real server.
    [storescp, tlsScp, worklist, hl7, samba] = await Promise.all([
      startStoreScp(),
      startStoreScp({ aet: 'TLSSCP', tls: { keyPem: tls.key, certPem: tls.cert } }),
      startWorklistScp(),
      startHl7Listener(),
      startSamba({ shares: [{ name: 'images' }], password: 'rounds-smb-password' }),
    ]);
    orthanc = await startOrthanc({ modalities: { STORE: { aet: storescp.aet, host: '127.0.0.1', port: storescp.port } }, dicomWeb: true });
    await createStudy(orthanc);
    await worklist.addItems('RIS_MWL', [{ station: 'CT_NORTH', modality: 'CT', date: new Date().toISOString().slice(0, 10).replace(/-/g, '') }]);
    https = createHttpsServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.end('viewer ready'));
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const httpsPort = (https.address() as { port: number }).port;
    const closedPort = await freePort();

    collector = await startCollector({ ROUNDS_METRICS_TOKEN: METRICS_TOKEN });
    pacs = await startAgent('pacs-gw');
    ward = await startAgent('ward', {
      extraConfig: [
        'nagios:',
        '  commands:',
        '    check_disk: { path: /usr/lib/nagios/plugins/check_disk, args: ["-w", "$ARG1$", "-c", "$ARG2$", "-p", "$ARG3$"] }',
      ].join('\n'),
    });
    for (const agent of [pacs, ward]) {
      const added = await collector.api('POST', '/api/v1/agents', { name: agent.name, enrol: agent.enrolment });
      assert.equal(added.status, 201, JSON.stringify(added.body));
    }
    const checks = [
      { agent: 'pacs-gw', name: 'pacs-gw host', plugin: 'host-metrics', config: {} },
      { agent: 'pacs-gw', name: 'Orthanc echo', plugin: 'dicom-echo', config: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet } },
      { agent: 'pacs-gw', name: 'storescp echo', plugin: 'dicom-echo', config: { host: '127.0.0.1', port: storescp.port, calledAet: storescp.aet } },
      {
        agent: 'pacs-gw',
        name: 'Orthanc',
        plugin: 'orthanc',
        config: {
          url: orthanc.url,
          username: orthanc.username,
          password: orthanc.password,
          echoModalities: true,
          arrival: { warnAfter: '2h', criticalAfter: '8h' },
        },
      },
      {
        agent: 'pacs-gw',
        name: 'Store',
        plugin: 'dicom-store',
        config: {
          host: '127.0.0.1',
          port: orthanc.dicomPort,
          calledAet: orthanc.aet,
          cleanup: { url: orthanc.url, username: orthanc.username, password: orthanc.password },
        },
      },
      {
        agent: 'pacs-gw',
        name: 'TLS echo',
        plugin: 'dicom-echo',
        config: { host: '127.0.0.1', port: tlsScp.port, calledAet: tlsScp.aet, tls: { verify: false } },
      },
      {
        agent: 'pacs-gw',
        name: 'CT worklist',
        plugin: 'dicom-worklist',
        config: { host: '127.0.0.1', port: worklist.port, calledAet: 'RIS_MWL', scheduledStationAet: 'CT_NORTH', scheduledDate: '*', warningBelow: 1 },
      },
      { agent: 'pacs-gw', name: 'ADT feed', plugin: 'hl7-mllp', config: { host: '127.0.0.1', port: hl7.port } },
      {
        agent: 'pacs-gw',
        name: 'Viewer API',
        plugin: 'dicomweb',
        config: { url: `${orthanc.url}/dicom-web`, basicAuth: { username: orthanc.username, password: orthanc.password } },
      },
      {
        agent: 'pacs-gw',
        name: 'Images share',
        plugin: 'smb-share',
        config: { server: '127.0.0.1', port: samba.port, share: 'images', path: '', username: samba.user, password: samba.password },
      },
      { agent: 'ward', name: 'ward host', plugin: 'host-metrics', config: {} },
      { agent: 'ward', name: 'Viewer', plugin: 'http', config: { url: `https://127.0.0.1:${httpsPort}/`, tlsVerify: false } },
      { agent: 'ward', name: 'Old PACS port', plugin: 'tcp', config: { host: '127.0.0.1', port: closedPort } },
      { agent: 'ward', name: 'Disk', plugin: 'nagios', config: { command: 'check_disk', args: ['1%', '1%', '/'] } },
    ];
    for (const check of checks) {
      const res = await collector.api('POST', '/api/v1/checks', { intervalMs: 2000, timeoutMs: 2000, ...check });
      assert.equal(res.status, 201, `${check.name}: ${JSON.stringify(res.body)}`);
    }
    await waitFor(
      'every check to report metrics',
      async () => {
        const res = await scrape();
        metricsText = await res.text();
        const names = [
          'rounds_host_metrics_cpu_usage_ratio{agent="pacs-gw"',
          'rounds_host_metrics_network_receive_bytes_per_second{agent="ward"',
          'rounds_dicom_echo_echo_seconds{agent="pacs-gw",check="Orthanc echo"}',
          'rounds_dicom_echo_echo_seconds{agent="pacs-gw",check="storescp echo"}',
          'rounds_orthanc_modality_echo_success{agent="pacs-gw",check="Orthanc",modality="STORE"} 1',
          'rounds_smb_share_free_bytes{agent="pacs-gw",check="Images share"}',
          'rounds_http_tls_cert_expiry_seconds{agent="ward",check="Viewer"}',
          'rounds_check_status{agent="ward",check="Old PACS port",plugin="tcp",status="CRITICAL"} 1',
          'rounds_nagios_perfdata_bytes{agent="ward",check="Disk",label="/"}',
          'rounds_orthanc_arrival_silence_seconds{agent="pacs-gw",check="Orthanc"}',
          'rounds_dicom_store_findable_seconds{agent="pacs-gw",check="Store"}',
          'rounds_dicom_store_cleanup_success{agent="pacs-gw",check="Store"} 1',
          'rounds_dicom_echo_tls_cert_expiry_seconds{agent="pacs-gw",check="TLS echo"}',
          'rounds_dicom_worklist_scheduled_items{agent="pacs-gw",check="CT worklist"} 1',
          'rounds_dicom_worklist_thresholds_active{agent="pacs-gw",check="CT worklist"}',
          'rounds_hl7_mllp_ack_seconds{agent="pacs-gw",check="ADT feed"}',
          'rounds_dicomweb_total_seconds{agent="pacs-gw",check="Viewer API"}',
        ];
        return names.every((n) => metricsText.includes(n)) || undefined;
      },
      90_000,
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}\n--- /metrics ---\n${metricsText
          .split('\n')
          .filter((l) => !l.startsWith('#'))
          .join('\n')}`,
      );
    });

    prometheus = await startPrometheus(new URL(collector.url).host);
  });

  after(async () => {
    await prometheus?.stop();
    await Promise.all([collector?.proc.stop(), pacs?.proc.stop(), ward?.proc.stop()]);
    await Promise.all([orthanc?.stop(), storescp?.stop(), tlsScp?.stop(), worklist?.stop(), hl7?.stop(), samba?.stop()]);
    await new Promise<void>((resolve) => (https ? https.close(() => resolve()) : resolve()));
  });

  it('promtool check metrics accepts the full exposition of this collector', () => {
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: metricsText, encoding: 'utf8' });
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
    for (const plugin of [
      'host_metrics',
      'dicom_echo',
      'dicom_store',
      'dicom_worklist',
      'hl7_mllp',
      'dicomweb',
      'orthanc',
      'smb_share',
      'http',
      'tcp',
      'nagios',
    ]) {
      assert.match(metricsText, new RegExp(`^rounds_${plugin}_\\w+\\{`, 'm'), `no ${plugin} metrics`);
    }
  });

  it('refuses /metrics without the bearer token', async () => {
    const res = await fetch(`${collector.url}/metrics`);
    assert.equal(res.status, 401);
    assert.match(await res.text(), /ROUNDS_METRICS_TOKEN/);
  });

  it('Prometheus scrapes the collector with the bearer token, in the format it negotiates, without errors', async () => {
    const target = await waitFor(
      'the rounds-collector target to be up for a few scrapes',
      async () => {
        const res = (await (await fetch(`${prometheus!.url}/api/v1/targets`)).json()) as PromResponse<{ activeTargets: Target[] }>;
        const t = res.data.activeTargets.find((x) => x.labels.job === 'rounds-collector');
        if (t?.lastError) throw new Error(t.lastError);
        const scrapes = await query('count_over_time(rounds_collector_build_info[1m])');
        const count = Number((scrapes.data.result[0] as { value: [number, string] } | undefined)?.value[1] ?? 0);
        return t?.health === 'up' && count >= 12 ? t : undefined;
      },
      60_000,
    );
    assert.equal(target.lastError, '');
  });

  it('loads every alert and recording rule and evaluates each without error', async () => {
    const rules = await waitFor('every rule to be evaluated', async () => {
      const res = (await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as PromResponse<{ groups: RuleGroup[] }>;
      const all = res.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001')) ? all : undefined;
    });
    assert.deepEqual(rules.map((r) => r.name).sort(), [...alertRules().map((r) => r.alert), ...recordingRules().map((r) => r.record)].sort());
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  });

  it('returns data for the signal of every alert rule', async () => {
    const empty: string[] = [];
    // The collector reports the free space under its SQLite file; on PostgreSQL the database's disk is the server's to watch (node_exporter there).
    const withoutData = TEST_ON_POSTGRES ? new Set(['RoundsCollectorDiskAlmostFull']) : new Set<string>();
    for (const rule of alertRules().filter((r) => !withoutData.has(r.alert))) {
      const asIs = await query(rule.expr);
      assert.equal(asIs.status, 'success', `${rule.alert}: ${asIs.error}`);
      const signal = signalQuery(rule.expr)!;
      const res = await query(signal);
      assert.equal(res.status, 'success', `${rule.alert}: ${res.error}`);
      if (res.data.result.length === 0) empty.push(`${rule.alert}: ${signal}`);
    }
    assert.deepEqual(empty, [], 'alert signals without data (a metric the collector does not export?)');
  });

  it('records a number for every recording rule', async () => {
    const recorded = await waitFor('every recording rule to have recorded a sample', async () => {
      const all: [string, { value: [number, string] }[]][] = [];
      for (const rule of recordingRules()) {
        const res = await query(rule.record);
        assert.equal(res.status, 'success', `${rule.record}: ${res.error}`);
        if (res.data.result.length === 0) return undefined;
        all.push([rule.record, res.data.result as { value: [number, string] }[]]);
      }
      return all;
    });
    for (const [record, samples] of recorded) {
      for (const { value } of samples) assert.ok(Number.isFinite(Number(value[1])), `${record} recorded ${value[1]}`);
    }
  });

  it('returns data for every query of every Grafana dashboard panel, variables substituted', async () => {
    const variables = { agent: 'pacs-gw', instance: new URL(collector.url).host, datasource: 'rounds-prometheus', __rate_interval: '20s' };
    const queries = dashboardQueries();
    assert.ok(queries.length >= 40, `only ${queries.length} panel queries found`);
    const empty: string[] = [];
    for (const q of queries) {
      const promql = substitute(q.expr, variables);
      assert.doesNotMatch(promql, /\$/, `${q.dashboard} / ${q.panel}: unsubstituted variable in ${promql}`);
      const res = await query(promql);
      assert.equal(res.status, 'success', `${q.dashboard} / ${q.panel} ${q.refId}: ${res.error} in ${promql}`);
      if (res.data.result.length === 0) empty.push(`${q.dashboard} / ${q.panel} ${q.refId}: ${promql}`);
    }
    assert.deepEqual(empty, [], 'panel queries without data (a metric the collector does not export?)');
  });
});
