import type { CollectorConfig } from '../config/env.js';
import { createDataSource, postgresTarget } from '../storage/data-source.js';
import { moveToPostgres, requireEmptyPostgres } from '../storage/move-to-postgres.js';
import { secretKeySourceOf } from '../storage/secret-key.store.js';
import { requireDatabase, type AdminArgs } from './local.js';
import { runningCollector } from './pid-file.js';
import { table } from './table.js';

const USAGE = 'usage: rounds-collector migrate --to postgres://USER:PASSWORD@HOST:5432/DATABASE   (the collector stopped; the database empty)';

/**
 * `migrate --to <url>`: moves a SQLite collector's data into an empty PostgreSQL database, with the
 * collector stopped. The SQLite files are left as they were: going back is starting without
 * ROUNDS_DATABASE_URL.
 */
export async function migrateCommand(config: CollectorConfig, { values }: AdminArgs, print: (s: string) => void): Promise<number> {
  const to = values['to'];
  if (typeof to !== 'string' || !/^postgres(ql)?:\/\/[^/]+\/[^/]+/.test(to)) throw new Error(USAGE);
  if (config.databaseUrl) throw new Error('ROUNDS_DATABASE_URL is set: migrate moves the SQLite database in ROUNDS_DATA_DIR, so unset it for this command');
  requireDatabase(config);
  const pid = runningCollector(config.dataDir);
  if (pid !== null) throw new Error(`a collector (pid ${pid}) is serving from ${config.dataDir}: stop it first, then migrate — nothing was copied`);
  await requireEmptyPostgres(to);

  // The same key on both sides: sealed values are copied as they are.
  const secretKey = secretKeySourceOf(config);
  const source = await createDataSource({ dataDir: config.dataDir, secretKey }).initialize();
  try {
    const target = await createDataSource({ postgresUrl: to, secretKey }).initialize();
    try {
      const moved = await moveToPostgres(source, target, (line) => process.stderr.write(`copying ${line}\n`));
      for (const line of table([['TABLE', 'SQLITE', 'POSTGRESQL'], ...moved.map((t) => [t.table, String(t.source), String(t.target)])])) print(line);
      const short = moved.filter((t) => t.source !== t.target);
      if (short.length > 0) {
        throw new Error(
          `row counts differ in ${short.map((t) => `${t.table} (${t.source} → ${t.target})`).join(', ')}: do not start on this copy; drop the database, create it empty and migrate again`,
        );
      }
    } finally {
      await target.destroy();
    }
  } finally {
    await source.destroy();
  }
  print(`copied into ${postgresTarget(to)}: every table's rows counted on both sides`);
  print(
    "start the collector on it with ROUNDS_DATABASE_URL set to that URL and the same secret key (ROUNDS_SECRET_KEY_FILE naming this data folder's secret.key, or ROUNDS_SECRET_KEY)",
  );
  return 0;
}
