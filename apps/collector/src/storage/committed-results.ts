import type { DataSource } from 'typeorm';

/** A stored result as roll-ups need it: its id, check, start, status, duration and metrics (as the writer had them, parsed). */
export interface CommittedResult {
  id: number;
  checkId: string;
  agentId: string;
  startedAt: number;
  status: number;
  durationMs: number;
  metrics: readonly { name: string; value: number; unit: string; labels?: Record<string, string> }[];
}

/** How many committed results wait at most (roll-ups not running: a full disk): past it all go, and roll-ups read the table. */
const MAX_WAITING = 200_000;

/**
 * Results the result writer just committed, handed to the roll-ups in memory so they need not
 * read them back and parse their metrics' JSON (most of a roll-up's time: bench ingest). Only
 * an unbroken run of ids is handed over; anything else — after a restart, past the cap, on
 * PostgreSQL where ids come from a shared sequence — is read from check_results as before.
 */
export class CommittedResults {
  private waiting: CommittedResult[] = [];

  /** After a commit: `results` with consecutive ids, in id order. */
  committed(results: readonly CommittedResult[]): void {
    if (results.length === 0) return;
    const last = this.waiting.at(-1);
    // A gap (a failed transaction's ids reused, or the writer of another DataSource) breaks the run: start a new one.
    if (last && results[0]!.id !== last.id + 1) this.waiting = [];
    if (this.waiting.length + results.length > MAX_WAITING) this.waiting = [];
    else for (const r of results) this.waiting.push(r);
  }

  /** Forgets everything (results were deleted): the next roll-up reads the table. */
  clear(): void {
    this.waiting = [];
  }

  /** Exactly the results with ids in (after, upto], or null when they are not all here; forgets everything up to `upto`. */
  take(after: number, upto: number): CommittedResult[] | null {
    const first = this.waiting[0];
    const out = first && first.id <= after + 1 && this.waiting.at(-1)!.id >= upto ? this.waiting.slice(after + 1 - first.id, upto - first.id + 1) : null;
    const keep = this.waiting.findIndex((r) => r.id > upto);
    this.waiting = keep < 0 ? [] : this.waiting.slice(keep);
    return out;
  }
}

const channels = new WeakMap<DataSource, CommittedResults>();

/** The one channel of a DataSource, shared by its writer and its roll-ups. */
export function committedResults(dataSource: DataSource): CommittedResults {
  let channel = channels.get(dataSource);
  if (!channel) channels.set(dataSource, (channel = new CommittedResults()));
  return channel;
}
