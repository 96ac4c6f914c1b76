import { CheckStateEntity, type StatusCode } from './entities/index.js';
import { num, numOrNull } from './bulk-sql.js';

/**
 * check_state read and written as raw rows: the result writer upserts them and /metrics and
 * the status page read them all every few seconds, where hydrating 20,000 TypeORM entities
 * blocked the event loop for most of a second (bench: scale, p99 lag).
 */
export const STATE_COLUMN_NAMES = [
  'check_id',
  'status',
  'reason',
  'summary',
  'last_result_at',
  'last_ok_at',
  'last_change_at',
  'consecutive_failures',
  'last_duration_ms',
  'last_seq',
  'metrics_json',
] as const;

export type StateRow = Record<(typeof STATE_COLUMN_NAMES)[number], unknown>;

export function stateFromRow(row: StateRow): CheckStateEntity {
  const s = new CheckStateEntity();
  s.checkId = row.check_id as string;
  s.status = num(row.status) as StatusCode;
  s.reason = row.reason as string;
  s.summary = row.summary as string;
  s.lastResultAt = numOrNull(row.last_result_at);
  s.lastOkAt = numOrNull(row.last_ok_at);
  s.lastChangeAt = numOrNull(row.last_change_at);
  s.consecutiveFailures = num(row.consecutive_failures);
  s.lastDurationMs = numOrNull(row.last_duration_ms);
  s.lastSeq = num(row.last_seq);
  s.metricsJson = row.metrics_json as string;
  return s;
}
