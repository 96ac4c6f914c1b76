import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REDACTED } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import { AgentClientPool } from '../inventory/agent-client.pool.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { AgentsService } from '../inventory/agents.service.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { DependenciesService } from '../inventory/dependencies.service.js';
import { alertingProviders } from '../alerting/testing.js';
import { ChecksService } from '../inventory/checks.service.js';
import { HistoryService } from '../history/history.service.js';
import { ResultsRepository } from '../history/results.repository.js';
import { RollupsRepository } from '../history/rollups.repository.js';
import { MetricSeriesRepository } from '../history/metric-series.repository.js';
import { CHANNEL_PROVIDERS } from '../notifications/notifications.module.js';
import { PLUGIN_REGISTRY } from '../shared/tokens.js';
import { openTestDatabase } from '../storage/testing.js';
import { AgentsController } from '../web/api/agents.controller.js';
import { AuditController } from '../web/api/audit.controller.js';
import { ChannelsController } from '../web/api/channels.controller.js';
import { ChecksController } from '../web/api/checks.controller.js';
import { startApiTestApp, TEST_API_TOKEN, type ApiErrorBody, type ApiTestApp } from '../web/api/testing.js';

/** The parts of an audit row the list specs read. */
interface AuditRowBody {
  id: number;
  at: number;
  action: string;
  target: { id: string; name: string };
}
import { AuditService } from './audit.service.js';

const SMTP_PASSWORD = 'smtp-pass-w0rd-xyz';
const ORTHANC_PASSWORD = 'orthanc-secret-123';
const ORTHANC_PASSWORD_2 = 'orthanc-secret-456';
const UA = 'rounds-spec/1.0 (audit)';

describe('audit log through the API (/api/v1/…, /api/v1/audit)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let base: string;
  let audit: AuditService;

  /** One call with a user agent of our own (the shared helper sends fetch's default); `T` names the JSON shape the spec reads. */
  const call = async <T = { id: string }>(method: string, path: string, body?: unknown, token: string | null = TEST_API_TOKEN) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        'user-agent': UA,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: (res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined) as T,
    };
  };
  const rowCount = async () => Number((await db.dataSource.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM audit_log'))[0]!.n);
  const newest = async () => (await audit.list({ limit: 1 }))[0]!;
  const rawLog = async () => JSON.stringify(await db.dataSource.query('SELECT * FROM audit_log'));

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 'agent-token-secret', fingerprint: 'f' });
    await new AgentsRepository(db.dataSource).create({ name: 'ward-02', host: '127.0.0.1', port: 7444, token: 't2', fingerprint: 'f2' });
    api = await startApiTestApp({
      controllers: [AgentsController, ChecksController, ChannelsController, AuditController],
      dataSource: db.dataSource,
      config: { pollTimeoutMs: 1000, maxChecksPerAgent: 1000, minCheckIntervalMs: 1000 },
      providers: [
        ...alertingProviders(),
        { provide: PLUGIN_REGISTRY, useValue: PluginRegistry.withBuiltins() },
        AgentsRepository,
        ChecksRepository,
        ResultsRepository,
        RollupsRepository,
        MetricSeriesRepository,
        HistoryService,
        AgentClientPool,
        DependenciesService,
        AgentsService,
        ChecksService,
        ...CHANNEL_PROVIDERS,
        AuditService,
      ],
    });
    base = (await api.app.getUrl()).replace('[::1]', '127.0.0.1');
    audit = api.app.get(AuditService);
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('POST /channels writes one channel.create row: actor, source, address, user agent, and the password redacted', async () => {
    const before = await rowCount();
    const res = await call('POST', '/api/v1/channels', {
      name: 'it-mail',
      type: 'smtp',
      config: { host: 'mail.hospital.example', username: 'rounds', password: SMTP_PASSWORD, from: 'rounds@hospital.example', to: ['it@hospital.example'] },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(await rowCount(), before + 1);
    const row = await newest();
    assert.equal(row.actor, 'admin', 'the user the API token belongs to');
    assert.equal(row.source, 'api');
    assert.equal(row.address, '127.0.0.1');
    assert.equal(row.userAgent, UA);
    assert.equal(row.action, 'channel.create');
    assert.deepEqual(row.target, { kind: 'channel', id: res.json.id, name: 'it-mail' });
    assert.equal(row.before, null);
    assert.deepEqual(row.after, {
      id: res.json.id,
      name: 'it-mail',
      type: 'smtp',
      config: { host: 'mail.hospital.example', username: 'rounds', password: REDACTED, from: 'rounds@hospital.example', to: ['it@hospital.example'] },
      enabled: true,
    });
    assert.ok(!(await rawLog()).includes(SMTP_PASSWORD), 'the password reached the audit log');
  });

  it('POST and PATCH /checks record the config with its secret field redacted, before and after', async () => {
    const created = await call('POST', '/api/v1/checks', {
      agent: 'pacs-01',
      name: 'Orthanc',
      plugin: 'orthanc',
      config: { url: 'http://orthanc.example:8042', username: 'rounds', password: ORTHANC_PASSWORD },
    });
    assert.equal(created.status, 201, created.text);
    const create = await newest();
    assert.equal(create.action, 'check.create');
    assert.deepEqual(create.target, { kind: 'check', id: created.json.id, name: 'Orthanc' });
    assert.deepEqual((create.after as { config: unknown }).config, { url: 'http://orthanc.example:8042', username: 'rounds', password: REDACTED });

    const patched = await call('PATCH', `/api/v1/checks/${created.json.id}`, {
      config: { url: 'http://orthanc.example:8042', username: 'rounds', password: ORTHANC_PASSWORD_2 },
      intervalMs: 30_000,
    });
    assert.equal(patched.status, 200, patched.text);
    const update = await newest();
    assert.equal(update.action, 'check.update');
    const [b, a] = [update.before, update.after] as { intervalMs: number; config: { password: string } }[];
    assert.equal(b!.intervalMs, 60_000);
    assert.equal(a!.intervalMs, 30_000);
    assert.equal(b!.config.password, REDACTED);
    assert.equal(a!.config.password, REDACTED);
    const raw = await rawLog();
    assert.ok(!raw.includes(ORTHANC_PASSWORD) && !raw.includes(ORTHANC_PASSWORD_2), 'a check password reached the audit log');
  });

  it('a refused change writes no row: 400 (invalid), 409 (name taken), 404 (nothing to delete)', async () => {
    const before = await rowCount();
    assert.equal((await call('POST', '/api/v1/checks', { agent: 'pacs-01', name: 'bad', plugin: 'tcp', config: { host: 'x' } })).status, 400);
    assert.equal((await call('POST', '/api/v1/checks', { agent: 'pacs-01', name: 'Orthanc', plugin: 'tcp', config: { host: 'x', port: 1 } })).status, 409);
    assert.equal((await call('POST', '/api/v1/channels', { name: 'it-mail', type: 'telegram', config: { botToken: '1:x', chatId: 1 } })).status, 409);
    assert.equal((await call('PATCH', '/api/v1/channels/it-mail', { config: { host: '' } })).status, 400);
    assert.equal((await call('DELETE', '/api/v1/checks/no-such-check')).status, 404);
    assert.equal((await call('DELETE', '/api/v1/agents/no-such-agent')).status, 404);
    assert.equal((await call('DELETE', '/api/v1/channels/it-mail', undefined, 'wrong-token')).status, 401);
    assert.equal(await rowCount(), before);
  });

  it('DELETE /checks, /channels and /agents each record what was removed (before), with nothing after', async () => {
    const check = (await call('POST', '/api/v1/checks', { agent: 'ward-02', name: 'ward port', plugin: 'tcp', config: { host: 'ward', port: 104 } })).json;
    assert.equal((await call('DELETE', `/api/v1/checks/${check.id}`)).status, 204);
    let row = await newest();
    assert.equal(row.action, 'check.delete');
    assert.equal((row.before as { name: string }).name, 'ward port');
    assert.equal(row.after, null);

    assert.equal((await call('DELETE', '/api/v1/channels/it-mail')).status, 204);
    row = await newest();
    assert.equal(row.action, 'channel.delete');
    assert.equal((row.before as { config: { password: string } }).config.password, REDACTED);

    assert.equal((await call('DELETE', '/api/v1/agents/ward-02')).status, 204);
    row = await newest();
    assert.equal(row.action, 'agent.remove');
    assert.equal(row.target.name, 'ward-02');
    assert.deepEqual(
      Object.keys(row.before as object).sort(),
      ['dependsOn', 'fingerprint', 'host', 'id', 'name', 'port', 'tags'],
      'the agent token must never be audited',
    );
    assert.equal((await audit.verify()).ok, true);
  });

  it('GET /audit lists newest first and filters by action (or family), actor, target and time; ?before= pages back', async () => {
    const all = await call<AuditRowBody[]>('GET', '/api/v1/audit');
    assert.equal(all.status, 200);
    const ids = all.json.map((r: { id: number }) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((x: number, y: number) => y - x),
    );
    assert.equal(ids.length, await rowCount());

    const checks = await call<AuditRowBody[]>('GET', '/api/v1/audit?action=check.*');
    assert.deepEqual(
      checks.json.map((r: { action: string }) => r.action),
      ['check.delete', 'check.create', 'check.update', 'check.create'],
    );
    assert.deepEqual((await call<AuditRowBody[]>('GET', '/api/v1/audit?action=channel.create')).json.length, 1);
    // All but the first start's own rows (the admin and their token, by `system`) were made through the API as admin.
    assert.equal((await call<AuditRowBody[]>('GET', '/api/v1/audit?actor=system')).json.length, 2);
    assert.equal((await call<AuditRowBody[]>('GET', '/api/v1/audit?actor=admin')).json.length, ids.length - 2);
    assert.equal((await call<AuditRowBody[]>('GET', '/api/v1/audit?actor=cli:nobody')).json.length, 0);
    const orthanc = await call<AuditRowBody[]>('GET', '/api/v1/audit?target=Orthanc');
    assert.deepEqual(
      orthanc.json.map((r: { action: string }) => r.action),
      ['check.update', 'check.create'],
    );
    const byId = await call<AuditRowBody[]>('GET', `/api/v1/audit?target=${orthanc.json[0]!.target.id}`);
    assert.equal(byId.json.length, 2);

    const first = all.json[all.json.length - 1]!;
    assert.equal((await call<AuditRowBody[]>('GET', `/api/v1/audit?to=${first.at}`)).json.length, 0);
    assert.equal((await call<AuditRowBody[]>('GET', `/api/v1/audit?from=${new Date(first.at).toISOString()}`)).json.length, ids.length);
    assert.equal((await call<AuditRowBody[]>('GET', `/api/v1/audit?from=${Date.now() + 60_000}`)).json.length, 0);

    const page1 = await call<AuditRowBody[]>('GET', '/api/v1/audit?limit=2');
    assert.deepEqual(
      page1.json.map((r: { id: number }) => r.id),
      ids.slice(0, 2),
    );
    const page2 = await call<AuditRowBody[]>('GET', `/api/v1/audit?limit=2&before=${page1.json[1]!.id}`);
    assert.deepEqual(
      page2.json.map((r: { id: number }) => r.id),
      ids.slice(2, 4),
    );
  });

  it('GET /audit answers 401 without the token and 400 naming a bad filter', async () => {
    assert.equal((await call('GET', '/api/v1/audit', undefined, null)).status, 401);
    assert.equal((await call('GET', '/api/v1/audit.csv', undefined, null)).status, 401);
    const bad = await call<ApiErrorBody>('GET', '/api/v1/audit?action=agent.explode&limit=0&from=yesterday&before=x');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors!.map((e) => e.field).sort(), ['action', 'before', 'from', 'limit']);
    assert.match(
      bad.json.errors!.find((e) => e.field === 'action')?.message ?? '',
      /^must be an action \(agent\.enrol, .*\) or a family like agent\.\*, check\.\*/,
    );
  });

  it('GET /audit.csv exports the same filtered rows as CSV, quoted, with a header', async () => {
    const res = await call('GET', '/api/v1/audit.csv?action=check.*&limit=2');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="rounds-audit.csv"/);
    const lines = res.text.split('\r\n');
    assert.equal(lines[0], 'id,at,actor,source,address,user_agent,action,target_kind,target_id,target_name,before,after,prev_hash,hash');
    assert.equal(lines.length, 4, res.text); // header, two rows, and the empty string after the last CRLF
    assert.match(lines[1]!, /^\d+,\d{4}-\d\d-\d\dT[^,]+Z,admin,api,127\.0\.0\.1,rounds-spec\/1\.0 \(audit\),check\.delete,check,/);
    assert.ok(!res.text.includes(ORTHANC_PASSWORD));
  });
});
