import type { DataSource, EntityManager } from 'typeorm';
import { chunk, isPostgres } from './transaction.js';

/**
 * The result writer's hot statements, per dialect. TypeORM's query builder costs more CPU
 * than SQLite spends executing the rows (bench: ingest), and a multi-row INSERT whose text
 * changes with the batch size is prepared again on every new size. So:
 *
 * - SQLite: each statement text is prepared once on the native better-sqlite3 connection
 *   and run per row. TypeORM's SQLite drivers share that one connection between all query
 *   runners and `inTransaction` serialises writers, so these run inside the caller's open
 *   transaction — the manager is only there for PostgreSQL.
 * - PostgreSQL: one multi-row statement per chunk of rows, and `= ANY($1)` for lookups, so
 *   each round trip carries as much as it can.
 */
export interface BulkSql {
  /** INSERT of `rows` (one array of values per row, in `columns` order), with an optional `ON CONFLICT …` suffix. */
  insert(m: EntityManager, table: string, columns: readonly string[], rows: readonly unknown[][], suffix?: string): Promise<void>;
  /** `SELECT columns FROM table WHERE key IN (ids)`; `lock` (e.g. `FOR UPDATE`) applies on PostgreSQL only. */
  selectIn<T>(m: EntityManager, table: string, columns: readonly string[], key: string, ids: readonly string[], lock?: string): Promise<T[]>;
  /** A hot read, `?` bound to `params` in order: prepared once on SQLite (TypeORM's query path costs more than the read). */
  all<T>(m: EntityManager, text: string, params: readonly unknown[]): Promise<T[]>;
  /** `UPDATE table SET a = ?, b = ? WHERE key = ?` once per row: `[a, b, key]`. */
  updateEach(m: EntityManager, table: string, set: readonly string[], key: string, rows: readonly unknown[][]): Promise<void>;
}

interface NativeStatement {
  run(params: readonly unknown[]): unknown;
  all(params: readonly unknown[]): unknown[];
}

interface NativeConnection {
  prepare(sql: string): NativeStatement;
  exec(sql: string): unknown;
}

function nativeConnection(dataSource: DataSource): NativeConnection {
  const connection = (dataSource.driver as unknown as { databaseConnection?: NativeConnection }).databaseConnection;
  if (!connection) throw new Error('the SQLite DataSource is not initialised (no native connection); initialize() it before writing');
  return connection;
}

/**
 * Runs `sql` on the SQLite connection to its end. A prepared statement's run() steps once, which
 * is all most statements need — but `PRAGMA incremental_vacuum(N)` frees one page per step, so
 * through TypeORM's query() it gave back one page however many were free.
 */
export function sqliteExec(dataSource: DataSource, sql: string): void {
  nativeConnection(dataSource).exec(sql);
}

const instances = new WeakMap<DataSource, BulkSql>();

export function bulkSql(dataSource: DataSource): BulkSql {
  let bulk = instances.get(dataSource);
  if (!bulk) {
    bulk = isPostgres(dataSource) ? new PostgresBulk() : new SqliteBulk(dataSource);
    instances.set(dataSource, bulk);
  }
  return bulk;
}

/** `ON CONFLICT (key) DO UPDATE SET c = excluded.c, …` — the same text works on SQLite ≥ 3.24 and PostgreSQL. */
export function upsertSuffix(conflictColumn: string, overwrite: readonly string[]): string {
  return `ON CONFLICT (${conflictColumn}) DO UPDATE SET ${overwrite.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}

/** bigint columns come back as strings from pg and numbers from SQLite. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

class SqliteBulk implements BulkSql {
  /** Keyed by the native connection: a DataSource re-initialised after destroy() has a new one. */
  private readonly statements = new WeakMap<NativeConnection, Map<string, NativeStatement>>();

  constructor(private readonly dataSource: DataSource) {}

  insert(_m: EntityManager, table: string, columns: readonly string[], rows: readonly unknown[][], suffix = ''): Promise<void> {
    const sql = `INSERT INTO ${table} (${columns.join(',')}) VALUES (${columns.map(() => '?').join(',')})${suffix ? ` ${suffix}` : ''}`;
    const statement = this.statement(sql);
    for (const row of rows) statement.run(row);
    return Promise.resolve();
  }

  selectIn<T>(_m: EntityManager, table: string, columns: readonly string[], key: string, ids: readonly string[]): Promise<T[]> {
    if (ids.length === 0) return Promise.resolve([]);
    // One statement text for any number of ids: the list travels as one JSON parameter.
    const statement = this.statement(`SELECT ${columns.join(',')} FROM ${table} WHERE ${key} IN (SELECT value FROM json_each(?))`);
    return Promise.resolve(statement.all([JSON.stringify(ids)]) as T[]);
  }

  all<T>(_m: EntityManager, text: string, params: readonly unknown[]): Promise<T[]> {
    return Promise.resolve(this.statement(text).all(params) as T[]);
  }

  updateEach(_m: EntityManager, table: string, set: readonly string[], key: string, rows: readonly unknown[][]): Promise<void> {
    const statement = this.statement(`UPDATE ${table} SET ${set.map((c) => `${c} = ?`).join(', ')} WHERE ${key} = ?`);
    for (const row of rows) statement.run(row);
    return Promise.resolve();
  }

  private statement(sql: string): NativeStatement {
    const connection = nativeConnection(this.dataSource);
    let cache = this.statements.get(connection);
    if (!cache) {
      cache = new Map();
      this.statements.set(connection, cache);
    }
    let statement = cache.get(sql);
    if (!statement) {
      statement = connection.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }
}

class PostgresBulk implements BulkSql {
  async insert(m: EntityManager, table: string, columns: readonly string[], rows: readonly unknown[][], suffix = ''): Promise<void> {
    for (const part of chunk(rows, columns.length)) {
      let n = 0;
      const tuples = part.map(() => `(${columns.map(() => `$${++n}`).join(',')})`).join(',');
      await m.query(`INSERT INTO ${table} (${columns.join(',')}) VALUES ${tuples}${suffix ? ` ${suffix}` : ''}`, part.flat());
    }
  }

  async selectIn<T>(m: EntityManager, table: string, columns: readonly string[], key: string, ids: readonly string[], lock = ''): Promise<T[]> {
    if (ids.length === 0) return [];
    return await m.query<T[]>(`SELECT ${columns.join(',')} FROM ${table} WHERE ${key} = ANY($1)${lock ? ` ${lock}` : ''}`, [ids]);
  }

  all<T>(m: EntityManager, text: string, params: readonly unknown[]): Promise<T[]> {
    let n = 0;
    return m.query<T[]>(
      text.replace(/\?/g, () => `$${++n}`),
      [...params],
    );
  }

  async updateEach(m: EntityManager, table: string, set: readonly string[], key: string, rows: readonly unknown[][]): Promise<void> {
    const sql = `UPDATE ${table} SET ${set.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE ${key} = $${set.length + 1}`;
    for (const row of rows) await m.query(sql, row);
  }
}
