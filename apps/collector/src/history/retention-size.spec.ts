import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { ManualClock } from '#rounds/common';
import { readCollectorConfig } from '../config/env.js';
import { bulkSql } from '../storage/bulk-sql.js';
import { SQLITE_FILE_NAME } from '../storage/data-source.js';
import { openTestDatabase, sqliteOnly } from '../storage/testing.js';
import { inTransaction } from '../storage/transaction.js';
import { HistoryUpkeep } from './history-upkeep.service.js';
import { RollupsRepository } from './rollups.repository.js';

const DAY = 86_400_000;
const CHECKS = 500;
/**
 * 60 simulated days of 500 checks: every 30 minutes rather than every 30 s, so the spec stores
 * 1.4 million results instead of 86 million — each result is its own minute bucket either way, so
 * every tier fills and empties as it would; the bench gives the size per check per day at 30 s.
 */
const INTERVAL_MS = 30 * 60_000;
const DAYS = 60;
/** Shorter than the defaults (7 d, 90 d, 5 y) so that every tier reaches its steady state within the 60 days. */
const RETENTION = { ROUNDS_RETENTION_RAW: '7d', ROUNDS_RETENTION_1M: '14d', ROUNDS_RETENTION_1H: '30d' };

describe(
  'retention: the database file stops growing once every tier is past its retention',
  { skip: sqliteOnly('the size and free pages of the SQLite file') },
  () => {
    let db: Awaited<ReturnType<typeof openTestDatabase>>;
    const start = Date.UTC(2026, 0, 1);
    const clock = new ManualClock(start);

    before(async () => {
      // Sixty pruning rounds each say what they pruned: not worth sixty lines of the suite's output.
      Logger.overrideLogger(['warn', 'error']);
      db = await openTestDatabase();
    });
    after(() => db.close());

    it('60 simulated days of 500 checks: the file grows for the first 30 days, then stays within 5 %, pages reused', async () => {
      const ds = db.dataSource;
      const config = readCollectorConfig(RETENTION);
      const rollups = new RollupsRepository(ds);
      const upkeep = new HistoryUpkeep(rollups, config, clock);
      await ds.query(
        `INSERT INTO agents (id, name, host, port, token, fingerprint, assignment_version, created_at, updated_at) VALUES ('a', 'pacs-01', 'h', 1, 't', 'f', 'v', 0, 0)`,
      );
      const checkIds = Array.from({ length: CHECKS }, (_, i) => `check-${String(i).padStart(4, '0')}`);
      await inTransaction(ds, (m) =>
        bulkSql(ds).insert(
          m,
          'checks',
          ['id', 'agent_id', 'name', 'plugin', 'config_json', 'interval_ms', 'timeout_ms', 'created_at', 'updated_at'],
          checkIds.map((id) => [id, 'a', id, 'http', '{}', INTERVAL_MS, 10_000, 0, 0]),
        ),
      );

      const sizes: number[] = [];
      let seq = 0;
      for (let day = 0; day < DAYS; day++) {
        const rows: unknown[][] = [];
        for (let t = start + day * DAY; t < start + (day + 1) * DAY; t += INTERVAL_MS) {
          for (const [i, id] of checkIds.entries()) {
            const status = (i + seq) % 97 === 0 ? 2 : 0;
            const metrics = `[{"name":"total_seconds","value":${((i * 31 + seq) % 500) / 1000},"unit":"seconds"}]`;
            rows.push([id, 'a', ++seq, t + ((i * 7919) % INTERVAL_MS), 40, status, status ? 'timeout' : 'ok', 'HTTP 200 in 0.040 s', metrics]);
          }
        }
        await inTransaction(ds, (m) =>
          bulkSql(ds).insert(
            m,
            'check_results',
            ['check_id', 'agent_id', 'seq', 'started_at', 'duration_ms', 'status', 'reason', 'summary', 'metrics_json'],
            rows,
          ),
        );
        await clock.advance(DAY);
        await upkeep.rollUp();
        await upkeep.prune();
        await ds.query('PRAGMA wal_checkpoint(TRUNCATE)');
        sizes.push(statSync(join(db.dataDir, SQLITE_FILE_NAME)).size);
      }

      const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
      const at = (day: number) => sizes[day - 1]!;
      const report = `sizes at days 1, 7, 14, 30, 45, 60: ${[1, 7, 14, 30, 45, 60].map((d) => mb(at(d))).join(', ')}`;
      assert.ok(at(30) > at(7) * 1.5, `the file grows while the tiers fill: ${report}`);
      const steady = Math.min(...sizes.slice(31));
      assert.ok(Math.max(...sizes.slice(31)) <= steady * 1.05, `past 30 days the file stays within 5 %: ${report}`);
      assert.ok(at(60) <= at(31) * 1.05, report);
      // What every tier keeps once past its retention: raw 7 days, minutes 14, hours 30.
      const count = async (table: string) => Number((await ds.query<{ n: number }[]>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
      const perDay = (DAY / INTERVAL_MS) * CHECKS;
      assert.equal(await count('check_results'), 7 * perDay);
      assert.equal(await count('check_rollups_1m'), 14 * perDay);
      assert.equal(await count('check_rollups_1h'), 30 * 24 * CHECKS);
      assert.equal(await count('metric_rollups_1h'), 30 * 24 * CHECKS);
      const [free] = await ds.query<{ freelist_count: number }[]>('PRAGMA freelist_count');
      // Through TypeORM's query() `PRAGMA incremental_vacuum` gave back one page per call: thousands stayed free.
      assert.ok(free!.freelist_count < 50, `free pages given back to the file system (incremental vacuum): ${free!.freelist_count} left`);
    });
  },
);
