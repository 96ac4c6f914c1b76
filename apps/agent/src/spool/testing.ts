import { Status, type CheckResult } from '#rounds/common/wire';
import type { SpoolLimits } from './memory-spool.js';

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
