import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Status, type CheckResult } from '#rounds/common/wire';
import type { SpoolLimits } from './memory-spool.js';
import { LOCK_FILE } from './spool-lock.js';

/** Limits no spec reaches unless it means to. */
export const ROOMY_LIMITS: SpoolLimits = { maxResults: 1_000_000, maxBytes: 1 << 30, maxAgeMs: 3600_000 };

export const seqs = (rs: readonly CheckResult[]): number[] => rs.map((r) => r.seq);

/** An OK result as a check would hand it to a spool (no seq yet). */
export function spoolResult(checkId: string, fields: { startedAtMs: number; summary?: string; value?: number }): Omit<CheckResult, 'seq'> {
  return {
    checkId,
    startedAtMs: fields.startedAtMs,
    durationMs: 12,
    status: Status.STATUS_OK,
    reason: 'ok',
    summary: fields.summary ?? `${checkId} answered`,
    metrics: [{ name: 'connect_seconds', value: fields.value ?? 0.012, unit: 'seconds', labels: { port: '104' } }],
  };
}

/** A pid no process has any more: a child that has already exited (pids are not reused that soon). */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error(`cannot start ${process.execPath} to get a dead pid`);
  return child.pid;
}

/** The lock a killed agent leaves in its spool folder: its pid, which no longer runs. */
export function leaveLockAsKilled(dir: string): number {
  const pid = deadPid();
  writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify({ pid, procStart: null, token: 'killed', since: '2026-01-01T00:00:00.000Z' })}\n`);
  return pid;
}
