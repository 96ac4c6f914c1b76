/**
 * Timing rules a check definition must meet, shared by the collector (when a check is
 * saved) and the agent (when it receives its check set), so both refuse with the same words.
 */

/** `200ms`, `1s`, `90s`, `5m`, `1h`: how people write intervals in the CLI and the docs. */
export function formatInterval(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A run that may last longer than the interval overlaps the next one (the scheduler then
 * skips it), so a timeout longer than its interval only hides a check that cannot keep up.
 * Returns the refusal, or undefined when the timeout fits.
 */
export function timeoutBeyondInterval(timeoutMs: number, intervalMs: number): string | undefined {
  if (timeoutMs <= intervalMs) return undefined;
  return (
    `timeout ${formatInterval(timeoutMs)} is longer than the interval ${formatInterval(intervalMs)} — ` +
    'a check must end before its next run is due: shorten the timeout or lengthen the interval'
  );
}
