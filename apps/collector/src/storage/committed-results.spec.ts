import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommittedResults, type CommittedResult } from './committed-results.js';

const results = (from: number, to: number): CommittedResult[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, checkId: 'c', agentId: 'a', startedAt: 0, status: 0, durationMs: 1, metrics: [] }));
const ids = (r: CommittedResult[] | null) => r?.map((x) => x.id) ?? null;

describe('CommittedResults: the writer’s hand-over to the roll-ups', () => {
  it('hands over exactly the ids asked for when it holds them all, and forgets them', () => {
    const c = new CommittedResults();
    c.committed(results(1, 5));
    c.committed(results(6, 8));
    assert.deepEqual(ids(c.take(2, 6)), [3, 4, 5, 6]);
    assert.equal(c.take(6, 8)?.length, 2);
    assert.equal(c.take(8, 9), null, 'id 9 was never handed over: read the table');
  });

  it('answers null when the first asked-for id is gone (a restart, a cleared run), so the roll-up reads the table', () => {
    const c = new CommittedResults();
    c.committed(results(10, 20));
    assert.equal(c.take(5, 15), null);
    assert.equal(c.take(15, 20)?.length, 5, 'what is left stays usable');
  });

  it('starts a new run after a gap in the ids, and forgets everything when results are deleted', () => {
    const c = new CommittedResults();
    c.committed(results(1, 5));
    c.committed(results(3, 4)); // ids given again after their rows were deleted
    assert.deepEqual(ids(c.take(2, 4)), [3, 4], 'the new run only: 1–5 went with the gap');
    c.committed(results(5, 5));
    assert.equal(c.take(0, 5), null);
    c.committed(results(5, 6));
    c.clear();
    assert.equal(c.take(4, 6), null);
  });
});
