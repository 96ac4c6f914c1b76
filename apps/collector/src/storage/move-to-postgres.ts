import { DataSource } from 'typeorm';
import { bulkSql } from './bulk-sql.js';
import { postgresTarget } from './data-source.js';
import { inTransaction } from './transaction.js';

/** Rows read from SQLite and written to PostgreSQL per transaction: progress is reported per batch. */
const MOVE_BATCH_ROWS = 5000;

export interface MovedTable {
  table: string;
  source: number;
  target: number;
}

/**
 * Refuses a PostgreSQL database that holds any table: the move writes the whole schema and every
 * row, and would otherwise mix two collectors' data (or fail half-way on a key).
 */
export async function requireEmptyPostgres(url: string): Promise<void> {
  const probe = await new DataSource({ type: 'postgres', url }).initialize();
  try {
    const tables = await probe.query<{ name: string }[]>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name LIMIT 1',
    );
    if (tables[0]) {
      throw new Error(
        `the PostgreSQL database at ${postgresTarget(url)} is not empty (it has table ${tables[0].name}): migrate copies into an empty database only — ` +
          'create one (e.g. `createdb -O rounds rounds_new`) and name it in --to. Nothing was copied',
      );
    }
  } finally {
    await probe.destroy();
  }
}

/**
 * Copies every table of a migrated SQLite database into a migrated, empty PostgreSQL database:
 * parents before children (foreign keys hold at every commit), in batches by rowid, values as
 * stored — sealed secrets stay sealed under the same key, the audit log keeps its hash chain.
 * Then the id sequences continue after the copied ids, and each table's rows are counted on both
 * sides. `progress` hears a line per batch.
 */
export async function moveToPostgres(source: DataSource, target: DataSource, progress: (line: string) => void): Promise<MovedTable[]> {
  const tables = await tablesParentsFirst(source);
  const bulk = bulkSql(target);
  for (const table of tables) {
    const columns = (await source.query<{ name: string }[]>(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`)).map((c) => c.name);
    const total = await count(source, table);
    // Rows a migration seeded (rollup_progress) are replaced by the source's.
    await target.query(`DELETE FROM ${table}`);
    let after = 0;
    let copied = 0;
    for (;;) {
      const rows = await source.query<Record<string, unknown>[]>(
        `SELECT rowid AS move_rowid, ${columns.map((c) => `"${c}"`).join(', ')} FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ${MOVE_BATCH_ROWS}`,
        [after],
      );
      if (rows.length === 0) break;
      after = Number(rows[rows.length - 1]!['move_rowid']);
      await inTransaction(target, (m) =>
        bulk.insert(
          m,
          table,
          columns.map((c) => `"${c}"`),
          rows.map((r) => columns.map((c) => r[c])),
        ),
      );
      copied += rows.length;
      progress(`${table}: ${copied}/${total} rows`);
    }
  }
  // SQLite's ids came along as values; PostgreSQL's sequences would hand them out again.
  const serials = await target.query<{ table: string; column: string; sequence: string }[]>(
    `SELECT table_name AS "table", column_name AS "column", pg_get_serial_sequence(table_name, column_name) AS "sequence"
       FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`,
  );
  for (const { table, column, sequence } of serials) {
    await target.query(`SELECT setval($1, (SELECT COALESCE(max(${column}), 0) + 1 FROM ${table}), false)`, [sequence]);
  }
  const moved: MovedTable[] = [];
  for (const table of tables) moved.push({ table, source: await count(source, table), target: await count(target, table) });
  return moved;
}

async function count(dataSource: DataSource, table: string): Promise<number> {
  return Number((await dataSource.query<{ n: number | string }[]>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
}

/** The SQLite database's tables (not the migrations' bookkeeping, which the target has of its own), each after those it references. */
async function tablesParentsFirst(source: DataSource): Promise<string[]> {
  const names = (
    await source.query<{ name: string }[]>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'migrations' ORDER BY name",
    )
  ).map((t) => t.name);
  const parents = new Map<string, string[]>();
  for (const name of names) {
    const keys = await source.query<{ table: string }[]>(`SELECT "table" FROM pragma_foreign_key_list('${name}')`);
    parents.set(
      name,
      keys.map((k) => k.table).filter((t) => t !== name),
    );
  }
  const ordered: string[] = [];
  const visit = (name: string) => {
    if (ordered.includes(name)) return;
    for (const parent of parents.get(name) ?? []) visit(parent);
    ordered.push(name);
  };
  for (const name of names) visit(name);
  return ordered;
}
