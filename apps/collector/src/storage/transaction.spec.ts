import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { NotificationChannelEntity } from './entities/index.js';
import { inTransaction, oneTransaction, readerOf } from './transaction.js';
import { openTestDatabase } from './testing.js';

describe('oneTransaction', () => {
  let db: { dataSource: DataSource; close(): Promise<void> };
  const channel = (name: string) => ({
    id: `id-${name}`,
    name,
    type: 'webhook' as const,
    configJson: '{}',
    enabled: true,
    lastError: null,
    lastSuccessAt: null,
    failingSince: null,
    createdAt: 0,
    updatedAt: 0,
  });
  const names = async () => (await db.dataSource.getRepository(NotificationChannelEntity).find({ order: { name: 'ASC' } })).map((c) => c.name);

  before(async () => {
    db = await openTestDatabase();
  });
  after(() => db.close());

  it('lets every inTransaction within it join it: all of it commits, or — when one part throws — none of it', async () => {
    await oneTransaction(db.dataSource, async () => {
      await inTransaction(db.dataSource, (m) => m.insert(NotificationChannelEntity, channel('a')));
      await inTransaction(db.dataSource, (m) => m.insert(NotificationChannelEntity, channel('b')));
    });
    assert.deepEqual(await names(), ['a', 'b']);
    await assert.rejects(
      oneTransaction(db.dataSource, async () => {
        await inTransaction(db.dataSource, (m) => m.insert(NotificationChannelEntity, channel('c')));
        // A nested call would otherwise queue behind the open transaction and never run.
        assert.deepEqual((await readerOf(db.dataSource).find(NotificationChannelEntity)).length, 3, 'the transaction reads its own rows');
        await inTransaction(db.dataSource, () => Promise.reject(new Error('the third part is refused')));
      }),
      /the third part is refused/,
    );
    assert.deepEqual(await names(), ['a', 'b'], 'the first part of the failed transaction was kept');
  });

  it('gives work started inside it that outlives it a transaction of its own', async () => {
    let late: Promise<unknown> | undefined;
    await oneTransaction(db.dataSource, async () => {
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
        inTransaction(db.dataSource, (m) => m.insert(NotificationChannelEntity, channel('late'))),
      );
    });
    await late;
    assert.deepEqual(await names(), ['a', 'b', 'late']);
    assert.equal(readerOf(db.dataSource), db.dataSource.manager);
  });
});
