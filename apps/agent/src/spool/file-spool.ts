import { closeSync, fdatasync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CheckResult } from '#rounds/common/wire';
import { MemorySpool, type SpoolLimits } from './memory-spool.js';
import type { Spool } from './spool.js';
import { lockSpoolDir, SpoolLockedError, type SpoolLock } from './spool-lock.js';
import { STATE_FILE, encodeRecord, encodeState, segmentName, syncDir, writeFileDurably, type SpoolState } from './spool-files.js';
import {
  createFolder,
  replaySpoolDir,
  reportReplay,
  SpoolDirError,
  unusableDir,
  type ReplayedSpool,
  type SpoolLog,
  type StoredSegment,
  type Unusable,
} from './spool-replay.js';

const fdatasyncAsync = promisify(fdatasync);

export interface FileSpoolOptions {
  dir: string;
  limits: SpoolLimits;
  /** The config file that sets `spool.dir`, named in the start-up error. */
  configPath: string;
  log: SpoolLog;
  now?: () => number;
  /** A segment that reached this size is closed and the next result starts a new one. */
  segmentBytes?: number;
  /** How often appended results are flushed to the device; 0 leaves it to sync() and close(). */
  syncIntervalMs?: number;
  /** After a failed write, how long to keep results in memory only before trying the disk again. */
  retryMs?: number;
}

export { SpoolDirError, SpoolLockedError, type SpoolLog };

interface Segment extends StoredSegment {
  /** Open while results may still be written or flushed; closed by sync(). */
  fd?: number;
  /** Written since the last fdatasync. */
  dirty: boolean;
  /** A write to it failed: never written or flushed again. */
  abandoned: boolean;
  /** Deleting it failed and was reported; later failures are not. */
  undeletable?: boolean;
}

/**
 * How far ahead of the last seq the state on disk reserves (see SpoolState.reservedThrough).
 * A new block is reserved when half of one is left, so the state is rewritten once every
 * RESERVE_AHEAD / 2 results, and reads never wait for it in practice.
 */
const RESERVE_AHEAD = 10_000;

/**
 * The agent's spool: a MemorySpool serves reads and enforces the limits, and every
 * result is also appended to a write-ahead log of segment files in `spool.dir`, so a
 * restart replays what the collector has not acknowledged, in the same epoch.
 *
 * Durability: each append is written to the open segment (the page cache) before
 * append() returns, so a killed process loses nothing; the segment is fdatasync'ed
 * at most about once a second and on close(), so an OS crash or power cut can lose
 * up to about the last second. A failed write (disk full, I/O error) never throws:
 * the results stay in memory, one warning names the folder, and the disk is tried
 * again after `retryMs`.
 */
export class FileSpool implements Spool {
  private readonly memory: MemorySpool;
  private readonly dir: string;
  private readonly log: SpoolLog;
  private readonly now: () => number;
  private readonly segmentBytes: number;
  private readonly retryMs: number;
  private active: Segment | undefined;
  /** No longer appended to; closed by the next sync() once flushed. */
  private readonly retired: Segment[] = [];
  /** Closed segments, oldest first. */
  private readonly closedSegments: Segment[];
  private nextSegment: number;
  private writtenThrough: number;
  private acked: number;
  /** The reservation the next state write records; results above the one on disk are not served yet. */
  private reserved: number;
  /** The state as it is on disk; undefined until first written. */
  private persisted: SpoolState | undefined;
  private dirDirty = false;
  private trouble: { since: number; retryAt: number; error: string } | undefined;
  private syncChain: Promise<void> = Promise.resolve();
  private syncQueued = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly lock: SpoolLock;

  private constructor(options: FileSpoolOptions, memory: MemorySpool, replayed: ReplayedSpool, lock: SpoolLock) {
    this.memory = memory;
    this.lock = lock;
    this.dir = resolve(options.dir);
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.segmentBytes = options.segmentBytes ?? 1024 * 1024;
    this.retryMs = options.retryMs ?? 5000;
    this.closedSegments = replayed.segments.map((s) => ({ ...s, dirty: false, abandoned: false }));
    this.nextSegment = replayed.nextSegment;
    this.writtenThrough = memory.lastSeq;
    this.persisted = replayed.state;
    this.acked = replayed.state?.ackedSeq ?? 0;
    this.reserved = memory.lastSeq + RESERVE_AHEAD;
    const every = options.syncIntervalMs ?? 1000;
    if (every > 0) {
      // unref: a pending flush must never keep the process alive; close() does the last one.
      this.timer = setInterval(() => this.tick(), every).unref();
    }
  }

  /**
   * Opens `options.dir` (created with mode 0700 if missing) and replays it: same epoch,
   * seq continuing after the highest one stored, acknowledged results not served again,
   * the limits applied to what remains. Throws SpoolDirError when the folder is unusable,
   * SpoolLockedError (before reading or changing anything in it) when another agent holds it.
   */
  static async open(options: FileSpoolOptions): Promise<FileSpool> {
    const dir = resolve(options.dir);
    const { log } = options;
    const unusable = unusableDir(dir, options.configPath);
    createFolder(dir, unusable);
    let lock: SpoolLock;
    try {
      lock = await lockSpoolDir(dir, options.configPath, (m) => log.warn(m));
    } catch (e) {
      if (e instanceof SpoolLockedError) throw e;
      throw unusable(e);
    }
    try {
      return await FileSpool.replay(options, dir, unusable, lock);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  private static async replay(options: FileSpoolOptions, dir: string, unusable: Unusable, lock: SpoolLock): Promise<FileSpool> {
    const { log } = options;
    const replayed = await replaySpoolDir(dir, log, unusable);
    const memory = new MemorySpool(options.limits, options.now ?? Date.now, replayed);
    const spool = new FileSpool(options, memory, replayed, lock);
    try {
      await spool.writeStateIfChanged();
    } catch (e) {
      spool.stopTimer();
      throw unusable(e, join(dir, STATE_FILE));
    }
    await spool.deleteDiscardedSegments();
    reportReplay(dir, replayed, memory, log);
    return spool;
  }

  get epoch(): string {
    return this.memory.epoch;
  }

  get lastSeq(): number {
    return this.memory.lastSeq;
  }

  get depth(): number {
    return this.memory.depth;
  }

  get bytes(): number {
    return this.memory.bytes;
  }

  get dropped(): number {
    return this.memory.dropped;
  }

  append(partial: Omit<CheckResult, 'seq'>): CheckResult {
    const result = this.memory.append(partial);
    if (this.closed) {
      this.log.debug(`spool closed: result ${result.seq} (${result.checkId}) is kept in memory only`);
      return result;
    }
    if (result.seq + RESERVE_AHEAD / 2 > this.reserved) {
      this.reserved = result.seq + RESERVE_AHEAD;
      this.tick();
    }
    this.writePending(false);
    return result;
  }

  ack(ackSeq: number): void {
    this.memory.ack(ackSeq);
    // A seq from the future is harmless to the memory spool, but on disk it would move the floor past results still to come.
    this.acked = Math.max(this.acked, Math.min(ackSeq, this.memory.lastSeq));
  }

  read(afterSeq: number, max: number, maxBytes?: number): { results: CheckResult[]; more: boolean } {
    const read = this.memory.read(afterSeq, max, maxBytes);
    // Never hand out a seq the state on disk has not reserved: a crash could give it out again.
    const durable = this.persisted?.reservedThrough ?? 0;
    if (read.results.length === 0 || read.results.at(-1)!.seq <= durable) return read;
    return { results: read.results.filter((r) => r.seq <= durable), more: true };
  }

  /**
   * Flushes written results to the device, closes full segments, records the
   * acknowledged seq and deletes segments nothing in them is waiting any more.
   * Runs on its timer; never throws (failures are logged).
   */
  sync(): Promise<void> {
    return this.enqueueSync(false);
  }

  /** The last sync (writing what the memory holds if an earlier write failed), then no more disk writes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopTimer();
      this.closed = true;
      await this.enqueueSync(true);
      if (!this.trouble) {
        // Everything is on disk: the next start continues right after the last seq, without a gap.
        this.reserved = this.memory.lastSeq;
        try {
          await this.writeStateIfChanged();
        } catch (e) {
          this.failed(`write ${join(this.dir, STATE_FILE)}`, e);
        }
      }
      const lost = this.memory.read(this.writtenThrough, Number.MAX_SAFE_INTEGER).results.length;
      if (lost > 0) {
        this.log.warn(`spool: ${lost} results never reached ${this.dir} (${this.trouble?.error ?? 'closed'}) and are lost as the agent stops`);
      }
      // Last: no write to the folder may follow, or a next agent could be replaying it already.
      this.lock.release();
    })();
    return this.closing;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private tick(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    void this.sync().finally(() => (this.syncQueued = false));
  }

  private enqueueSync(final: boolean): Promise<void> {
    const run = this.syncChain.then(() => this.syncOnce(final));
    this.syncChain = run;
    return run;
  }

  /** Writes the results the memory holds but the disk does not yet — normally only the one just appended. */
  private writePending(force: boolean): void {
    if (this.trouble && !force && this.now() < this.trouble.retryAt) return;
    if (this.writtenThrough >= this.memory.lastSeq) return;
    const pending = this.memory.read(this.writtenThrough, Number.MAX_SAFE_INTEGER).results;
    let written = 0;
    try {
      for (const r of pending) {
        this.writeRecord(r);
        written++;
      }
    } catch (e) {
      this.failed(`write to ${this.active ? join(this.dir, this.active.name) : this.dir}`, e);
      if (this.active) {
        this.active.abandoned = true;
        this.retire(this.active);
      }
      return;
    }
    // Evicted before they reached the disk (limits): nothing more to write for them.
    this.writtenThrough = this.memory.lastSeq;
    if (this.trouble) {
      const seconds = Math.round((this.now() - this.trouble.since) / 1000);
      this.log.log(`spool: writing to ${this.dir} again after ${seconds} s; the ${written} results held only in memory meanwhile are on disk now`);
      this.trouble = undefined;
    }
  }

  private writeRecord(r: CheckResult): void {
    if (this.active && this.active.bytes >= this.segmentBytes) this.retire(this.active);
    if (!this.active) {
      const name = segmentName(this.nextSegment++);
      const fd = openSync(join(this.dir, name), 'a', 0o600);
      this.active = { name, lastSeq: this.writtenThrough, records: 0, bytes: 0, fd, dirty: false, abandoned: false };
      this.dirDirty = true;
    }
    const seg = this.active;
    const line = Buffer.from(encodeRecord(r));
    let offset = 0;
    try {
      while (offset < line.length) offset += writeSync(seg.fd!, line, offset);
    } catch (e) {
      // A short write leaves half a line; cut it off so the file ends on a record (replay would skip it anyway).
      if (offset > 0) {
        try {
          ftruncateSync(seg.fd!, seg.bytes);
        } catch {
          // The half line stays; replay treats it as torn.
        }
      }
      throw e;
    }
    seg.bytes += line.length;
    seg.lastSeq = r.seq;
    seg.records++;
    seg.dirty = true;
    this.writtenThrough = r.seq;
  }

  private retire(seg: Segment): void {
    if (this.active === seg) this.active = undefined;
    this.retired.push(seg);
  }

  private failed(action: string, e: unknown): void {
    const error = (e as Error).message;
    const now = this.now();
    if (this.trouble) {
      this.trouble.retryAt = now + this.retryMs;
      this.log.debug(`spool: still cannot ${action}: ${error}`);
      return;
    }
    this.trouble = { since: now, retryAt: now + this.retryMs, error };
    this.log.warn(
      `spool: cannot ${action}: ${error} — results are kept in memory (within the spool limits) but would be lost if the agent stopped; ` +
        `trying again every ${Math.round(this.retryMs / 1000)} s. Free space in ${this.dir} or fix its permissions (spool.dir)`,
    );
  }

  private async syncOnce(final: boolean): Promise<void> {
    try {
      if (this.trouble && (final || this.now() >= this.trouble.retryAt)) this.writePending(true);
      if (final && this.active) this.retire(this.active);
      for (const seg of [...this.retired, ...(this.active ? [this.active] : [])]) {
        if (!seg.dirty || seg.abandoned) continue;
        seg.dirty = false;
        try {
          await fdatasyncAsync(seg.fd!);
        } catch (e) {
          seg.dirty = true;
          this.failed(`flush ${join(this.dir, seg.name)}`, e);
        }
      }
      if (this.dirDirty) {
        this.dirDirty = false;
        await syncDir(this.dir).catch((e: unknown) => this.failed(`flush the folder ${this.dir}`, e));
      }
      // Segments retired while the flushes ran wait for the next sync: closing them now would skip their flush.
      for (const seg of [...this.retired]) {
        if (seg.dirty && !seg.abandoned && !final) continue;
        this.retired.splice(this.retired.indexOf(seg), 1);
        try {
          closeSync(seg.fd!);
        } catch {
          // Already unusable (it failed a write); nothing left to lose by not closing it cleanly.
        }
        seg.fd = undefined;
        this.closedSegments.push(seg);
      }
      try {
        await this.writeStateIfChanged();
      } catch (e) {
        this.failed(`write ${join(this.dir, STATE_FILE)}`, e);
      }
      await this.deleteDiscardedSegments();
    } catch (e) {
      this.log.warn(`spool: sync of ${this.dir} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private async writeStateIfChanged(): Promise<void> {
    const next: SpoolState = {
      epoch: this.memory.epoch,
      ackedSeq: this.acked,
      discardedThrough: this.memory.firstSeq - 1,
      reservedThrough: this.reserved,
    };
    const p = this.persisted;
    if (
      p &&
      p.epoch === next.epoch &&
      p.ackedSeq === next.ackedSeq &&
      p.discardedThrough === next.discardedThrough &&
      p.reservedThrough === next.reservedThrough
    ) {
      return;
    }
    await writeFileDurably(this.dir, STATE_FILE, encodeState(next));
    this.persisted = next;
  }

  /** Only below the floor already on disk: a crash must never leave fewer results and an older state. */
  private async deleteDiscardedSegments(): Promise<void> {
    const floor = this.persisted?.discardedThrough ?? 0;
    for (const seg of [...this.closedSegments]) {
      if (seg.records > 0 && seg.lastSeq > floor) continue;
      try {
        await unlink(join(this.dir, seg.name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          const message = `spool: cannot delete ${join(this.dir, seg.name)}, whose results were all taken: ${(e as Error).message}; trying again every sync`;
          if (seg.undeletable) this.log.debug(message);
          else this.log.warn(message);
          seg.undeletable = true;
          continue;
        }
      }
      this.closedSegments.splice(this.closedSegments.indexOf(seg), 1);
    }
  }
}
