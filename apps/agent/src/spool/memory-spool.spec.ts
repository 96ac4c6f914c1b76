import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resultWireBytes } from '#rounds/common';
import { CheckResult } from '#rounds/common/wire';
import { MemorySpool } from './memory-spool.js';
import { ROOMY_LIMITS, seqs, spoolResult } from './testing.js';

const roomy = ROOMY_LIMITS;
const result = (checkId: string, startedAtMs = 1000, summary = 'ok') => spoolResult(checkId, { startedAtMs, summary });

describe('MemorySpool', () => {
  it('assigns strictly increasing sequence numbers starting at 1', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    const assigned = Array.from({ length: 50 }, (_, i) => spool.append(result(`c${i % 3}`)).seq);
    assert.deepEqual(
      assigned,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal(spool.lastSeq, 50);
  });

  it('keeps the result it was given, adding only the seq', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    const stored = spool.append(result('pacs-echo', 900, 'C-ECHO answered in 12 ms'));
    assert.deepEqual(spool.read(0, 10).results, [{ ...result('pacs-echo', 900, 'C-ECHO answered in 12 ms'), seq: 1 }]);
    assert.equal(stored.seq, 1);
  });

  it('reads no more results than fit the byte budget in wire bytes, but always at least one, and says more remain', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    for (let i = 0; i < 10; i++) spool.append(result(`c${i}`, 1000, 'x'.repeat(1000)));
    const one = resultWireBytes(spool.read(0, 1).results[0]!);

    const page = spool.read(0, 10, one * 3 + one / 2);
    assert.deepEqual(seqs(page.results), [1, 2, 3]);
    assert.equal(page.more, true);
    assert.ok(page.results.reduce((n, r) => n + CheckResult.encode(r).finish().length, 0) <= one * 3.5);

    const tooSmall = spool.read(3, 10, 10);
    assert.deepEqual(seqs(tooSmall.results), [4]);
    assert.equal(tooSmall.more, true);
    assert.deepEqual(seqs(spool.read(8, 10, one * 100).results), [9, 10]);
    assert.equal(spool.read(8, 10, one * 100).more, false);
  });

  it('reads up to max results after the cursor, oldest first, and says whether more remain', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    for (let i = 0; i < 10; i++) spool.append(result(`c${i}`));

    const first = spool.read(0, 4);
    assert.deepEqual(seqs(first.results), [1, 2, 3, 4]);
    assert.equal(first.more, true);

    const next = spool.read(4, 4);
    assert.deepEqual(seqs(next.results), [5, 6, 7, 8]);
    assert.equal(next.more, true);

    const last = spool.read(8, 4);
    assert.deepEqual(seqs(last.results), [9, 10]);
    assert.equal(last.more, false);

    assert.deepEqual(spool.read(10, 4), { results: [], more: false });
  });

  it('reading does not consume: the same cursor reads the same results until they are acknowledged', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    for (let i = 0; i < 3; i++) spool.append(result(`c${i}`));
    assert.deepEqual(seqs(spool.read(0, 10).results), [1, 2, 3]);
    assert.deepEqual(seqs(spool.read(0, 10).results), [1, 2, 3]);
    assert.equal(spool.depth, 3);
  });

  it('reads nothing, and reports more, when asked for at most 0 results', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    spool.append(result('c'));
    assert.deepEqual(spool.read(0, 0), { results: [], more: true });
  });

  it('ack forgets everything up to and including the acknowledged seq', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    for (let i = 0; i < 5; i++) spool.append(result(`c${i}`));
    const bytesBefore = spool.bytes;

    spool.ack(3);

    assert.equal(spool.depth, 2);
    assert.deepEqual(seqs(spool.read(0, 10).results), [4, 5]);
    assert.ok(spool.bytes < bytesBefore && spool.bytes > 0, `bytes ${bytesBefore} → ${spool.bytes}`);
    assert.equal(spool.dropped, 0, 'acknowledged results are not dropped ones');
  });

  it('ack of an old or future seq is harmless, and acking everything empties the spool', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    for (let i = 0; i < 5; i++) spool.append(result(`c${i}`));
    spool.ack(2);
    spool.ack(1);
    assert.deepEqual(seqs(spool.read(0, 10).results), [3, 4, 5]);

    spool.ack(99);
    assert.equal(spool.depth, 0);
    assert.equal(spool.bytes, 0);
    assert.equal(spool.append(result('after')).seq, 6, 'seq keeps counting after an ack');
  });

  it('evicts the oldest results beyond maxResults and counts them as dropped', () => {
    const spool = new MemorySpool({ ...roomy, maxResults: 3 }, () => 1000);
    for (let i = 0; i < 7; i++) spool.append(result(`c${i}`));
    assert.equal(spool.depth, 3);
    assert.equal(spool.dropped, 4);
    assert.deepEqual(seqs(spool.read(0, 10).results), [5, 6, 7]);
  });

  it('evicts the oldest results beyond maxBytes and counts them as dropped', () => {
    const probe = new MemorySpool(roomy, () => 1000);
    probe.append(result('c', 1000, 'x'.repeat(100)));
    const oneResult = probe.bytes;

    const spool = new MemorySpool({ ...roomy, maxBytes: oneResult * 2 + oneResult / 2 }, () => 1000);
    for (let i = 0; i < 5; i++) spool.append(result('c', 1000, 'x'.repeat(100)));

    assert.equal(spool.depth, 2);
    assert.equal(spool.dropped, 3);
    assert.ok(spool.bytes <= oneResult * 2.5);
    assert.deepEqual(seqs(spool.read(0, 10).results), [4, 5]);
  });

  it('evicts results older than maxAge when the next one arrives and counts them as dropped', () => {
    let now = 10_000;
    const spool = new MemorySpool({ ...roomy, maxAgeMs: 5000 }, () => now);
    spool.append(result('started-at-6000', 6000));
    spool.append(result('started-at-8000', 8000));
    assert.equal(spool.dropped, 0);

    now = 12_500;
    spool.append(result('fresh', 12_000));

    assert.equal(spool.dropped, 1);
    assert.deepEqual(
      spool.read(0, 10).results.map((r) => r.checkId),
      ['started-at-8000', 'fresh'],
    );
  });

  it('a cursor pointing at evicted results reads from the oldest one still kept', () => {
    const spool = new MemorySpool({ ...roomy, maxResults: 100 }, () => 1000);
    for (let i = 0; i < 250; i++) spool.append(result(`c${i}`));
    const page = spool.read(10, 5);
    assert.deepEqual(seqs(page.results), [151, 152, 153, 154, 155]);
    assert.equal(page.more, true);
  });

  it('reads stay correct after many acknowledgements compact the queue', () => {
    const spool = new MemorySpool(roomy, () => 1000);
    for (let i = 1; i <= 5000; i++) spool.append(result(`c${i}`));

    for (let acked = 100; acked <= 4000; acked += 100) spool.ack(acked);

    assert.equal(spool.depth, 1000);
    const page = spool.read(4000, 3);
    assert.deepEqual(seqs(page.results), [4001, 4002, 4003]);
    assert.equal(page.results[0]!.checkId, 'c4001');
    assert.equal(page.more, true);
    assert.deepEqual(seqs(spool.read(0, 2).results), [4001, 4002]);
    const tail = spool.read(4998, 10);
    assert.deepEqual(seqs(tail.results), [4999, 5000]);
    assert.equal(tail.more, false);

    spool.append(result('after-compaction'));
    assert.deepEqual(seqs(spool.read(5000, 10).results), [5001]);
    spool.ack(5001);
    assert.equal(spool.depth, 0);
    assert.equal(spool.bytes, 0);
  });

  it('firstSeq is the oldest seq kept, or the next one to come when nothing is kept', () => {
    const spool = new MemorySpool({ ...roomy, maxResults: 3 }, () => 1000);
    assert.equal(spool.firstSeq, 1);
    for (let i = 0; i < 5; i++) spool.append(result(`c${i}`));
    assert.equal(spool.firstSeq, 3, 'after evicting 1 and 2');
    spool.ack(4);
    assert.equal(spool.firstSeq, 5);
    spool.ack(5);
    assert.equal(spool.firstSeq, 6);
  });

  it('a restored spool keeps its epoch and results, and numbers new results after the highest seq it was given', () => {
    const kept = [7, 8, 10].map((seq) => ({ ...result(`c${seq}`), seq }));
    const spool = new MemorySpool(roomy, () => 1000, { epoch: 'epoch-before-restart', lastSeq: 12, results: kept });
    assert.equal(spool.epoch, 'epoch-before-restart');
    assert.deepEqual(spool.read(0, 10).results, kept);
    assert.equal(spool.depth, 3);
    assert.equal(spool.append(result('after')).seq, 13);
    assert.equal(spool.dropped, 0);
  });

  it('applies its limits to restored results and counts what they evict as dropped', () => {
    const restored = Array.from({ length: 6 }, (_, i) => ({ ...result(`c${i}`, i < 2 ? 1000 : 9000), seq: i + 1 }));
    const byAge = new MemorySpool({ ...roomy, maxAgeMs: 5000 }, () => 10_000, { epoch: 'e', lastSeq: 6, results: restored });
    assert.deepEqual(seqs(byAge.read(0, 10).results), [3, 4, 5, 6]);
    assert.equal(byAge.dropped, 2);

    const byCount = new MemorySpool({ ...roomy, maxResults: 4 }, () => 10_000, { epoch: 'e', lastSeq: 6, results: restored });
    assert.deepEqual(seqs(byCount.read(0, 10).results), [3, 4, 5, 6]);
    assert.equal(byCount.dropped, 2);
  });

  it('each spool has its own epoch', () => {
    const a = new MemorySpool(roomy);
    const b = new MemorySpool(roomy);
    assert.match(a.epoch, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.epoch, b.epoch);
  });
});
