import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PerSecondCache } from './per-second-cache.js';

describe('PerSecondCache', () => {
  it('reads once for a model version within a second, and again after a change or a second', async () => {
    const cache = new PerSecondCache<number>();
    let reads = 0;
    const read = () => Promise.resolve(++reads);
    assert.equal(await cache.get('a', 1, 1_000, read), 1);
    assert.equal(await cache.get('a', 1, 1_999, read), 1, 'same version, same second: shared');
    assert.equal(await cache.get('b', 1, 1_999, read), 2, 'another key reads');
    assert.equal(await cache.get('a', 2, 1_999, read), 3, 'the model changed');
    assert.equal(await cache.get('a', 2, 2_000, read), 4, 'a second passed');
  });

  it('does not keep a failed read', async () => {
    const cache = new PerSecondCache<number>();
    await assert.rejects(
      cache.get('a', 1, 0, () => Promise.reject(new Error('database busy'))),
      /database busy/,
    );
    assert.equal(await cache.get('a', 1, 0, () => Promise.resolve(7)), 7);
  });

  it('keeps at most its number of entries', async () => {
    const cache = new PerSecondCache<number>(2);
    let reads = 0;
    const read = () => Promise.resolve(++reads);
    await cache.get('a', 1, 0, read);
    await cache.get('b', 1, 0, read);
    await cache.get('c', 1, 0, read);
    assert.equal(await cache.get('a', 1, 0, read), 4, 'the full cache was emptied');
  });
});
