import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestDatabase, TEST_ON_POSTGRES, type TestDatabaseHandle } from '../../apps/collector/src/storage/testing.js';
import { FakeBrowser } from '../../apps/collector/src/web/testing.js';
import { runBin, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

/**
 * A SQLite collector with an agent, a check's history and a user, moved with `migrate` into an
 * empty PostgreSQL database and started there: the same checks, history and users, and the user
 * signs in with the same password.
 */
describe(
  'moving a SQLite collector to PostgreSQL',
  { timeout: 240_000, skip: !TEST_ON_POSTGRES && 'needs the PostgreSQL server of the PostgreSQL pass (test/run.sh)' },
  () => {
    let collector: CollectorHandle;
    let agent: AgentHandle;
    let target: TestDatabaseHandle;
    let checkId: string;
    let password: string;
    const results = async () => (await collector.api<{ seq: number }[]>('GET', `/api/v1/checks/${checkId}/results?limit=1000`)).body;

    before(async () => {
      // SQLite, whatever the pass: undefined leaves the variables out of the collector's environment.
      collector = await startCollector({ ROUNDS_DATABASE_URL: undefined, ROUNDS_SECRET_KEY_FILE: undefined });
      agent = await startAgent('alpha');
      assert.equal((await collector.api('POST', '/api/v1/agents', { name: 'alpha', enrol: agent.enrolment })).status, 201);
      const port = Number(new URL(collector.url).port);
      const check = await collector.api<{ id: string }>('POST', '/api/v1/checks', {
        agent: 'alpha',
        name: 'collector port',
        plugin: 'tcp',
        config: { host: '127.0.0.1', port },
        intervalMs: 1000,
        timeoutMs: 1000,
      });
      assert.equal(check.status, 201, JSON.stringify(check.body));
      checkId = check.body.id;
      const user = await collector.api<{ password: string }>('POST', '/api/v1/users', { name: 'night-nurse', role: 'viewer' });
      assert.equal(user.status, 201);
      password = user.body.password;
      await waitFor('three results on SQLite', async () => (await results()).length >= 3);
      target = await makeTestDatabase('rounds-e2e-move-');
    });
    after(async () => {
      await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
      await target?.dispose();
    });

    it('migrate copies the stopped collector, and the collector started on PostgreSQL shows the same checks, history and users', async () => {
      await collector.proc.stop();
      const url = (target.config as { postgresUrl: string }).postgresUrl;
      const run = await runBin('rounds-collector', ['migrate', '--to', url], collector.env);
      assert.equal(run.code, 0, run.output);
      const copied = Number(/^check_results\s+(\d+)\s+(\d+)$/m.exec(run.output)?.[2]);
      assert.ok(copied >= 3, run.output);

      Object.assign(collector.env, { ROUNDS_DATABASE_URL: url, ROUNDS_SECRET_KEY_FILE: join(collector.dataDir, 'secret.key') });
      await collector.start();
      assert.match(collector.proc.output, /ready: .* \(data: PostgreSQL\)/);
      const checks = await collector.api<{ id: string; name: string }[]>('GET', '/api/v1/checks');
      assert.deepEqual(
        checks.body.map((c) => c.name),
        ['collector port'],
      );
      assert.ok((await results()).length >= copied, 'the history came along');
      // The agent's token was copied sealed and opens with the same key: polling goes on, on PostgreSQL.
      await waitFor('a new result stored on PostgreSQL', async () => (await results()).length > copied);
      const users = await collector.api<{ name: string }[]>('GET', '/api/v1/users');
      assert.deepEqual(users.body.map((u) => u.name).sort(), ['admin', 'night-nurse']);
      const signIn = await new FakeBrowser(collector.url).signIn('night-nurse', password);
      assert.equal(signIn.status, 303, signIn.text.slice(0, 300));
      assert.notEqual(signIn.location, '/sign-in', 'signed in with the password set on SQLite');
    });
  },
);
