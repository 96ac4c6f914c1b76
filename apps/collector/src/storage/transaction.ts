import { AsyncLocalStorage } from 'node:async_hooks';
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

/** Told about every transaction's end, for storage health (see StorageHealth). */
export interface TransactionObserver {
  committed(): void;
  failed(error: unknown): void;
}

const observers = new WeakMap<DataSource, TransactionObserver>();

export function observeTransactions(dataSource: DataSource, observer: TransactionObserver): void {
  observers.set(dataSource, observer);
}

export function isPostgres(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

/**
 * SQL that is true when the text `expression` holds the parameter `:param` exactly as written:
 * LIKE would ignore ASCII case on SQLite and read `%` and `_` in it as wildcards.
 */
export function containsText(dataSource: DataSource, expression: string, param: string): string {
  return isPostgres(dataSource) ? `strpos(${expression}, :${param}) > 0` : `instr(${expression}, :${param}) > 0`;
}

/** Runs `text` with its `?` bound to `params` in order (numbered `$n` on PostgreSQL). */
export function portableQuery<T>(dataSource: DataSource, m: EntityManager, text: string, params: readonly unknown[]): Promise<T[]> {
  let n = 0;
  return m.query<T[]>(isPostgres(dataSource) ? text.replace(/\?/g, () => `$${++n}`) : text, [...params]);
}

/** The transaction {@link oneTransaction} opened, while its work runs; `open` is false once it ended. */
interface AmbientTransaction {
  dataSource: DataSource;
  manager: EntityManager;
  open: boolean;
}

const ambient = new AsyncLocalStorage<AmbientTransaction>();

/**
 * Runs `work` in ONE transaction that every {@link inTransaction} called from within it (on the
 * same DataSource) joins instead of opening its own: a change made of many service calls — a
 * config document applied — commits whole or not at all, through the same services, validation
 * and audit rows as one call. Work started from within that outlives it (a timer, a kick) gets
 * transactions of its own again. Reads outside the repositories' managers see the uncommitted
 * rows on SQLite (one connection), not on PostgreSQL.
 */
export function oneTransaction<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  return inTransaction(dataSource, async (manager) => {
    const scope: AmbientTransaction = { dataSource, manager, open: true };
    try {
      return await ambient.run(scope, work);
    } finally {
      scope.open = false;
    }
  });
}

/**
 * Where a read that must see the writes of an open {@link oneTransaction} goes: its manager
 * while it is open (PostgreSQL would otherwise read from another pooled connection, without
 * them), the DataSource's own otherwise.
 */
export function readerOf(dataSource: DataSource): EntityManager {
  const joined = ambient.getStore();
  return joined?.open && joined.dataSource === dataSource ? joined.manager : dataSource.manager;
}

export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const joined = ambient.getStore();
  // Queued behind the open transaction, this would wait for it forever: it joins it instead.
  if (joined?.open && joined.dataSource === dataSource) return work(joined.manager);
  const run = isPostgres(dataSource) ? dataSource.transaction(work) : queued(dataSource, () => sqliteTransaction(dataSource, work));
  const observer = observers.get(dataSource);
  if (observer)
    run.then(
      () => observer.committed(),
      (error: unknown) => observer.failed(error),
    );
  return run;
}

/**
 * Runs `work` alone on the SQLite connection, after every transaction queued before it and
 * before any queued after it — for statements that must not land inside someone else's
 * transaction (e.g. a WAL checkpoint).
 */
export function serialised<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  return isPostgres(dataSource) ? work() : queued(dataSource, work);
}

function queued<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(work, work);
  // The queue must continue after a failed transaction; the caller still sees the failure.
  queues.set(
    dataSource,
    run.catch(() => undefined),
  );
  return run;
}

interface NativeSqlite {
  readonly inTransaction: boolean;
  exec(sql: string): unknown;
}

/** TypeORM's query runner state that a failed COMMIT or ROLLBACK leaves behind (protected in its typings). */
interface RunnerCounters {
  isTransactionActive: boolean;
  transactionDepth: number;
}

export class RollbackFailedError extends Error {
  constructor(cause: unknown) {
    super(
      `the SQLite transaction could not be rolled back (${(cause as Error).message ?? String(cause)}); ` +
        'nothing after it is acknowledged — restart the collector once the disk is writable again',
      { cause },
    );
    this.name = 'RollbackFailedError';
  }
}

/**
 * A TypeORM transaction that always ends as one: committed, or rolled back completely.
 *
 * When SQLite refuses a COMMIT (disk full, I/O error, read-only file), TypeORM keeps its
 * query runner marked "inside a transaction" and, if SQLite had already rolled back on its
 * own, its ROLLBACK fails as well. Every later transaction then opened a SAVEPOINT inside
 * that never-committed transaction: the connection saw its own writes — so the poller read
 * back and acknowledged acks that were not durable — while nothing reached the file.
 * After a failure this rolls back on the native connection and resets the runner.
 */
async function sqliteTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const native = (dataSource.driver as unknown as { databaseConnection?: NativeSqlite }).databaseConnection;
  if (!native) return dataSource.transaction(work);
  // Defensive: a transaction left open by anything that bypassed the queue is not ours to extend.
  if (native.inTransaction || (dataSource.createQueryRunner() as unknown as RunnerCounters).isTransactionActive) settle(dataSource, native);
  try {
    return await dataSource.transaction(work);
  } catch (error) {
    settle(dataSource, native);
    throw error;
  }
}

function settle(dataSource: DataSource, native: NativeSqlite): void {
  const runner = dataSource.createQueryRunner() as unknown as RunnerCounters;
  runner.isTransactionActive = false;
  runner.transactionDepth = 0;
  if (!native.inTransaction) return;
  try {
    native.exec('ROLLBACK');
  } catch (e) {
    if (native.inTransaction) throw new RollbackFailedError(e);
  }
}

/**
 * Row lock for read-modify-write inside {@link inTransaction}. SQLite needs none (the
 * queue above serialises writers) and TypeORM rejects lock modes there.
 */
export function forUpdate<T extends ObjectLiteral>(dataSource: DataSource, query: SelectQueryBuilder<T>): SelectQueryBuilder<T> {
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
