/** One point of a series' history: when (epoch ms) and its value then. */
export interface TrendPoint {
  t: number;
  v: number;
}

/** Fewer points than this over the window say nothing about a trend. */
export const MIN_FORECAST_POINTS = 5;

/**
 * What a series' trend says at `now`:
 * - `insufficient`: too few points, or they cover less than half the window — no alert, and `why` says so;
 * - `trend`: the least-squares line; `crossesInMs` is when it reaches the threshold from now,
 *   null when it does not move, moves away from it, or is past it already.
 */
export type ForecastVerdict =
  { kind: 'insufficient'; points: number; why: string } | { kind: 'trend'; points: number; slopePerMs: number; valueNow: number; crossesInMs: number | null };

/**
 * The least-squares line through the window's points (Prometheus' predict_linear, fitted at
 * `now` rather than at the last point), and when it crosses `threshold` — from below when it
 * rises (a disk filling), from above when it falls (free space running out).
 */
export function linearTrend(points: readonly TrendPoint[], windowMs: number, threshold: number, now: number): ForecastVerdict {
  const inWindow = points.filter((p) => p.t > now - windowMs && p.t <= now && Number.isFinite(p.v));
  const n = inWindow.length;
  if (n < MIN_FORECAST_POINTS) {
    return {
      kind: 'insufficient',
      points: n,
      why: `only ${n} point${n === 1 ? '' : 's'} in the last ${words(windowMs)}: a trend needs at least ${MIN_FORECAST_POINTS}`,
    };
  }
  const span = inWindow[n - 1]!.t - inWindow[0]!.t;
  if (span < windowMs / 2) {
    return { kind: 'insufficient', points: n, why: `the points cover ${words(span)} of the ${words(windowMs)} window: a trend needs at least half of it` };
  }
  // Centred on the mean time: the sums stay small, and epoch milliseconds squared would lose precision.
  const meanT = inWindow.reduce((s, p) => s + p.t, 0) / n;
  const meanV = inWindow.reduce((s, p) => s + p.v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of inWindow) {
    sxy += (p.t - meanT) * (p.v - meanV);
    sxx += (p.t - meanT) ** 2;
  }
  const slopePerMs = sxx === 0 ? 0 : sxy / sxx;
  const valueNow = meanV + slopePerMs * (now - meanT);
  // Only a crossing ahead counts: a line already past the threshold may be a full disk or a free
  // space moving away from 0 — the same geometry — and "is full now" is a threshold rule's job.
  const ahead = slopePerMs === 0 ? -1 : (threshold - valueNow) / slopePerMs;
  const crossesInMs = ahead >= 0 ? ahead : null;
  return { kind: 'trend', points: n, slopePerMs, valueNow, crossesInMs };
}

/** "31 h", "45 min", "3 d": a duration as a person says it, rounded. */
export function words(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(ms / 3_600_000);
  if (hours < 72) return `${hours} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A value in its unit as a person reads it: bytes in binary units, ratios as percentages. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'bytes') {
    let v = Math.abs(value);
    let i = 0;
    while (v >= 1024 && i < BINARY.length - 1) {
      v /= 1024;
      i++;
    }
    return `${value < 0 ? '-' : ''}${round(v)} ${BINARY[i]}`;
  }
  if (unit === 'ratio') return `${round(value * 100)} %`;
  if (unit === 'percent') return `${round(value)} %`;
  return unit ? `${round(value)} ${unit}` : `${round(value)}`;
}

/** A slope per hour with its sign: "+2.1 GiB/h". */
export function formatRate(slopePerMs: number, unit: string): string {
  const perHour = slopePerMs * 3_600_000;
  return `${perHour >= 0 ? '+' : '-'}${formatValue(Math.abs(perHour), unit)}/h`.replace(' %/h', ' %-points/h');
}

function round(v: number): string {
  return String(Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10);
}
