import type { DataSource, EntityManager, SelectQueryBuilder, ObjectLiteral } from 'typeorm';

/**
 * TypeORM's SQLite drivers share ONE connection between all query runners, so two
 * overlapping `dataSource.transaction()` calls either fail ("cannot start a transaction
 * within a transaction") or silently mix their statements. Every write in the
 * repositories therefore goes through this queue, one transaction at a time per
 * DataSource. PostgreSQL has a pool and real isolation, so it runs them concurrently.
 *
 * Reads are not queued: on SQLite a read issued while a transaction is open shares its
 * connection and sees its uncommitted rows. Acks must therefore come from a resolved
 * ResultWriter.write(), never from reading agents.ack_seq while writes are in flight.
 */
const queues = new WeakMap<DataSource, Promise<unknown>>();

export function isPostgres(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (isPostgres(dataSource)) return dataSource.transaction(work);
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(
    () => dataSource.transaction(work),
    () => dataSource.transaction(work),
  );
  // The queue must continue after a failed transaction; the caller still sees the failure.
  queues.set(
    dataSource,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * Row lock for read-modify-write inside {@link inTransaction}. SQLite needs none (the
 * queue above serialises writers) and TypeORM rejects lock modes there.
 */
export function forUpdate<T extends ObjectLiteral>(
  dataSource: DataSource,
  query: SelectQueryBuilder<T>,
): SelectQueryBuilder<T> {
  return isPostgres(dataSource) ? query.setLock('pessimistic_write') : query;
}

/** Splits `items` so that a statement binding `paramsPerItem` values each stays under `maxParams`. */
export function chunk<T>(items: readonly T[], paramsPerItem: number, maxParams = MAX_BOUND_PARAMETERS): T[][] {
  const size = Math.max(1, Math.floor(maxParams / paramsPerItem));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * SQLite builds before 3.32 allow only 999 bound parameters per statement (PostgreSQL
 * 65535); staying under the lowest limit keeps every statement valid on any build.
 */
export const MAX_BOUND_PARAMETERS = 999;
