/** Rows as aligned columns for a terminal: the first row is the header; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

/**
 * Text from the collector (a check's summary, an agent's error, a problem's detail) made safe to
 * print on a terminal: control characters — ESC and the C1 range would let an agent's output
 * move the cursor, rewrite lines or set the window title — are shown as `\x1b`, not obeyed.
 * Line breaks and tabs are kept.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** JSON for a terminal or a script: as JSON.stringify, with DEL and the C1 range escaped too (JSON.stringify leaves them raw). */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
