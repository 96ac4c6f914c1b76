import { randomUUID } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fdatasync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CheckResult } from '#rounds/common/wire';
import { MemorySpool, type SpoolLimits } from './memory-spool.js';
import type { Spool } from './spool.js';
import { lockSpoolDir, SpoolLockedError, type SpoolLock } from './spool-lock.js';
import {
  STATE_FILE,
  decodeState,
  encodeRecord,
  encodeState,
  parseSegment,
  segmentName,
  segmentNumber,
  syncDir,
  usedSegmentNumber,
  writeFileDurably,
  type SpoolState,
} from './spool-files.js';

const fdatasyncAsync = promisify(fdatasync);

export interface SpoolLog {
  debug(message: string): void;
  log(message: string): void;
  warn(message: string): void;
}

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

/** The spool folder cannot be used at start: the agent must not run without one. */
export class SpoolDirError extends Error {}

export { SpoolLockedError };

interface Segment {
  readonly name: string;
  /** Highest seq written in full; for an empty segment, the seq before its first. */
  lastSeq: number;
  records: number;
  bytes: number;
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

const EXAMPLE_DIR = process.platform === 'win32' ? 'C:\\ProgramData\\Rounds\\spool' : '/var/lib/rounds/spool';

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

  private constructor(
    options: FileSpoolOptions,
    memory: MemorySpool,
    replayed: { segments: Segment[]; nextSegment: number; state: SpoolState | undefined },
    lock: SpoolLock,
  ) {
    this.memory = memory;
    this.lock = lock;
    this.dir = resolve(options.dir);
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.segmentBytes = options.segmentBytes ?? 1024 * 1024;
    this.retryMs = options.retryMs ?? 5000;
    this.closedSegments = replayed.segments;
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
    const unusable: Unusable = (e, path = dir) =>
      new SpoolDirError(
        `spool.dir ${dir} cannot be used: ${(e as Error).message} — set spool.dir in ${options.configPath} to a folder the agent's ` +
          `user can read and write, such as ${EXAMPLE_DIR}${path === dir ? '' : `, or fix the permissions of ${path}`}`,
      );
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
    const names = prepareFolder(dir, unusable);
    const { state, damaged: stateDamaged } = readState(dir, log, unusable);
    const statePath = join(dir, STATE_FILE);
    const replayed = await replaySegments(dir, names, state, log, unusable);
    const { segments, results, acknowledged } = replayed;
    // After an unclean stop the last seqs handed out may be missing from the segments: continue above the reservation.
    const lastSeq = Math.max(replayed.lastSeq, state?.reservedThrough ?? 0);
    let nextSegment = 1;
    for (const name of names) nextSegment = Math.max(nextSegment, (usedSegmentNumber(name) ?? 0) + 1);

    if (!state && !stateDamaged && results.length > 0) {
      log.warn(`spool ${dir} has results but no state: started a new epoch, and the collector will take all ${results.length}, some perhaps a second time`);
    }
    const epoch = state?.epoch ?? randomUUID();
    const memory = new MemorySpool(options.limits, options.now ?? Date.now, { epoch, lastSeq, results });
    const spool = new FileSpool(options, memory, { segments, nextSegment, state }, lock);
    try {
      await spool.writeStateIfChanged();
    } catch (e) {
      spool.stopTimer();
      throw unusable(e, statePath);
    }
    await spool.deleteDiscardedSegments();
    if (segments.length > 0) {
      const kept = memory.depth > 0 ? `${memory.depth} results waiting for the collector (seq ${memory.firstSeq}–${memory.lastSeq})` : 'no results waiting';
      const dropped = memory.dropped > 0 ? `, ${memory.dropped} dropped because they exceed the spool limits (maxResults, maxBytes, maxAgeHours)` : '';
      log.log(`spool ${dir} replayed: epoch ${epoch}, ${kept}, ${acknowledged} already acknowledged${dropped}`);
    } else {
      log.debug(`spool ${dir}: epoch ${epoch}, next seq ${memory.lastSeq + 1}`);
    }
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

type Unusable = (e: unknown, path?: string) => SpoolDirError;

/** Creates the folder if needed and checks the agent may use it; nothing in it is read yet (another agent may hold it). */
function createFolder(dir: string, unusable: Unusable): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    throw unusable(e);
  }
}

/** Lists the folder (under the lock) and clears what an interrupted write left. */
function prepareFolder(dir: string, unusable: Unusable): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw unusable(e);
  }
  // Left by a write the process did not finish; the file it was replacing is intact.
  for (const name of names.filter((n) => n.endsWith('.tmp'))) {
    try {
      unlinkSync(join(dir, name));
    } catch (e) {
      throw unusable(e, join(dir, name));
    }
  }
  return names.filter((n) => !n.endsWith('.tmp'));
}

/** The state on disk; a damaged one is set aside (and a new epoch follows). */
function readState(dir: string, log: SpoolLog, unusable: Unusable): { state?: SpoolState; damaged: boolean } {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { damaged: false };
    throw unusable(e, path);
  }
  const decoded = decodeState(text);
  if (typeof decoded !== 'string') return { state: decoded, damaged: false };
  const aside = setAsideName(dir, STATE_FILE);
  try {
    renameSync(path, join(dir, aside));
  } catch (e) {
    throw unusable(e, path);
  }
  log.warn(
    `spool state ${path} is damaged (${decoded}); set it aside as ${aside} and started a new epoch: ` +
      'the collector will take every result still in the segments, some perhaps a second time',
  );
  return { damaged: true };
}

/**
 * Reads every segment in order. Results at or below the state's floor were acknowledged
 * or dropped before; a torn tail is cut off, a damaged segment set aside with its
 * readable results kept — each with one warning, so it is reported once.
 */
async function replaySegments(dir: string, names: string[], state: SpoolState | undefined, log: SpoolLog, unusable: Unusable) {
  const floor = state?.discardedThrough ?? 0;
  const ackedSeq = state?.ackedSeq ?? 0;
  const segments: Segment[] = [];
  const results: CheckResult[] = [];
  let lastSeq = Math.max(floor, ackedSeq);
  /** Highest seq in the segments read so far: each record must come after it. */
  let previous = 0;
  let acknowledged = 0;
  for (const name of names) {
    if (segmentNumber(name) === undefined) continue;
    const path = join(dir, name);
    let raw: Buffer;
    try {
      if (!statSync(path).isFile()) {
        log.warn(`spool segment ${path} is not a regular file; left it alone`);
        continue;
      }
      raw = readFileSync(path);
    } catch (e) {
      throw unusable(e, path);
    }
    const parsed = parseSegment(raw.toString('utf8'), previous);
    const { records } = parsed;
    const range = records.length > 0 ? ` (seq ${records[0]!.seq}–${records.at(-1)!.seq})` : '';
    try {
      if (parsed.damaged.length > 0) {
        const aside = setAsideName(dir, name);
        const first = parsed.damaged[0]!;
        await setAside(dir, name, aside, records.map(encodeRecord).join(''));
        const more = parsed.damaged.length > 1 ? ` and ${parsed.damaged.length - 1} more lines` : '';
        log.warn(
          `spool segment ${path} is damaged (line ${first.line}: ${first.reason}${more}): kept its ${records.length} readable results${range}, ` +
            `set the original aside as ${join(dir, aside)}`,
        );
        if (records.length === 0) continue;
      } else if (parsed.torn) {
        truncateSync(path, raw.lastIndexOf(0x0a) + 1);
        log.warn(`spool segment ${path} ended in a partial record (a write cut short); cut it off, kept the ${records.length} complete results${range}`);
      }
    } catch (e) {
      throw unusable(e, path);
    }
    for (const r of records) {
      if (r.seq > floor) results.push(r);
      else if (r.seq <= ackedSeq) acknowledged++;
    }
    previous = records.at(-1)?.seq ?? previous;
    lastSeq = Math.max(lastSeq, previous);
    segments.push({ name, lastSeq: previous, records: records.length, bytes: raw.length, dirty: false, abandoned: false });
  }
  return { segments, results, lastSeq, acknowledged };
}

/** `<name>.corrupt`, or with a number when an earlier one is still there for someone to look at. */
function setAsideName(dir: string, name: string): string {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? `${name}.corrupt` : `${name}.corrupt-${n}`;
    if (!existsSync(join(dir, candidate))) return candidate;
  }
}

/**
 * Keeps the original for a person and leaves only the readable records under the
 * segment's name; in this order a crash half-way leaves the original to redo it from.
 */
async function setAside(dir: string, name: string, aside: string, kept: string): Promise<void> {
  if (kept === '') {
    renameSync(join(dir, name), join(dir, aside));
    return;
  }
  copyFileSync(join(dir, name), join(dir, aside));
  await writeFileDurably(dir, name, kept);
}
