import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ManualClock } from '#rounds/common';
import { mountSmallDisk, type SmallDisk } from '../../../../test/peers/small-disk.js';
import { StorageHealth } from './storage-health.service.js';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { ChecksRepository } from '../inventory/checks.repository.js';
import { createDataSource } from './data-source.js';
import { HealthRepository } from './health.repository.js';
import { ResultWriter, type StoredResult } from '../polling/result-writer.js';
import { storageFault } from './storage-fault.js';
import { inTransaction } from './transaction.js';
import { sqliteOnly } from './testing.js';

/**
 * The collector's database on a real 8 MiB file system that the test fills, frees, makes
 * read-only and locks: whatever a commit fails on, the ack stays at what is durable, later
 * writes are real transactions, and storage health says so once per episode.
 */
describe(
  'storage failures on a real small disk',
  { timeout: 120_000, skip: sqliteOnly('fills, locks and makes read-only the file system under the SQLite file') },
  () => {
    let disk: SmallDisk;
    let dataSource: DataSource;
    let writer: ResultWriter;
    let health: StorageHealth;
    let agentId: string;
    let checkId: string;
    let seq = 0;
    const logged: string[] = [];
    const clock = new ManualClock(1_700_000_000_000);

    /** A second connection: sees only what was committed to the file. */
    async function durable<T>(sql: string): Promise<T> {
      const reader = createDataSource({ dataDir: disk.dir });
      await reader.initialize();
      try {
        return (await reader.query<T[]>(sql))[0]!;
      } finally {
        await reader.destroy();
      }
    }
    const durableAck = async () => (await durable<{ ack_seq: number }>(`SELECT ack_seq FROM agents WHERE id = '${agentId}'`)).ack_seq;
    const durableRows = async () => (await durable<{ n: number }>('SELECT COUNT(*) AS n FROM check_results')).n;

    function batch(n: number) {
      const results: StoredResult[] = [];
      for (let i = 0; i < n; i++) {
        seq += 1;
        results.push({
          checkId,
          seq,
          startedAt: 1_700_000_000_000 + seq,
          durationMs: 3,
          status: 0,
          reason: 'ok',
          summary: `port open ${'·'.repeat(400)}`,
          metrics: [],
        });
      }
      return { agentId, results, ackSeq: seq, spoolEpoch: 'epoch-1' };
    }

    before(async () => {
      Logger.overrideLogger({
        log: (m: unknown) => logged.push(`log ${String(m)}`),
        error: (m: unknown) => logged.push(`error ${String(m)}`),
        warn: () => {},
        debug: () => {},
        verbose: () => {},
      });
      disk = mountSmallDisk(8 * 1024 * 1024);
      dataSource = createDataSource({ dataDir: disk.dir });
      await dataSource.initialize();
      const repository = new HealthRepository(dataSource);
      health = new StorageHealth(repository, clock);
      writer = new ResultWriter(dataSource);
      agentId = (await new AgentsRepository(dataSource).create({ name: 'pacs', host: 'h', port: 1, token: 't', fingerprint: 'f' })).id;
      checkId = (await new ChecksRepository(dataSource).create({ agentId, name: 'dicom', plugin: 'tcp', config: {}, intervalMs: 1000, timeoutMs: 500 })).id;
    });
    after(async () => {
      Logger.overrideLogger(false);
      await writer?.close().catch(() => {});
      await dataSource?.destroy().catch(() => {});
      disk?.unmount();
    });

    it('a full disk rejects the write, leaves the durable ack where it was and rolls the transaction back completely', async () => {
      await writer.write(batch(20));
      assert.equal(await durableAck(), 20);
      disk.fill();
      let failures = 0;
      for (let i = 0; i < 30; i++) {
        await writer.write(batch(50)).catch((e: unknown) => {
          failures += 1;
          assert.equal(storageFault(e)?.kind, 'disk_full', String(e));
        });
      }
      assert.ok(failures >= 25, `only ${failures} of 30 writes failed on a full disk`);
      const native = (dataSource.driver as unknown as { databaseConnection: { inTransaction: boolean } }).databaseConnection;
      assert.equal(native.inTransaction, false, 'a failed commit left a transaction open on the connection');
      // What the collector reads back on its own connection is what the file holds: nothing acked that is not durable.
      const [own] = await dataSource.query<{ ack_seq: number }[]>(`SELECT ack_seq FROM agents WHERE id = '${agentId}'`);
      disk.release();
      assert.equal(own!.ack_seq, await durableAck());
    });

    it('while failing, storage health names the cause, the data directory and what to do — logged once for the episode', () => {
      const problem = health.problem();
      assert.ok(problem, 'no problem reported while commits fail');
      assert.match(
        problem,
        /^storage failing since .*\(disk full: SQLITE_FULL: database or disk is full; \d+ failed writes\): results are not acknowledged and stay on the agents — free disk space for .* \(ROUNDS_DATA_DIR\); the collector resumes by itself$/,
      );
      assert.ok(problem.includes(disk.dir));
      assert.equal(health.status().episodes, 1);
      assert.ok(health.status().failuresByKind.disk_full >= 25);
      assert.equal(logged.filter((l) => l.startsWith('error storage failing')).length, 1, logged.join('\n'));
    });

    it('once space is back, the next write is a real transaction: committed, durable and acknowledged, and the episode ends', async () => {
      const before = await durableRows();
      await writer.write(batch(10));
      assert.equal(await durableAck(), seq);
      assert.equal(await durableRows(), before + 10);
      assert.equal(health.problem(), undefined);
      assert.equal(logged.filter((l) => /^log storage works again after \d+ s \(\d+ failed writes\)/.test(l)).length, 1, logged.join('\n'));
    });

    it('a database that refuses writes (SQLite query_only: SQLITE_READONLY) fails as read_only, and the collector resumes when it is writable again', async () => {
      // A tmpfs with open files cannot be remounted read-only, and root ignores file modes;
      // query_only makes SQLite itself refuse every write with SQLITE_READONLY.
      const ackBefore = await durableAck();
      const native = (dataSource.driver as unknown as { databaseConnection: { pragma(s: string): unknown } }).databaseConnection;
      native.pragma('query_only = ON');
      try {
        const error = await writer.write(batch(5)).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.equal(storageFault(error)?.kind, 'read_only', String(error));
        assert.match(health.problem() ?? '', /\(read only: SQLITE_READONLY: .*make the database writable by the collector/);
      } finally {
        native.pragma('query_only = OFF');
      }
      assert.equal(await durableAck(), ackBefore);
      await writer.write(batch(5));
      assert.equal(await durableAck(), seq);
      assert.equal(health.status().episodes, 2);
    });

    it('a database locked by another process past the busy timeout fails as locked, and the next write after the lock goes commits', async () => {
      const other = createDataSource({ dataDir: disk.dir });
      await other.initialize();
      const native = (other.driver as unknown as { databaseConnection: { exec(sql: string): void } }).databaseConnection;
      native.exec('BEGIN IMMEDIATE');
      try {
        const error = await writer.write(batch(5)).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.equal(storageFault(error)?.kind, 'locked', String(error));
      } finally {
        native.exec('ROLLBACK');
        await other.destroy();
      }
      await writer.write(batch(5));
      assert.equal(await durableAck(), seq);
      assert.equal(health.problem(), undefined);
    });

    it('a transaction that fails on a unique constraint is not a storage failure', async () => {
      const episodes = health.status().episodes;
      await assert.rejects(
        inTransaction(dataSource, (m) =>
          m.query(`INSERT INTO agents (id, name, host, port, token, fingerprint) SELECT id || 'x', name, host, port, token, fingerprint FROM agents`),
        ),
      );
      assert.equal(health.problem(), undefined);
      assert.equal(health.status().episodes, episodes);
    });
  },
);
