const FACTORS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30s", "5m", "1h", "90d", "1500ms" or a bare number of milliseconds → milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`${what} must be a duration like 30s, 5m, 1h, 90d or 1500ms, got "${text}"`);
  return Math.round(Number(m[1]) * FACTORS[(m[2] ?? 'ms') as keyof typeof FACTORS]);
}
