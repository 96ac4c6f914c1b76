import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseEnrolment } from '../../libs/common/src/enrolment.js';
import { runBin, startAgent, startCollector, tempDir, type AgentHandle, type CollectorHandle } from './harness.js';

const HMAC = `hmac-${Math.random().toString(36).slice(2)}-secret`;

/**
 * Configuration as code with the real programs: `rounds-collector config export` from one
 * collector, `config apply` of that document on an empty second one (the way a CI job runs it:
 * secrets from its environment, no prompt), and the second collector's export is the same text.
 */
describe('config export → apply on an empty collector → export', { timeout: 180_000 }, () => {
  let source: CollectorHandle;
  let target: CollectorHandle;
  let agent: AgentHandle;
  const dir = tempDir('config-as-code');
  const cli = (collector: CollectorHandle, args: string[], env: NodeJS.ProcessEnv = {}) =>
    runBin('rounds-collector', ['config', ...args, '--url', collector.url, '--token', collector.token], env);

  before(async () => {
    [source, target, agent] = await Promise.all([startCollector(), startCollector(), startAgent('pacs-01')]);
    const ok = (r: { status: number; body: unknown }) => assert.ok(r.status < 300, JSON.stringify(r.body));
    ok(await source.api('POST', '/api/v1/agents', { name: 'pacs-01', enrol: agent.enrolment, tags: { site: 'north' } }));
    ok(
      await source.api('POST', '/api/v1/checks', {
        agent: 'pacs-01',
        name: 'dicom port',
        plugin: 'tcp',
        config: { host: '127.0.0.1', port: agent.port },
        intervalMs: '1m',
      }),
    );
    ok(await source.api('POST', '/api/v1/channels', { name: 'pager', type: 'webhook', config: { url: 'http://127.0.0.1:9/hook', hmacSecret: HMAC } }));
    ok(await source.api('PUT', '/api/v1/alert-rules', [{ name: 'disk-full', metric: 'filesystem_used_ratio', op: '>', value: 0.9, for: '10m' }]));
    ok(await source.api('POST', '/api/v1/maintenance-windows', { name: 'patching', kind: 'daily', timeZone: 'UTC', start: '02:00', end: '03:00' }));
  });
  after(async () => {
    await Promise.all([source?.proc.stop(), target?.proc.stop(), agent?.proc.stop()]);
  });

  it('exports YAML with secrets as {env} references, applies it with the secrets from the environment, and exports the same text back', async () => {
    const exportedFile = join(dir, 'exported.yaml');
    const exported = await cli(source, ['export', '-o', exportedFile]);
    assert.equal(exported.code, 0, exported.output);
    const text = readFileSync(exportedFile, 'utf8');
    assert.ok(!text.includes(HMAC), 'the export holds a secret');
    assert.match(text, /hmacSecret:\s*\n\s*env: ROUNDS_SECRET_CHANNEL_PAGER_HMACSECRET/);

    // The pipeline's document: the new agent's token by reference too.
    const document = parse(text) as { agents: Record<string, unknown>[] };
    document.agents[0]!['token'] = { env: 'ROUNDS_SECRET_AGENT_PACS_01_TOKEN' };
    const applyFile = join(dir, 'apply.yaml');
    writeFileSync(applyFile, stringify(document));
    const env = {
      ROUNDS_SECRET_AGENT_PACS_01_TOKEN: parseEnrolment(agent.enrolment).token,
      ROUNDS_SECRET_CHANNEL_PAGER_URL: 'http://127.0.0.1:9/hook',
      ROUNDS_SECRET_CHANNEL_PAGER_HMACSECRET: HMAC,
    };

    const unset = await cli(target, ['apply', applyFile], { ...env, ROUNDS_SECRET_CHANNEL_PAGER_HMACSECRET: '' });
    assert.equal(unset.code, 65, unset.output);
    assert.match(unset.output, /channels\.0\.config\.hmacSecret: the environment variable ROUNDS_SECRET_CHANNEL_PAGER_HMACSECRET is not set/);

    const dryRun = await cli(target, ['apply', applyFile, '--dry-run'], env);
    assert.equal(dryRun.code, 2, dryRun.output);
    assert.match(dryRun.output, /^\+ agent pacs-01$/m);
    assert.match(dryRun.output, /^\+ check pacs-01\/dicom port$/m);
    assert.match(dryRun.output, /5 to create, 0 to update, 0 to delete/);
    assert.equal(((await target.api<unknown[]>('GET', '/api/v1/agents')).body ?? []).length, 0, '--dry-run changed something');

    const applied = await cli(target, ['apply', applyFile], env);
    assert.equal(applied.code, 0, applied.output);
    assert.match(applied.output, /^applied: 5 to create, 0 to update, 0 to delete$/m);

    const again = await cli(target, ['apply', applyFile, '--dry-run'], env);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /nothing to change/);

    const back = await cli(target, ['export']);
    assert.equal(back.code, 0, back.output);
    assert.equal(back.output, text);
  });

  it('refuses a document with an unknown field, exit 65 with its path, and changes nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: rounds/v1\nkind: Config\nchecks:\n  - agent: pacs-01\n    name: x\n    plugin: tcp\n    colour: red\n');
    const run = await cli(target, ['apply', bad, '--yes']);
    assert.equal(run.code, 65, run.output);
    assert.match(run.output, /^ {2}checks\.0\.colour: unknown field$/m);
  });
});
