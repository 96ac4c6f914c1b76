import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult, Metric } from '#rounds/common/wire';

/*
 * The spool folder on disk:
 *   state.json             {"format":1,"epoch":"…","ackedSeq":N,"discardedThrough":M,"reservedThrough":R}, replaced atomically
 *   seg-0000000001.jsonl   one JSON object per line per result, seq first, in seq order
 *   seg-….jsonl.corrupt    a damaged segment set aside for a person to look at
 * Segments are numbered in the order they were started, above every number a file in the folder carries.
 */

export const STATE_FILE = 'state.json';
const SEGMENT_NAME = /^seg-(\d{10})\.jsonl$/;
const ANY_SEGMENT_FILE = /^seg-(\d{10})\.jsonl/;

export function segmentName(number: number): string {
  return `seg-${String(number).padStart(10, '0')}.jsonl`;
}

/** The segment number of a live segment file name, or undefined. */
export function segmentNumber(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The number in any file a segment left behind (live, set aside, half-written), so a new one never reuses it. */
export function usedSegmentNumber(name: string): number | undefined {
  const m = ANY_SEGMENT_FILE.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface SpoolState {
  epoch: string;
  /** Highest seq the collector acknowledged. */
  ackedSeq: number;
  /** Every seq up to here was acknowledged or dropped: a replay skips them, and segments wholly below it may go. */
  discardedThrough: number;
  /**
   * No seq above this was ever handed to the collector, and the next start continues after
   * it. Reserved ahead in blocks while running, brought down to the last seq on a clean
   * close: after an OS crash that lost the segments' last second, a new result can never
   * take a seq the collector already stored (it would be skipped as a duplicate).
   */
  reservedThrough: number;
}

export function encodeState(state: SpoolState): string {
  return `${JSON.stringify({ format: 1, ...state })}\n`;
}

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The state, or why the text is not one. */
export function decodeState(text: string): SpoolState | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || o['format'] !== 1) return 'not a format-1 spool state';
  if (typeof o['epoch'] !== 'string' || o['epoch'] === '') return 'no epoch';
  if (!isSeq(o['ackedSeq']) || !isSeq(o['discardedThrough']) || !isSeq(o['reservedThrough'])) {
    return 'ackedSeq/discardedThrough/reservedThrough are not sequence numbers';
  }
  return { epoch: o['epoch'], ackedSeq: o['ackedSeq'], discardedThrough: o['discardedThrough'], reservedThrough: o['reservedThrough'] };
}

/** JSON has no NaN or ±Infinity, and a plugin may report them (a perfdata "U", a division by zero). */
const nonFinite = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

/** One result as one line (with its newline). */
export function encodeRecord(r: CheckResult): string {
  const record = {
    seq: r.seq,
    checkId: r.checkId,
    startedAtMs: r.startedAtMs,
    durationMs: r.durationMs,
    status: r.status,
    reason: r.reason,
    summary: r.summary,
    metrics: r.metrics,
  };
  const json = r.metrics.every((m) => Number.isFinite(m.value)) ? JSON.stringify(record) : JSON.stringify(record, nonFinite);
  return `${json}\n`;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function decodeMetric(v: unknown): Metric | undefined {
  const m = v as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || typeof m['name'] !== 'string' || typeof m['unit'] !== 'string') return undefined;
  const value = typeof m['value'] === 'string' ? NON_FINITE[m['value']] : m['value'];
  if (typeof value !== 'number') return undefined;
  const labels = m['labels'] as Record<string, unknown> | null;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return undefined;
  if (!Object.values(labels).every((l) => typeof l === 'string')) return undefined;
  return { name: m['name'], value, unit: m['unit'], labels: labels as Record<string, string> };
}

/** The result on one line (without its newline), or why it is not one. */
export function decodeRecord(line: string): CheckResult | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return (e as Error).message;
  }
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return 'not a spool record';
  if (!isSeq(o['seq']) || o['seq'] === 0) return 'no seq';
  if (typeof o['checkId'] !== 'string' || typeof o['reason'] !== 'string' || typeof o['summary'] !== 'string') return 'checkId/reason/summary missing';
  if (!isNumber(o['startedAtMs']) || !isNumber(o['durationMs']) || !isNumber(o['status'])) return 'startedAtMs/durationMs/status missing';
  if (!Array.isArray(o['metrics'])) return 'metrics missing';
  const metrics = o['metrics'].map(decodeMetric);
  if (metrics.some((m) => m === undefined)) return 'a metric is malformed';
  return {
    seq: o['seq'],
    checkId: o['checkId'],
    startedAtMs: o['startedAtMs'],
    durationMs: o['durationMs'],
    status: o['status'],
    reason: o['reason'],
    summary: o['summary'],
    metrics: metrics as Metric[],
  };
}

export interface ParsedSegment {
  /** Complete, valid records, in seq order, each above `afterSeq`. */
  records: CheckResult[];
  /** Lines that are not records (or break the seq order): 1-based line number and why. */
  damaged: { line: number; reason: string }[];
  /** The file ends in a partial line: a write cut short by a crash or a full disk. */
  torn: boolean;
}

/**
 * Splits a segment into records. Only newline-terminated lines count: every record is
 * written as one line with its newline, so an unterminated tail never finished.
 * `afterSeq` is the highest seq of the segments before this one.
 */
export function parseSegment(text: string, afterSeq: number): ParsedSegment {
  const lines = text.split('\n');
  const tail = lines.pop()!;
  const records: CheckResult[] = [];
  const damaged: ParsedSegment['damaged'] = [];
  let last = afterSeq;
  lines.forEach((line, i) => {
    const r = decodeRecord(line);
    if (typeof r === 'string') damaged.push({ line: i + 1, reason: r });
    else if (r.seq <= last) damaged.push({ line: i + 1, reason: `seq ${r.seq} is not after ${last}` });
    else {
      records.push(r);
      last = r.seq;
    }
  });
  return { records, damaged, torn: tail !== '' };
}

/**
 * Replaces `path` with `data` so that a crash leaves the old file or the new one, never
 * half of either: a temporary file, flushed, renamed over it, and the folder flushed.
 */
export async function writeFileDurably(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `${name}.${process.pid}.tmp`);
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(data);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

/** Makes new, renamed and removed names in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a folder as a file; NTFS journals the names itself.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder: the rename stays atomic, only its durability after an OS crash is weaker.
  } finally {
    await handle.close();
  }
}
