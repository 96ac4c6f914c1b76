import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebTestApp, type WebTestApp } from '../web/testing.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { rowCount } from '../storage/testing.js';
import { ValidationFailedError } from '../shared/errors.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { CurrentState } from '../state/current-state.js';
import { resolveSecrets } from '../cli/config.cli.js';
import { applyConfigDto, type ApplyConfigDto } from './config-document.js';
import { ConfigDocumentService } from './config-document.service.js';
import { AlertingService } from '../alerting/alerting.service.js';
import { AlertingRepository } from '../alerting/alerting.repository.js';
import { ruleSchema } from '../alerting/index.js';
import { oneTransaction } from '../storage/transaction.js';

const TOKEN = 't'.repeat(43);
const FP = 'a'.repeat(64);
const HOOK_URL = 'http://127.0.0.1:9/hook-secret-path';

/** The document as the API's pipe reads it. */
const dto = (document: unknown, prune = false): ApplyConfigDto => applyConfigDto.parse({ document, prune });

/** Field errors of a refused apply or plan. */
async function refusal(work: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  try {
    await work;
  } catch (e) {
    assert.ok(e instanceof ValidationFailedError, `expected a ValidationFailedError, got ${String(e)}`);
    return e.errors;
  }
  assert.fail('the document was accepted');
}

describe('ConfigDocumentService', { timeout: 120_000 }, () => {
  let a: WebTestApp;
  let b: WebTestApp;
  let token = '';

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${a.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.text()}`);
  };
  const rows = (app: WebTestApp, table: string) => rowCount(app.dataSource, table);

  before(async () => {
    a = await startWebTestApp();
    // B refuses intervals under 30 s: a check that passes the document's schema fails in ChecksService, mid-apply.
    b = await startWebTestApp({ ROUNDS_MIN_CHECK_INTERVAL_MS: '30000' });
    await a.addUser('ops', 'admin');
    token = await a.token('ops');
    // Agents at an address nobody listens on: enrolled anyway, shown DOWN.
    await api('POST', '/agents', { name: 'pacs-01', enrol: `rounds://${TOKEN}@127.0.0.1:9?fp=${FP}`, tags: { site: 'north' } });
    await api('POST', '/checks', {
      agent: 'pacs-01',
      name: 'web',
      plugin: 'http',
      config: { url: 'http://127.0.0.1:9/' },
      intervalMs: '5m',
      tags: { tier: 'gold' },
    });
    await api('POST', '/checks', {
      agent: 'pacs-01',
      name: 'dicom port',
      plugin: 'tcp',
      config: { host: '127.0.0.1', port: 104 },
      intervalMs: '1m',
      enabled: false,
    });
    const checks = (await (await fetch(`${a.base}/api/v1/checks`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string; name: string }[];
    await api('PUT', `/checks/${checks.find((c) => c.name === 'web')!.id}/policy`, { failuresBeforeHard: 5, repeat: '1h' });
    // A parent later in the exported (sorted) list than its child: apply must create both before linking them.
    await api('PATCH', `/checks/${checks.find((c) => c.name === 'dicom port')!.id}`, { dependsOn: ['check:pacs-01/web'] });
    await api('POST', '/channels', { name: 'pager', type: 'webhook', config: { url: HOOK_URL, hmacSecret: 'sign-me' } });
    await api('PUT', '/alert-rules', [{ name: 'disk-full', metric: 'filesystem_used_ratio', op: '>', value: 0.9, for: '10m', severity: 'critical' }]);
    // Two notification policies whose order is not their names' order: the document keeps the order they are matched in.
    await api('POST', '/notification-policies', {
      name: 'zeta night pager',
      matchers: ['site="north"'],
      severities: ['critical'],
      time: { active: 'off-hours' },
      steps: [
        { after: '0s', targets: [{ channel: 'pager' }] },
        { after: '15m', targets: [{ schedule: 'pacs-team' }] },
      ],
    });
    await api('POST', '/notification-policies', { name: 'alpha everything', continue: true, steps: [{ after: '0s', targets: [{ allChannels: true }] }] });
    await api('POST', '/maintenance-windows', {
      name: 'Sunday patching',
      kind: 'weekly',
      timeZone: 'Europe/Berlin',
      start: '02:00',
      end: '04:00',
      days: ['sun'],
      matchers: ['site="north"'],
    });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it('export → apply on an empty collector → export gives the same document, secrets by {env} reference; a second apply changes nothing', async () => {
    const exported = await a.app.get(ConfigDocumentService).export(false, SPEC_AUDIT);
    assert.deepEqual(exported['notificationPolicies'], [
      {
        name: 'zeta night pager',
        matchers: ['site="north"'],
        severities: ['critical'],
        time: { active: 'off-hours' },
        steps: [
          { after: '0ms', targets: [{ channel: 'pager' }] },
          { after: '15m', targets: [{ schedule: 'pacs-team' }] },
        ],
      },
      { name: 'alpha everything', continue: true, steps: [{ after: '0ms', targets: [{ allChannels: true }] }] },
    ]);
    const dicom = (exported['checks'] as { name: string; dependsOn?: string[] }[]).find((c) => c.name === 'dicom port');
    assert.deepEqual(dicom?.dependsOn, ['check:pacs-01/web']);
    const text = JSON.stringify(exported);
    assert.ok(!text.includes('hook-secret-path') && !text.includes('sign-me') && !text.includes(TOKEN), 'a secret left the collector');
    const channel = (exported['channels'] as { config: Record<string, unknown> }[])[0]!;
    assert.deepEqual(channel.config['url'], { env: 'ROUNDS_SECRET_CHANNEL_PAGER_URL' });
    assert.deepEqual(channel.config['hmacSecret'], { env: 'ROUNDS_SECRET_CHANNEL_PAGER_HMACSECRET' });

    // What the CI job does: the new agent's token and the channel's secrets from its environment.
    const document = structuredClone(exported) as { agents: Record<string, unknown>[] };
    document.agents[0]!['token'] = { env: 'ROUNDS_SECRET_AGENT_PACS_01_TOKEN' };
    const env = { ROUNDS_SECRET_AGENT_PACS_01_TOKEN: TOKEN, ROUNDS_SECRET_CHANNEL_PAGER_URL: HOOK_URL, ROUNDS_SECRET_CHANNEL_PAGER_HMACSECRET: 'sign-me' };
    const resolved = resolveSecrets(document, env);
    const service = b.app.get(ConfigDocumentService);
    // B's floor is 30 s; every check here is 1 m or more.
    const first = await service.apply(dto(resolved), SPEC_AUDIT);
    assert.equal(first.applied, true);
    assert.deepEqual(
      first.plan.map((p) => `${p.action} ${p.kind} ${p.name}`).sort(),
      [
        'create agent pacs-01',
        'create channel pager',
        'create check pacs-01/dicom port',
        'create check pacs-01/web',
        'create maintenance Sunday patching',
        'create rule disk-full',
        'create notification-policy zeta night pager',
        'create notification-policy alpha everything',
      ].sort(),
    );
    assert.deepEqual(await service.export(false, SPEC_AUDIT), exported);
    const second = await service.apply(dto(resolved), SPEC_AUDIT);
    assert.deepEqual(second, { plan: [], applied: false });
    // The stored secret is the environment's, not the reference.
    const stored = (await b.app.get(ConfigDocumentService).export(true, SPEC_AUDIT)) as { channels: { config: Record<string, unknown> }[] };
    assert.equal(stored.channels[0]!.config['url'], HOOK_URL);
  });

  it('plans an update as field from → to, secrets redacted, and --prune deletes what the document leaves out', async () => {
    const service = b.app.get(ConfigDocumentService);
    const current = (await service.export(true, SPEC_AUDIT)) as Record<string, unknown> & {
      checks: Record<string, unknown>[];
      channels: Record<string, unknown>[];
    };
    const changed = structuredClone(current);
    changed.checks = changed.checks.filter((c) => c['name'] === 'web').map((c) => ({ ...c, intervalMs: '10m' }));
    (changed.channels[0]!['config'] as Record<string, unknown>)['hmacSecret'] = 'another';
    const plan = await service.plan(dto(changed));
    assert.deepEqual(
      plan.map((p) => [p.action, p.kind, p.name, p.changes]),
      [
        ['update', 'check', 'pacs-01/web', [{ path: 'intervalMs', from: '5m', to: '10m' }]],
        ['update', 'channel', 'pager', [{ path: 'config.hmacSecret', from: '••••••', to: '•••••• (changed)' }]],
      ],
    );
    const pruned = await service.plan(dto(changed, true));
    assert.ok(pruned.some((p) => p.action === 'delete' && p.kind === 'check' && p.name === 'pacs-01/dicom port'));
    await service.apply(dto(changed, true), SPEC_AUDIT);
    const after = (await service.export(false, SPEC_AUDIT)) as { checks: { name: string; intervalMs: string }[] };
    assert.deepEqual(
      after.checks.map((c) => [c.name, c.intervalMs]),
      [['web', '10m']],
    );
  });

  it('applies nothing when the third of five objects is refused mid-apply: no row, no audit entry, the read model and alert engine as before', async () => {
    const service = b.app.get(ConfigDocumentService);
    const before = {
      checks: await rows(b, 'checks'),
      channels: await rows(b, 'notification_channels'),
      audit: await rows(b, 'audit_log'),
      agents: await rows(b, 'agents'),
    };
    const rulesBefore = await service.export(false, SPEC_AUDIT);
    const check = (name: string, intervalMs: string) => ({ agent: 'pacs-02', name, plugin: 'tcp', intervalMs, config: { host: '127.0.0.1', port: 11112 } });
    const document = {
      apiVersion: 'rounds/v1',
      kind: 'Config',
      agents: [{ name: 'pacs-02', host: '127.0.0.1', port: 9, fingerprint: FP, token: TOKEN }],
      channels: [{ name: 'mail-night', type: 'webhook', config: { url: 'http://127.0.0.1:9/x' } }],
      // The third check is under B's 30 s floor: only ChecksService knows, at its write.
      checks: [check('c1', '1m'), check('c2', '1m'), check('c3', '10s'), check('c4', '1m'), check('c5', '1m')],
      rules: [{ name: 'cpu-hot', metric: 'cpu_usage_ratio', op: '>', value: 0.95 }],
    };
    const errors = await refusal(service.apply(dto(document), SPEC_AUDIT));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.field, 'document.checks.2.intervalMs');
    assert.match(errors[0]!.message, /below the minimum of 30s/);
    assert.deepEqual(
      { checks: await rows(b, 'checks'), channels: await rows(b, 'notification_channels'), audit: await rows(b, 'audit_log'), agents: await rows(b, 'agents') },
      before,
    );
    const state = b.app.get(CurrentState);
    assert.equal(state.findAgent('pacs-02'), undefined, 'the read model still has the agent the failed apply enrolled');
    assert.deepEqual(await service.export(false, SPEC_AUDIT), rulesBefore, 'the alert engine kept the failed apply’s rule');
  });

  it('puts the alert engine back when the transaction fails after its part was written, and lets the engine go on afterwards', async () => {
    const alerting = b.app.get(AlertingService);
    const rulesBefore = alerting.rules();
    const auditBefore = await rows(b, 'audit_log');
    const rule = ruleSchema.parse({ name: 'never-kept', metric: 'x', op: '>', value: 1 });
    await assert.rejects(
      alerting.configure(SPEC_AUDIT, (apply) =>
        oneTransaction(b.dataSource, async () => {
          await apply({ rules: [rule], putWindows: [], removeWindows: [], policies: [] });
          throw new Error('refused after the alerting part');
        }),
      ),
      /refused after the alerting part/,
    );
    assert.deepEqual(alerting.rules(), rulesBefore);
    assert.equal(await rows(b, 'audit_log'), auditBefore);
    const stored = (await b.app.get(AlertingRepository).loadState())!.state as { rules: { name: string }[] };
    assert.ok(!stored.rules.some((r) => r.name === 'never-kept'), 'the engine state with the rule was committed');
    // The journal is free again: an ordinary change goes through.
    await alerting.setRules([...rulesBefore.map((r) => ruleSchema.parse(r)), rule], SPEC_AUDIT);
    assert.ok(alerting.rules().some((r) => r.name === 'never-kept'));
    await alerting.setRules(
      rulesBefore.map((r) => ruleSchema.parse(r)),
      SPEC_AUDIT,
    );
  });

  it('refuses bad documents with the path of each error and stores nothing', async () => {
    const service = b.app.get(ConfigDocumentService);
    const base = { apiVersion: 'rounds/v1', kind: 'Config' };
    const parse = (document: unknown) => applyConfigDto.safeParse({ document });
    const fields = (document: unknown) => {
      const r = parse(document);
      assert.equal(r.success, false);
      return r.error.issues.map((i) => `${i.path.join('.')}${i.code === 'unrecognized_keys' ? `.${i.keys.join(',')}` : ''}: ${i.message}`);
    };
    assert.deepEqual(fields({ ...base, checks: [{ agent: 'pacs-01', name: 'x', plugin: 'tcp', colour: 'red' }] }), [
      'document.checks.0.colour: Unrecognized key: "colour"',
    ]);
    assert.match(fields({ ...base, checks: [{ agent: 'pacs-01', name: 'x', plugin: 'tcp', enabled: 'yes' }] })[0]!, /^document\.checks\.0\.enabled: /);
    assert.match(fields({ ...base, kind: 'Deployment' })[0]!, /^document\.kind: must be Config/);

    const missingAgent = await refusal(
      service.plan(dto({ ...base, checks: [{ agent: 'nowhere', name: 'x', plugin: 'tcp', config: { host: 'h', port: 1 } }] })),
    );
    assert.deepEqual(missingAgent, [{ field: 'document.checks.0.agent', message: 'no agent named "nowhere" in the document or on the collector' }]);
    const unknownPlugin = await refusal(service.plan(dto({ ...base, checks: [{ agent: 'pacs-01', name: 'x', plugin: 'no-such-plugin' }] })));
    assert.equal(unknownPlugin[0]!.field, 'document.checks.0.plugin');
    assert.match(unknownPlugin[0]!.message, /unknown plugin "no-such-plugin"/);
    const badConfig = await refusal(
      service.plan(dto({ ...base, checks: [{ agent: 'pacs-01', name: 'x', plugin: 'tcp', config: { host: 'h', port: 'high' } }] })),
    );
    assert.equal(badConfig[0]!.field, 'document.checks.0.config.port');
    const unknownParent = await refusal(
      service.plan(
        dto({ ...base, checks: [{ agent: 'pacs-01', name: 'x', plugin: 'tcp', config: { host: 'h', port: 1 }, dependsOn: ['check:pacs-01/no such'] }] }),
      ),
    );
    assert.deepEqual(unknownParent, [{ field: 'document.checks.0.dependsOn.0', message: 'no check "pacs-01/no such" in the document or on the collector' }]);
    const noChannel = await refusal(
      service.plan(dto({ ...base, notificationPolicies: [{ name: 'p', steps: [{ after: '0s', targets: [{ schedule: 's' }, { channel: 'nowhere' }] }] }] })),
    );
    assert.deepEqual(noChannel, [
      { field: 'document.notificationPolicies.0.steps.0.targets.1.channel', message: 'no channel named "nowhere" in the document or on the collector' },
    ]);
    const tcp = { agent: 'pacs-01', plugin: 'tcp', config: { host: 'h', port: 1 } };
    const checksBefore = await rows(b, 'checks');
    const cycle = await refusal(
      service.apply(
        dto({
          ...base,
          checks: [
            { ...tcp, name: 'ring-a', dependsOn: ['check:pacs-01/ring-b'] },
            { ...tcp, name: 'ring-b', dependsOn: ['check:pacs-01/ring-a'] },
          ],
        }),
        SPEC_AUDIT,
      ),
    );
    assert.equal(cycle[0]!.field.startsWith('document.checks.1'), true, JSON.stringify(cycle));
    assert.match(cycle[0]!.message, /cycle/);
    assert.equal(await rows(b, 'checks'), checksBefore, 'a check of the refused document was kept');
    const newAgent = await refusal(service.plan(dto({ ...base, agents: [{ name: 'pacs-09', host: '127.0.0.1', port: 9, fingerprint: FP }] })));
    assert.equal(newAgent[0]!.field, 'document.agents.0.token');
    assert.match(newAgent[0]!.message, /ROUNDS_SECRET_AGENT_PACS_09_TOKEN/);

    // An agent that described itself with only the tcp plugin has no http.
    const agent = b.app.get(CurrentState).findAgent('pacs-01')!.agent;
    const description = {
      agentId: 'x',
      version: '0.1.0',
      hostname: 'h',
      os: 'linux',
      arch: 'x64',
      plugins: [{ name: 'tcp', version: '1', description: 'tcp', source: 'builtin', configSchemaJson: '{}' }],
    };
    await b.app.get(AgentsRepository).update(agent.id, { descriptionJson: JSON.stringify(description) });
    await b.app.get(CurrentState).refreshAgent(agent.id);
    const lacks = await refusal(service.plan(dto({ ...base, checks: [{ agent: 'pacs-01', name: 'y', plugin: 'http', config: { url: 'http://x/' } }] })));
    assert.equal(lacks[0]!.field, 'document.checks.0.plugin');
    assert.match(lacks[0]!.message, /agent pacs-01 has no plugin "http" \(it has: tcp\)/);
  });

  it('resolveSecrets names every unset variable with its path in the document', () => {
    assert.throws(
      () => resolveSecrets({ channels: [{ config: { password: { env: 'ROUNDS_SECRET_X' } } }] }, {}),
      (e: Error) => /^channels\.0\.config\.password: the environment variable ROUNDS_SECRET_X is not set/.test(e.message),
    );
  });
});
