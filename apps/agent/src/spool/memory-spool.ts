import { randomUUID } from 'node:crypto';
import { resultWireBytes } from '#rounds/common';
import type { CheckResult } from '#rounds/common/wire';
import type { Spool } from './spool.js';

export interface SpoolLimits {
  maxResults: number;
  maxBytes: number;
  maxAgeMs: number;
}

/** What a spool held before a restart: the results are in seq order, all above any earlier acknowledgement. */
export interface RestoredSpool {
  epoch: string;
  /** The highest seq ever handed out, so new results never reuse one the collector may have stored. */
  lastSeq: number;
  results: readonly CheckResult[];
}

/**
 * A bounded in-memory spool: an array used as a queue (head index, compacted now
 * and then). When a limit is hit the oldest results go first and are counted in
 * `dropped` — reported to the collector, never silent. FileSpool keeps one of these
 * for reads and bounds, so both enforce the limits the same way.
 */
export class MemorySpool implements Spool {
  readonly epoch: string;
  private items: { result: CheckResult; size: number }[] = [];
  private head = 0;
  private seq = 0;
  private totalBytes = 0;
  private droppedCount = 0;

  constructor(
    private readonly limits: SpoolLimits,
    private readonly now: () => number = Date.now,
    restored?: RestoredSpool,
  ) {
    this.epoch = restored?.epoch ?? randomUUID();
    if (restored) {
      for (const result of restored.results) this.push(result);
      this.seq = Math.max(this.seq, restored.lastSeq);
      // Limits may have shrunk or results aged while the agent was down: what no longer fits counts as dropped.
      this.evict();
    }
  }

  append(partial: Omit<CheckResult, 'seq'>): CheckResult {
    const result: CheckResult = { ...partial, seq: this.seq + 1 };
    this.push(result);
    this.evict();
    return result;
  }

  ack(ackSeq: number): void {
    while (this.head < this.items.length && this.items[this.head]!.result.seq <= ackSeq) {
      this.totalBytes -= this.items[this.head]!.size;
      this.head++;
    }
    this.compact();
  }

  read(afterSeq: number, max: number, maxBytes = Number.POSITIVE_INFINITY): { results: CheckResult[]; more: boolean } {
    // Results are in seq order: binary search for the first one after the cursor.
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.result.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    const last = Math.min(this.items.length, lo + Math.max(0, max));
    // Sizes are wire sizes, so the page's encoded results stay within maxBytes; the first one always goes (it fits the limits).
    let end = lo;
    for (let bytes = 0; end < last; end++) {
      bytes += this.items[end]!.size;
      if (bytes > maxBytes && end > lo) break;
    }
    const results = this.items.slice(lo, end).map((it) => it.result);
    return { results, more: end < this.items.length };
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Seq of the oldest result kept (lastSeq + 1 when empty): everything below it was acknowledged or dropped. */
  get firstSeq(): number {
    return this.depth > 0 ? this.items[this.head]!.result.seq : this.seq + 1;
  }

  get depth(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  private push(result: CheckResult): void {
    const size = resultWireBytes(result);
    this.items.push({ result, size });
    this.totalBytes += size;
    this.seq = result.seq;
  }

  private evict(): void {
    const oldest = this.now() - this.limits.maxAgeMs;
    while (
      this.depth > 0 &&
      (this.depth > this.limits.maxResults || this.totalBytes > this.limits.maxBytes || this.items[this.head]!.result.startedAtMs < oldest)
    ) {
      this.totalBytes -= this.items[this.head]!.size;
      this.head++;
      this.droppedCount++;
    }
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
