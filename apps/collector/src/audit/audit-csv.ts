import type { AuditEntry } from './audit.types.js';

/**
 * Characters a spreadsheet reads as the start of a formula (OWASP's CSV-injection list: `=`,
 * `+`, `-`, `@`, and tab and carriage return, which some programs skip before one). A cell
 * starting with one gets a leading `'`, so Excel and LibreOffice show it as text; a name like
 * `=HYPERLINK(…)` in the log is then shown, never run.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula-safe, and quoted per RFC 4180 when it holds a comma, quote or line break. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

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
