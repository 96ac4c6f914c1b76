import type { DataSource } from 'typeorm';
import { isPostgres } from './transaction.js';

/**
 * Multi-row INSERT text for `rows` rows of `columns`, with the placeholders of the
 * DataSource's dialect (`?` for SQLite, `$n` for PostgreSQL). The hot write path uses
 * these instead of TypeORM's query builder: building the statement there cost more
 * CPU than SQLite spent executing it (bench: ingest). Texts are cached per shape.
 */
const cache = new Map<string, string>();

export function bulkInsertSql(dataSource: DataSource, table: string, columns: readonly string[], rows: number, suffix = ''): string {
  const pg = isPostgres(dataSource);
  const key = `${pg ? 'pg' : 'lite'}|${table}|${columns.join(',')}|${rows}|${suffix}`;
  let sql = cache.get(key);
  if (sql === undefined) {
    let n = 0;
    const tuple = () => `(${columns.map(() => (pg ? `$${++n}` : '?')).join(',')})`;
    const values = Array.from({ length: rows }, tuple).join(',');
    sql = `INSERT INTO ${table} (${columns.join(',')}) VALUES ${values}${suffix ? ` ${suffix}` : ''}`;
    cache.set(key, sql);
  }
  return sql;
}

/** `ON CONFLICT (key) DO UPDATE SET c = excluded.c, …` — the same text works on SQLite ≥ 3.24 and PostgreSQL. */
export function upsertSuffix(conflictColumn: string, overwrite: readonly string[]): string {
  return `ON CONFLICT (${conflictColumn}) DO UPDATE SET ${overwrite.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}

/** `SELECT <columns> FROM <table> WHERE <key> IN (…n placeholders)`, cached per shape, with an optional lock clause. */
export function selectInSql(dataSource: DataSource, table: string, columns: readonly string[], key: string, n: number, lock = ''): string {
  const pg = isPostgres(dataSource);
  const cacheKey = `sel|${pg ? 'pg' : 'lite'}|${table}|${columns.join(',')}|${key}|${n}|${lock}`;
  let sql = cache.get(cacheKey);
  if (sql === undefined) {
    const marks = Array.from({ length: n }, (_, i) => (pg ? `$${i + 1}` : '?')).join(',');
    sql = `SELECT ${columns.join(',')} FROM ${table} WHERE ${key} IN (${marks})${pg && lock ? ` ${lock}` : ''}`;
    cache.set(cacheKey, sql);
  }
  return sql;
}

/** bigint columns come back as strings from pg and numbers from SQLite. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}
