import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDataSource, SQLITE_FILE_NAME } from '../apps/collector/src/storage/data-source.js';
import type { DataSource } from 'typeorm';
import { ResultWriter, type StoredResult } from '../apps/collector/src/polling/result-writer.js';
import { RollupsRepository } from '../apps/collector/src/history/rollups.repository.js';
import { compared, type Benchmark } from './lib/figure.js';
import { interleave, median } from './lib/measure.js';
import { tempDir } from './lib/processes.js';
import { seedAgents, type SeededAgent } from './lib/seed.js';

export const AGENTS = 16;
export const CHECKS = 10;
/** Poll-sized batches (one result per check) per agent and pair. */
export const BATCHES_PER_AGENT = 60;
const PAIRS = 6;
/** Pairs run first and not counted (the JIT and the page cache warm up). */
const WARMUP = 1;

function result(checkId: string, seq: number, startedAt = Date.now()): StoredResult {
  return {
    checkId,
    seq,
    startedAt,
    durationMs: 3,
    status: 0,
    reason: 'ok',
    summary: 'HTTP 200 in 0.003 s, 3 B',
    metrics: [
      { name: 'connect_seconds', value: 0.0004, unit: 'seconds' },
      { name: 'total_seconds', value: 0.003, unit: 'seconds' },
      { name: 'status_code', value: 200, unit: '' },
    ],
  };
}

async function migratedDatabase(label: string, cleanup: (c: () => void) => void) {
  const dir = tempDir(`ingest-${label}`);
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  const ds = await createDataSource({ dataDir: dir }).initialize();
  return { ds, dir, agents: await seedIngestAgents(ds) };
}

/** The 16 agents × 10 checks the writer is loaded with, seeded into a migrated database (SQLite or PostgreSQL). */
export function seedIngestAgents(ds: DataSource): Promise<SeededAgent[]> {
  return seedAgents(
    ds,
    Array.from({ length: AGENTS }, (_, i) => ({ name: `a${i}`, host: '127.0.0.1', port: 1, token: 't', fingerprint: 'f' })),
    CHECKS,
    () => ({ plugin: 'tcp', config: { host: '127.0.0.1', port: 1 }, intervalMs: 30_000 }),
  );
}

/**
 * The writer loaded as the poller loads it: every agent writes `batches` poll-sized batches (one
 * result per check) one at a time, all agents at once. `startedAt(i)` dates the i-th batch of an
 * agent (now by default; the postgres bench spreads them 30 s apart to fill the roll-up tiers).
 * Returns the results stored and the transactions committed, from the writer's counters.
 */
export async function writeLoad(
  writer: ResultWriter,
  agents: readonly SeededAgent[],
  seqs: Map<string, number>,
  batches = BATCHES_PER_AGENT,
  startedAt: (batch: number) => number = () => Date.now(),
): Promise<{ written: number; transactions: number }> {
  const before = writer.counters;
  await Promise.all(
    agents.map(async (agent) => {
      for (let i = 0; i < batches; i++) {
        const first = (seqs.get(agent.id) ?? 0) + 1;
        const results = agent.checkIds.map((id, k) => result(id, first + k, startedAt(i)));
        seqs.set(agent.id, first + results.length - 1);
        await writer.write({ agentId: agent.id, results, ackSeq: first + results.length - 1, spoolEpoch: 'bench' });
      }
    }),
  );
  const after = writer.counters;
  const written = after.resultsWritten - before.resultsWritten;
  if (written !== agents.length * batches * CHECKS) throw new Error(`ResultWriter stored ${written} results, expected ${agents.length * batches * CHECKS}`);
  return { written, transactions: after.transactions - before.transactions };
}

/**
 * The collector's ResultWriter (TypeORM, WAL, real indexes, state upsert and ack in the
 * same transaction) loaded the way the poller loads it: 16 agents, each writing one
 * poll's batch of 10 results at a time. The yardstick inserts the same rows into the same
 * check_results schema with a raw better-sqlite3 prepared statement, in transactions of
 * the size the writer actually committed in that pair.
 */
export const bench: Benchmark = {
  name: 'ingest',
  description: 'ResultWriter results/s vs raw better-sqlite3 prepared inserts in transactions (same schema)',
  async run(ctx) {
    const writerDb = await migratedDatabase('writer', (c) => ctx.defer(c));
    ctx.defer(() => writerDb.ds.destroy());
    const rawDb = await migratedDatabase('raw', (c) => ctx.defer(c));
    await rawDb.ds.destroy();
    const raw = new Database(join(rawDb.dir, SQLITE_FILE_NAME));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    ctx.defer(() => raw.close());
    const insert = raw.prepare(
      'INSERT INTO check_results (check_id, agent_id, seq, started_at, duration_ms, status, reason, summary, metrics_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );

    const writer = new ResultWriter(writerDb.ds);
    ctx.defer(() => writer.close());
    const seqs = new Map<string, number>();
    let lastGroup = 0;
    let rawSeq = 0;
    // The writer alone, and the writer plus rolling its results into the minute and hour buckets (history/).
    const rollups = new RollupsRepository(writerDb.ds);
    const writerOnly: number[] = [];

    const viaWriter = async (): Promise<number> => {
      const start = performance.now();
      const { written, transactions } = await writeLoad(writer, writerDb.agents, seqs);
      const elapsed = performance.now() - start;
      lastGroup = Math.max(1, Math.round(written / transactions));
      writerOnly.push((written / elapsed) * 1000);
      const rollupStart = performance.now();
      let rolled = 0;
      for (let n = -1; n !== 0; rolled += n) n = (await rollups.rollUp(10_000)).rolled;
      if (rolled !== written) throw new Error(`rolled up ${rolled} results, expected ${written}`);
      return (written / (elapsed + performance.now() - rollupStart)) * 1000;
    };
    const rows = AGENTS * BATCHES_PER_AGENT * CHECKS;
    const viaRaw = async (): Promise<number> => {
      const tx = raw.transaction((part: unknown[][]) => {
        for (const r of part) insert.run(...r);
      });
      const all = Array.from({ length: rows }, (_, i) => {
        const agent = rawDb.agents[i % AGENTS]!;
        const r = result(agent.checkIds[i % CHECKS]!, ++rawSeq);
        return [r.checkId, agent.id, r.seq, r.startedAt, r.durationMs, r.status, r.reason, r.summary, JSON.stringify(r.metrics)];
      });
      const start = performance.now();
      for (let i = 0; i < all.length; i += lastGroup) tx(all.slice(i, i + lastGroup));
      return (rows / (performance.now() - start)) * 1000;
    };

    const groups: number[] = [];
    const samples = await interleave(PAIRS, WARMUP, viaWriter, async () => {
      groups.push(lastGroup);
      return viaRaw();
    });
    const group = median(groups);
    ctx.log(`writer committed ~${group} results per transaction`);
    return [
      compared(
        'ingest',
        'Ingest results/s (ResultWriter)',
        'results/s',
        median(writerOnly.slice(WARMUP)),
        'raw better-sqlite3 prepared insert in transaction',
        median(samples.b),
        { on: 'ratio', op: '>=', bound: 0.4 },
        `${PAIRS} pairs × ${rows} results; 16 agents writing 10-result batches; ~${group} results per transaction on both sides`,
      ),
      compared(
        'ingest',
        'Ingest results/s with roll-ups (ResultWriter, then the same results into 1-minute and 1-hour buckets)',
        'results/s',
        median(samples.a),
        'raw better-sqlite3 prepared insert in transaction',
        median(samples.b),
        { on: 'ratio', op: '>=', bound: 0.4 },
        `${PAIRS} pairs × ${rows} results; 16 agents writing 10-result batches; ~${group} results per transaction on both sides`,
      ),
    ];
  },
};
