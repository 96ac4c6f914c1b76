import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from './data-source.js';
import { isPostgres, observeTransactions, serialised, type TransactionObserver } from './transaction.js';

interface NativeCheckpoint {
  pragma(source: string): unknown;
}

/** The database's health as the collector sees it: answers, space, and every transaction's outcome. */
@Injectable()
export class HealthRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Resolves when the database answers a trivial query. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /** Where the data lives, as a person names it in a message. */
  get location(): string {
    return isPostgres(this.dataSource) ? 'the PostgreSQL database (ROUNDS_DATABASE_URL)' : `${this.sqliteDir()} (ROUNDS_DATA_DIR)`;
  }

  /** Bytes free for the collector on the SQLite file's file system; undefined on PostgreSQL. */
  async freeBytes(): Promise<number | undefined> {
    if (isPostgres(this.dataSource)) return undefined;
    const fs = await statfs(this.sqliteDir());
    return fs.bavail * fs.bsize;
  }

  /**
   * Moves the WAL into the database file (PASSIVE: never waits for readers). SQLite's own
   * checkpoints after a commit fail silently — on a full disk the WAL would grow unseen;
   * this one reports its failure. Queued like a transaction so it never runs inside one.
   */
  async checkpoint(): Promise<void> {
    if (isPostgres(this.dataSource)) return;
    await serialised(this.dataSource, () => {
      const native = (this.dataSource.driver as unknown as { databaseConnection?: NativeCheckpoint }).databaseConnection;
      native?.pragma('wal_checkpoint(PASSIVE)');
      return Promise.resolve();
    });
  }

  /** `observer` hears of every transaction that commits or fails (one observer per database). */
  observeTransactions(observer: TransactionObserver): void {
    observeTransactions(this.dataSource, observer);
  }

  private sqliteDir(): string {
    return dirname(String(this.dataSource.options.database));
  }
}
