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

/** Rows as RFC 4180 CSV, CRLF line ends, every cell through csvCell. */
export function csvRows(rows: readonly (readonly (string | number | null)[])[]): string {
  return rows.map((r) => `${r.map(csvCell).join(',')}\r\n`).join('');
}

/**
 * Marks a response as a CSV download — in the handler, once the query has passed its pipe: a
 * `@Header` would label the JSON error of a refused query as CSV too.
 */
export function sendsCsv(res: { setHeader(name: string, value: string): unknown }, filename: string): void {
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
}
