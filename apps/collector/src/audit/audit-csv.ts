import type { AuditEntry } from './audit.types.js';
import { csvCell } from '../shared/csv.js';

export const AUDIT_CSV_HEADER = [
  'id',
  'at',
  'actor',
  'source',
  'address',
  'user_agent',
  'action',
  'target_kind',
  'target_id',
  'target_name',
  'before',
  'after',
  'prev_hash',
  'hash',
] as const;

/**
 * The rows as RFC 4180 CSV (CRLF line ends, a header line). `at` is ISO 8601 UTC for people;
 * before/after are the JSON the API shows. Hashes are over the stored row (see audit-chain.ts),
 * not over these cells: `audit verify` on the collector is what checks them.
 */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const lines = [AUDIT_CSV_HEADER.join(',')];
  for (const e of entries) {
    lines.push(
      [
        e.id,
        new Date(e.at).toISOString(),
        e.actor,
        e.source,
        e.address,
        e.userAgent,
        e.action,
        e.target.kind,
        e.target.id,
        e.target.name,
        e.before === null ? null : JSON.stringify(e.before),
        e.after === null ? null : JSON.stringify(e.after),
        e.prevHash,
        e.hash,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
