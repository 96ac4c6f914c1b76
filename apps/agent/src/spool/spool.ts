import type { CheckResult } from '#rounds/common/wire';

/**
 * Where results wait until the collector acknowledges them. Sequence numbers are
 * assigned here, strictly increasing within one epoch. MemorySpool keeps them for
 * the life of the process; FileSpool (the agent's) also keeps them on disk, so the
 * same epoch and sequence carry on across a restart.
 */
export interface Spool {
  /** Identifies this sequence space; a new epoch tells the collector to start its cursor over. */
  readonly epoch: string;
  /** Stores a result, assigning its seq; may evict the oldest unacknowledged results to stay in bounds. */
  append(result: Omit<CheckResult, 'seq'>): CheckResult;
  /** Forgets everything with seq <= ackSeq. */
  ack(ackSeq: number): void;
  /**
   * Up to `max` results with seq > afterSeq, oldest first, and whether more remain; with
   * `maxBytes`, no more than fit in that many wire bytes (resultWireBytes), but at least one.
   */
  read(afterSeq: number, max: number, maxBytes?: number): { results: CheckResult[]; more: boolean };
  readonly lastSeq: number;
  readonly depth: number;
  readonly bytes: number;
  /** Results evicted before they were acknowledged, since start. */
  readonly dropped: number;
}
