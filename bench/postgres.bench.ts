import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSource, type DataSourceConfig } from '../apps/collector/src/storage/data-source.js';
import { ResultWriter } from '../apps/collector/src/polling/result-writer.js';
import { RollupsRepository } from '../apps/collector/src/history/rollups.repository.js';
import { startPostgres, stopPostgres } from '../test/peers/postgres.js';
import { absolute, compared, type BenchContext, type Benchmark, type Figure } from './lib/figure.js';
import { interleave, median, sleep } from './lib/measure.js';
import { tempDir, type Worker } from './lib/processes.js';
import { seedAgents } from './lib/seed.js';
import { AGENTS, BATCHES_PER_AGENT, CHECKS, seedIngestAgents, writeLoad } from './ingest.bench.js';
import { startCollector, startFarm, until, type AgentPolls, type HostStats } from './scale.bench.js';

const PAIRS = 5;
const WARMUP = 1;
/** Growth load: 4 simulated hours of results 30 s apart per check, so every 1-minute and 1-hour bucket fills as in production. */
const GROWTH_BATCHES = 480;
const INTERVAL_S = 30;
/** Per check and day at a 30 s interval: raw results, 1-minute buckets, 1-hour buckets. */
const PER_DAY = { raw: 86_400 / INTERVAL_S, '1m': 1440, '1h': 24 } as const;
/** The tables of each tier (metric_series is one row per series, not per day: left out). */
const TIERS = { raw: ['check_results'], '1m': ['check_rollups_1m', 'metric_rollups_1m'], '1h': ['check_rollups_1h', 'metric_rollups_1h'] } as const;
type Tier = keyof typeof TIERS;

/** The ceiling runs (scale's method): a farm polled every 1 s, more demand than the collectors serve. */
const FARM_AGENTS = 800;
const FARM_PROCESSES = 2;
const POLL_INTERVAL_MS = 1000;
const WINDOW_MS = 15_000;
const COLLECTORS = 3;
/**
 * Collectors on PostgreSQL: leases timed as at the real 30 s interval (renewed every 5 s, valid
 * 30 s). Their defaults follow the poll interval, and at the ceiling run's 1 s a renewal of 800
 * leases that takes longer than 1 s on a busy machine lets every lease lapse: the collector then
 * holds no agent and the figure would measure that, not polling. Warnings logged: a lease that
 * cannot be renewed, or given up, is one.
 */
const SHARED = { ROUNDS_LEASE_RENEW_MS: '5000', ROUNDS_LEASE_TTL_MS: String(INTERVAL_S * 1000), ROUNDS_LOG_LEVEL: 'warn' };

interface Db {
  label: string;
  ds: DataSource;
  /** Bytes of a table with its indexes (and, on PostgreSQL, TOAST and the free-space map). */
  size(table: string): Promise<number>;
}

async function sqliteDb(ctx: BenchContext, label: string): Promise<{ db: Db; dataDir: string }> {
  const dataDir = tempDir(`postgres-bench-${label}`);
  ctx.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const ds = await createDataSource({ dataDir }).initialize();
  ctx.defer(() => (ds.isInitialized ? ds.destroy() : undefined));
  // dbstat: the pages each table and index uses, summed per table (indexes by their tbl_name).
  const size = async (table: string) => {
    const [row] = await ds.query<{ bytes: number | null }[]>(
      'SELECT SUM(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_master m ON m.name = s.name WHERE m.tbl_name = ?',
      [table],
    );
    return Number(row?.bytes ?? 0);
  };
  return { db: { label: 'SQLite', ds, size }, dataDir };
}

/** A fresh database on the bench's PostgreSQL server, with its key file, as a collector is configured for it. */
async function postgresDb(ctx: BenchContext, serverUrl: string, label: string): Promise<{ db: Db; config: DataSourceConfig; env: Record<string, string> }> {
  const name = `rounds_bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = await new DataSource({ type: 'postgres', url: serverUrl }).initialize();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.destroy();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const dataDir = tempDir(`postgres-bench-${label}`);
  ctx.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const keyFile = join(dataDir, 'secret.key');
  const config = { postgresUrl: url.href, secretKey: { file: keyFile } };
  const ds = await createDataSource(config).initialize();
  ctx.defer(() => (ds.isInitialized ? ds.destroy() : undefined));
  const size = async (table: string) =>
    Number((await ds.query<{ bytes: string }[]>('SELECT pg_total_relation_size($1::regclass) AS bytes', [table]))[0]!.bytes);
  return { db: { label: 'PostgreSQL', ds, size }, config, env: { ROUNDS_DATA_DIR: dataDir, ROUNDS_DATABASE_URL: url.href, ROUNDS_SECRET_KEY_FILE: keyFile } };
}

async function rollAll(ds: DataSource): Promise<number> {
  const rollups = new RollupsRepository(ds);
  let rolled = 0;
  for (let n = -1; n !== 0; rolled += n) n = (await rollups.rollUp(10_000)).rolled;
  return rolled;
}

async function tierSizes(db: Db): Promise<Record<Tier, number>> {
  const out = {} as Record<Tier, number>;
  for (const tier of Object.keys(TIERS) as Tier[]) {
    out[tier] = 0;
    for (const t of TIERS[tier]) out[tier] += await db.size(t);
  }
  return out;
}

async function rowCounts(ds: DataSource): Promise<Record<Tier, number>> {
  const n = async (t: string) => Number((await ds.query<{ n: string | number }[]>(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
  return { raw: await n('check_results'), '1m': await n('check_rollups_1m'), '1h': await n('check_rollups_1h') };
}

/**
 * Growth: 4 simulated hours at 30 s through the writer, rolled up, the tiers' sizes before and
 * after. A roll-up row's bytes include its metrics' roll-up rows (3 metrics per result here).
 */
async function growth(db: Db, writer: ResultWriter, agents: Parameters<typeof writeLoad>[1], seqs: Map<string, number>) {
  await rollAll(db.ds);
  const sizes0 = await tierSizes(db);
  const rows0 = await rowCounts(db.ds);
  const start = Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000;
  await writeLoad(writer, agents, seqs, GROWTH_BATCHES, (i) => start + i * INTERVAL_S * 1000);
  await rollAll(db.ds);
  const sizes1 = await tierSizes(db);
  const rows1 = await rowCounts(db.ds);
  const per = {} as Record<Tier, { rows: number; bytesPerRow: number }>;
  for (const tier of Object.keys(TIERS) as Tier[]) {
    const rows = rows1[tier] - rows0[tier];
    per[tier] = { rows, bytesPerRow: (sizes1[tier] - sizes0[tier]) / rows };
  }
  return per;
}

/**
 * The ceiling of `hosts` collectors polling the farm together: the sum of their polls/s over the
 * window, after every agent was reached once. Returns also what each held and the farm's counts.
 */
async function ceiling(ctx: BenchContext, hosts: Worker[], farms: Worker[]) {
  // Reached once, and the leases settled: every agent held, by one collector each, each holding some.
  await until(`every agent to be reached and held (${hosts.length} collector(s))`, 120_000, async () => {
    const channels = (await Promise.all(hosts.map((h) => h.call<HostStats>('stats', { from: Date.now() })))).reduce((n, s) => n + s.channels, 0);
    const held = await Promise.all(hosts.map((h) => h.call<{ agentIds: string[] }>('held', {})));
    const distinct = new Set(held.flatMap((h) => h.agentIds)).size;
    return channels >= FARM_AGENTS && distinct === FARM_AGENTS && held.every((h) => h.agentIds.length > 0) ? distinct : undefined;
  });
  await sleep(3000);
  const s0 = await Promise.all(hosts.map((h) => h.call<HostStats>('stats', { from: Date.now() })));
  const from = Date.now();
  await sleep(WINDOW_MS);
  const to = Date.now();
  const s1 = await Promise.all(hosts.map((h) => h.call<HostStats>('stats', { from: Date.now() })));
  const held = await Promise.all(hosts.map((h) => h.call<{ agentIds: string[] }>('held', {})));
  const farm = (await Promise.all(farms.map((f) => f.call<AgentPolls[]>('polls', { from, to })))).flat();
  const errors = s1.map((s, i) => Object.values(s.pollErrors).reduce((n, v) => n + v, 0) - Object.values(s0[i]!.pollErrors).reduce((n, v) => n + v, 0));
  const perHost = s1.map((s, i) => ((s.polls - s0[i]!.polls) / (s.now - s0[i]!.now)) * 1000);
  const ids = held.flatMap((h) => h.agentIds);
  const heldTwice = ids.length - new Set(ids).size;
  const perAgent = farm.map((a) => a.polls);
  ctx.log(
    `ceiling: ${perHost.map((p) => p.toFixed(0)).join(' + ')} polls/s; held ${held.map((h) => h.agentIds.length).join('/')}; farm per agent ${Math.min(...perAgent)}–${Math.max(...perAgent)}`,
  );
  return {
    pollsPerS: perHost.reduce((a, b) => a + b, 0),
    perHost,
    held: held.map((h) => h.agentIds.length),
    heldDistinct: new Set(ids).size,
    heldTwice,
    unpolled: perAgent.filter((n) => n === 0).length,
    farmPolls: perAgent.reduce((a, b) => a + b, 0),
    maxPerAgent: Math.max(...perAgent),
    errors: errors.reduce((a, b) => a + b, 0),
  };
}

/**
 * PostgreSQL beside SQLite: the writer's ingest rate, the bytes each tier takes per check and
 * day, and the largest farm one collector on each — and three collectors sharing one PostgreSQL —
 * sustain at 30 s. The PostgreSQL server is a production-durable one (fsync and synchronous_commit
 * on), not the test pass's.
 */
export const bench: Benchmark = {
  name: 'postgres',
  description:
    'ResultWriter and collector ceilings on PostgreSQL (fsync on) beside SQLite; bytes per check per day per tier; three collectors on one PostgreSQL',
  async run(ctx) {
    const server = await startPostgres({ durable: true });
    ctx.defer(() => stopPostgres(server.dir));
    const admin = await new DataSource({ type: 'postgres', url: server.url }).initialize();
    const settings = (
      await admin.query<{ name: string; setting: string }[]>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_level') ORDER BY name`,
      )
    )
      .map((r) => `${r.name}=${r.setting}`)
      .join(', ');
    await admin.destroy();
    ctx.log(`PostgreSQL: ${settings}`);
    const pgNote = `PostgreSQL (Debian 15, loopback, ${settings})`;

    // 1. Ingest: the same writer on both, interleaved.
    const lite = (await sqliteDb(ctx, 'ingest')).db;
    const pg = (await postgresDb(ctx, server.url, 'ingest')).db;
    const sides = await Promise.all(
      [lite, pg].map(async (db) => {
        const writer = new ResultWriter(db.ds);
        ctx.defer(() => writer.close());
        return { db, writer, agents: await seedIngestAgents(db.ds), seqs: new Map<string, number>(), groups: [] as number[] };
      }),
    );
    const load = (side: (typeof sides)[number]) => async () => {
      const start = performance.now();
      const { written, transactions } = await writeLoad(side.writer, side.agents, side.seqs);
      side.groups.push(written / transactions);
      return (written / (performance.now() - start)) * 1000;
    };
    const samples = await interleave(PAIRS, WARMUP, load(sides[0]!), load(sides[1]!));
    const rows = AGENTS * BATCHES_PER_AGENT * CHECKS;
    ctx.log(`ingest results/s: SQLite ${median(samples.a).toFixed(0)}, PostgreSQL ${median(samples.b).toFixed(0)}`);
    const figures: Figure[] = [
      compared(
        'postgres',
        'PostgreSQL ingest results/s (ResultWriter)',
        'results/s',
        median(samples.b),
        'the same ResultWriter on SQLite',
        median(samples.a),
        null,
        `${PAIRS} interleaved pairs × ${rows} results (${AGENTS} agents × ${BATCHES_PER_AGENT} ${CHECKS}-result batches); ~${median(sides[1]!.groups).toFixed(0)} results per transaction on PostgreSQL, ~${median(sides[0]!.groups).toFixed(0)} on SQLite (WAL, synchronous=NORMAL); ${pgNote}`,
      ),
    ];

    // 2. Growth on the same databases.
    for (const side of sides) {
      const per = await growth(side.db, side.writer, side.agents, side.seqs);
      ctx.log(`growth on ${side.db.label}: ${(Object.keys(TIERS) as Tier[]).map((t) => `${t} ${per[t].bytesPerRow.toFixed(0)} B/row`).join(', ')}`);
      for (const tier of Object.keys(TIERS) as Tier[]) {
        const { rows: n, bytesPerRow } = per[tier];
        figures.push(
          absolute(
            'postgres',
            `Growth on ${side.db.label}: ${tier === 'raw' ? 'raw results' : `${tier} roll-ups`} per check per day at ${INTERVAL_S} s`,
            'KiB',
            (bytesPerRow * PER_DAY[tier]) / 1024,
            null,
            `${bytesPerRow.toFixed(0)} B per ${tier === 'raw' ? 'result' : 'roll-up row'} (${TIERS[tier].join(' + ')}, indexes included) × ${PER_DAY[tier]} per day; ` +
              `from ${n} rows (${AGENTS * CHECKS} checks × ${GROWTH_BATCHES} results 30 s apart, rolled up); ` +
              (side.db.label === 'SQLite' ? 'SQLite dbstat pages' : `pg_total_relation_size, no VACUUM; ${pgNote}`),
          ),
        );
      }
    }
    for (const side of sides) await side.writer.close();
    await lite.ds.destroy();
    await pg.ds.destroy();

    // 3. Largest farm: scale's ceiling method on each setup, over one farm.
    const { tls, tokens, farms, ports } = await startFarm(ctx, FARM_AGENTS, FARM_PROCESSES);
    const seedFarm = (ds: DataSource) =>
      seedAgents(
        ds,
        ports.map((port, i) => ({ name: `farm-${i}`, host: '127.0.0.1', port, token: tokens[i]!, fingerprint: tls.fingerprint })),
        CHECKS,
        (i, j) => ({ plugin: 'http', config: { url: `http://service-${i}.example/check-${j}` }, intervalMs: INTERVAL_S * 1000 }),
      );
    // PostgreSQL's own count of deadlocks it broke in a database (pg_stat_database), for the notes.
    const deadlocks = async (databaseUrl: string) => {
      const admin = await new DataSource({ type: 'postgres', url: server.url }).initialize();
      const [row] = await admin.query<{ n: string }[]>('SELECT deadlocks AS n FROM pg_stat_database WHERE datname = $1', [
        new URL(databaseUrl).pathname.slice(1),
      ]);
      await admin.destroy();
      return Number(row?.n ?? 0);
    };
    const run = async (label: string, hosts: Worker[], databaseUrl?: string) => {
      const c = await ceiling(ctx, hosts, farms);
      const broken = databaseUrl ? await deadlocks(databaseUrl) : 0;
      for (const h of hosts) await h.call('stop');
      const largest = Math.floor((c.pollsPerS * INTERVAL_S) / 100) * 100;
      figures.push(
        absolute(
          'postgres',
          `Largest farm at ${INTERVAL_S} s: ${label}`,
          'agents',
          largest,
          null,
          `ceiling ${c.pollsPerS.toFixed(0)} polls/s${hosts.length > 1 ? ` (${c.perHost.map((p) => p.toFixed(0)).join(' + ')})` : ''} × ${INTERVAL_S} s; ${FARM_AGENTS} agents × ${CHECKS} checks polled every ${POLL_INTERVAL_MS / 1000} s, ${WINDOW_MS / 1000} s window; ` +
            `agents held per collector ${c.held.join('/')} (${c.heldDistinct} distinct, ${c.heldTwice} held twice); farm: ${c.farmPolls} polls, ${c.unpolled} agents not polled, at most ${c.maxPerAgent} per agent; ${c.errors} poll errors` +
            (databaseUrl ? `; ${broken} deadlocks PostgreSQL broke in that database (pg_stat_database); ${pgNote}` : ''),
        ),
      );
      return c;
    };

    const liteFarm = await sqliteDb(ctx, 'farm');
    await seedFarm(liteFarm.db.ds);
    await liteFarm.db.ds.destroy();
    await run('one collector on SQLite', [await startCollector(ctx, liteFarm.dataDir, POLL_INTERVAL_MS)]);

    const pgFarm = await postgresDb(ctx, server.url, 'farm1');
    await seedFarm(pgFarm.db.ds);
    await pgFarm.db.ds.destroy();
    await run(
      'one collector on PostgreSQL',
      [await startCollector(ctx, pgFarm.env['ROUNDS_DATA_DIR']!, POLL_INTERVAL_MS, { ...pgFarm.env, ...SHARED, ROUNDS_COLLECTOR_NAME: 'bench-1' })],
      pgFarm.env['ROUNDS_DATABASE_URL'],
    );

    const shared = await postgresDb(ctx, server.url, 'farm3');
    await seedFarm(shared.db.ds);
    await shared.db.ds.destroy();
    // Each collector its own data dir, the one database and key file. Started one after another:
    // started at once, two of them race to create the first admin and one fails to start (UsersService.ensureFirstAdmin counts the users, then creates "admin": the second gets "already exists").
    const hosts: Worker[] = [];
    for (let i = 0; i < COLLECTORS; i++) {
      const dataDir = tempDir(`postgres-bench-c${i + 1}`);
      ctx.defer(() => rmSync(dataDir, { recursive: true, force: true }));
      hosts.push(
        await startCollector(ctx, dataDir, POLL_INTERVAL_MS, {
          ...shared.env,
          ...SHARED,
          ROUNDS_DATA_DIR: dataDir,
          ROUNDS_COLLECTOR_NAME: `bench-${i + 1}`,
        }),
      );
    }
    const three = await run(`${COLLECTORS} collectors sharing one PostgreSQL`, hosts, shared.env['ROUNDS_DATABASE_URL']);
    if (three.heldTwice > 0 || three.heldDistinct !== FARM_AGENTS || three.unpolled > 0)
      ctx.log(
        `WARNING: ${three.heldTwice} agents held by two collectors, ${FARM_AGENTS - three.heldDistinct} held by none, ${three.unpolled} not polled in the window`,
      );
    return figures;
  },
};
