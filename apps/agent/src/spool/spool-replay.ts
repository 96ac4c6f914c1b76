import { randomUUID } from 'node:crypto';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult } from '#rounds/common/wire';
import type { MemorySpool, RestoredSpool } from './memory-spool.js';
import { STATE_FILE, decodeState, encodeRecord, parseSegment, segmentNumber, usedSegmentNumber, writeFileDurably, type SpoolState } from './spool-files.js';

/**
 * Reading a spool folder back at start — after a clean stop, a kill -9 or a power cut: the
 * state, then every segment in order, cutting off a torn last line and setting damaged
 * files aside so that what is readable is served and the rest is left for a person.
 */

export interface SpoolLog {
  debug(message: string): void;
  log(message: string): void;
  warn(message: string): void;
}

/** The spool folder cannot be used at start: the agent must not run without one. */
export class SpoolDirError extends Error {}

export type Unusable = (e: unknown, path?: string) => SpoolDirError;

/** A segment file as replay found it. */
export interface StoredSegment {
  readonly name: string;
  /** Highest seq written in full; for an empty segment, the seq before its first. */
  lastSeq: number;
  records: number;
  bytes: number;
}

/** What a spool folder holds, ready for a MemorySpool (the RestoredSpool part) and the FileSpool around it. */
export interface ReplayedSpool extends RestoredSpool {
  /** The state as it is on disk; undefined when there was none or it was set aside. */
  state: SpoolState | undefined;
  /** In order, oldest first. */
  segments: StoredSegment[];
  /** The number for the next segment file: above every one used, including those set aside. */
  nextSegment: number;
  /** Results in the segments that the collector had acknowledged (not served again). */
  acknowledged: number;
}

const EXAMPLE_DIR = process.platform === 'win32' ? 'C:\\ProgramData\\Rounds\\spool' : '/var/lib/rounds/spool';

/** The error for a spool folder (or a file in it) the agent cannot use, saying what to change. */
export function unusableDir(dir: string, configPath: string): Unusable {
  return (e, path = dir) =>
    new SpoolDirError(
      `spool.dir ${dir} cannot be used: ${(e as Error).message} — set spool.dir in ${configPath} to a folder the agent's ` +
        `user can read and write, such as ${EXAMPLE_DIR}${path === dir ? '' : `, or fix the permissions of ${path}`}`,
    );
}

/**
 * Reads the folder (under the spool lock): same epoch, seq continuing after the highest one
 * handed out, results at or below the state's floor left out. Writes only to repair: removes
 * what an interrupted write left, cuts torn lines, sets damaged files aside.
 */
export async function replaySpoolDir(dir: string, log: SpoolLog, unusable: Unusable): Promise<ReplayedSpool> {
  const names = prepareFolder(dir, unusable);
  const { state, damaged: stateDamaged } = readState(dir, log, unusable);
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
  return { epoch, lastSeq, results, state, segments, nextSegment, acknowledged };
}

/** Creates the folder if needed and checks the agent may use it; nothing in it is read yet (another agent may hold it). */
export function createFolder(dir: string, unusable: Unusable): void {
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
  const segments: StoredSegment[] = [];
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
    segments.push({ name, lastSeq: previous, records: records.length, bytes: raw.length });
  }
  return { segments, results, lastSeq, acknowledged };
}

/** One line on what the start found, once the limits have been applied to it. */
export function reportReplay(dir: string, replayed: ReplayedSpool, memory: MemorySpool, log: SpoolLog): void {
  const { epoch, acknowledged } = replayed;
  if (replayed.segments.length > 0) {
    const kept = memory.depth > 0 ? `${memory.depth} results waiting for the collector (seq ${memory.firstSeq}–${memory.lastSeq})` : 'no results waiting';
    const dropped = memory.dropped > 0 ? `, ${memory.dropped} dropped because they exceed the spool limits (maxResults, maxBytes, maxAgeHours)` : '';
    log.log(`spool ${dir} replayed: epoch ${epoch}, ${kept}, ${acknowledged} already acknowledged${dropped}`);
  } else {
    log.debug(`spool ${dir}: epoch ${epoch}, next seq ${memory.lastSeq + 1}`);
  }
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
