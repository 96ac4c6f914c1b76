import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import { runCollectorCli } from '../cli/testing.js';
import { ResultsRepository } from '../history/results.repository.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { ResultWriter } from '../polling/result-writer.js';
import { verifyPassword } from '../users/passwords.js';
import { createDataSource, type DataSourceConfig } from './data-source.js';
import { SECRET_KEY_FILE_NAME } from './secret-key.store.js';
import { makeTestDatabase, TEST_ON_POSTGRES, type TestDatabaseHandle } from './testing.js';

const PASSWORD = 'correct-horse-battery-staple';

describe(
  'rounds-collector migrate --to postgres://…',
  { skip: !TEST_ON_POSTGRES && 'needs the PostgreSQL server of the PostgreSQL pass (test/run.sh)' },
  () => {
    let root: string;
    let sqliteDir: string;
    let target: TestDatabaseHandle;
    let targetUrl: string;
    let agentId: string;
    let checkId: string;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'rounds-move-'));
      sqliteDir = join(root, 'data');
      // The SQLite collector's data: an agent with its sealed token, a check, history, a user, audit rows.
      const sqlite = await createDataSource({ dataDir: sqliteDir }).initialize();
      agentId = (await new AgentsRepository(sqlite).create({ name: 'pacs-01', host: '10.0.4.7', port: 7443, token: 'agent-token-1', fingerprint: 'ff' })).id;
      checkId = (
        await new ChecksRepository(sqlite).create({ agentId, name: 'dicom echo', plugin: 'tcp', config: { port: 104 }, intervalMs: 60_000, timeoutMs: 5000 })
      ).id;
      const writer = new ResultWriter(sqlite);
      for (let seq = 1; seq <= 12; seq++) {
        const result = {
          checkId,
          seq,
          startedAt: 1_700_000_000_000 + seq * 60_000,
          durationMs: 4,
          status: seq % 4 === 0 ? 2 : 0,
          reason: '',
          summary: `run ${seq}`,
          metrics: [],
        };
        await writer.write({ agentId, ackSeq: seq, spoolEpoch: 'e1', results: [result as never] });
      }
      await writer.close();
      await sqlite.destroy();
      const added = await runCollectorCli(sqliteDir, ['user', 'add', '--name', 'alice', '--role', 'admin', '--password-stdin'], { stdin: PASSWORD });
      assert.equal(added.code, 0, added.output);
      target = await makeTestDatabase('rounds-move-target-');
      targetUrl = (target.config as { postgresUrl: string }).postgresUrl;
    });
    after(async () => {
      await target?.dispose();
      await rm(root, { recursive: true, force: true });
    });

    /** The PostgreSQL copy, opened with the SQLite collector's key. */
    const openTarget = () =>
      createDataSource({ postgresUrl: targetUrl, secretKey: { file: join(sqliteDir, SECRET_KEY_FILE_NAME) } } satisfies DataSourceConfig).initialize();

    it('copies every table into the empty database, with progress on stderr and the row counts of both sides', async () => {
      const run = await runCollectorCli(sqliteDir, ['migrate', '--to', targetUrl]);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /^copying check_results: 12\/12 rows$/m);
      assert.match(run.output, /^TABLE\s+SQLITE\s+POSTGRESQL$/m);
      for (const [table, rows] of [
        ['agents', 1],
        ['checks', 1],
        ['check_results', 12],
        ['check_state', 1],
        ['users', 1],
      ] as const)
        assert.match(run.output, new RegExp(`^${table}\\s+${rows}\\s+${rows}$`, 'm'), `${table} counted`);
      assert.match(run.output, /copied into 127\.0\.0\.1:\d+, database rounds_test_\w+, user postgres: every table's rows counted on both sides/);
    });

    it('the copy holds the same agents (token opened with the same key), history, users (same password) and an intact audit chain, and ids continue', async () => {
      const pg = await openTarget();
      try {
        const agent = await new AgentsRepository(pg).findById(agentId);
        assert.equal(agent?.token, 'agent-token-1');
        assert.equal((await new ChecksRepository(pg).findById(checkId))?.name, 'dicom echo');
        const [state] = await new ResultsRepository(pg).stateFor([checkId]);
        assert.equal(state?.lastSeq, 12);
        const [alice] = await pg.query<{ password_hash: string; must_change_password: boolean }[]>(
          `SELECT password_hash, must_change_password FROM users WHERE name = 'alice'`,
        );
        assert.ok(await verifyPassword(alice!.password_hash, PASSWORD), 'signs in with the same password');
        const verified = await new AuditService(new AuditRepository(pg)).verify();
        assert.ok(verified.ok && verified.count >= 1, JSON.stringify(verified));
        // A result stored on PostgreSQL gets an id past the copied ones.
        const writer = new ResultWriter(pg);
        await writer.write({
          agentId,
          ackSeq: 13,
          spoolEpoch: 'e1',
          results: [{ checkId, seq: 13, startedAt: 1_700_001_000_000, durationMs: 4, status: 0, reason: '', summary: 'on pg', metrics: [] }],
        });
        await writer.close();
        const ids = await pg.query<{ id: string; summary: string }[]>('SELECT id, summary FROM check_results ORDER BY id DESC LIMIT 1');
        assert.deepEqual([Number(ids[0]!.id), ids[0]!.summary], [13, 'on pg']);
      } finally {
        await pg.destroy();
      }
    });

    it('refuses a database that is not empty, naming a table, and copies nothing', async () => {
      const run = await runCollectorCli(sqliteDir, ['migrate', '--to', targetUrl]);
      assert.equal(run.code, 1);
      assert.match(
        run.output,
        /the PostgreSQL database at 127\.0\.0\.1:\d+, database rounds_test_\w+, user postgres is not empty \(it has table \w+\): migrate copies into an empty database only/,
      );
      assert.doesNotMatch(run.output, /copying/);
    });
  },
);
