/**
 * Nagios threshold ranges, as in the monitoring-plugins development guidelines:
 *
 *   `10`     alert outside 0..10      `10:`    alert below 10
 *   `~:10`   alert above 10           `10:20`  alert outside 10..20
 *   `@10:20` alert inside 10..20 (inclusive)
 *
 * Every plugin that takes warning/critical thresholds parses them here, once, when
 * its config is validated.
 */
export interface ThresholdRange {
  readonly start: number;
  readonly end: number;
  /** `@`: alert when the value is inside [start, end] instead of outside. */
  readonly inside: boolean;
  /** The text it was parsed from, for summaries. */
  readonly text: string;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function parseBound(text: string, whole: string): number {
  if (!NUMBER.test(text)) {
    throw new RangeError(`"${whole}" is not a Nagios range: "${text}" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)`);
  }
  const value = Number(text);
  // "1e999" passes the syntax check but overflows; an infinite bound cannot be written back
  // (formatRange would print "Infinity"), and ~ / an empty end already say "unbounded".
  if (!Number.isFinite(value)) {
    throw new RangeError(`"${whole}" is not a Nagios range: "${text}" is too large (use ~ or leave the end empty for "unbounded")`);
  }
  // -0 would print as "0" and compare unequal after a round trip; it means the same bound
  return value + 0;
}

/** Parses a range; throws a RangeError whose message says what is wrong and shows valid forms. */
export function parseRange(input: string | number): ThresholdRange {
  const text = String(input).trim();
  if (text === '') throw new RangeError('empty Nagios range (examples: 10, 10:, ~:10, 10:20, @10:20)');
  const inside = text.startsWith('@');
  const body = inside ? text.slice(1) : text;
  const colon = body.indexOf(':');
  let start = 0;
  let end = Infinity;
  if (colon === -1) {
    end = parseBound(body, text);
  } else {
    const lo = body.slice(0, colon);
    const hi = body.slice(colon + 1);
    start = lo === '~' ? -Infinity : lo === '' ? 0 : parseBound(lo, text);
    end = hi === '' ? Infinity : parseBound(hi, text);
  }
  if (start > end) throw new RangeError(`"${text}" is not a Nagios range: start ${start} is greater than end ${end}`);
  return { start, end, inside, text };
}

/** True when `value` should raise an alert for this range. */
export function rangeAlerts(range: ThresholdRange, value: number): boolean {
  const within = value >= range.start && value <= range.end;
  return range.inside ? within : !within;
}

/** Formats back to the canonical text form (`parseRange(formatRange(r))` equals r). */
export function formatRange(range: Pick<ThresholdRange, 'start' | 'end' | 'inside'>): string {
  const at = range.inside ? '@' : '';
  const lo = range.start === -Infinity ? '~' : String(range.start);
  if (range.end === Infinity) return `${at}${lo}:`;
  if (range.start === 0 && !range.inside) return String(range.end);
  return `${at}${lo}:${range.end}`;
}

export type ThresholdVerdict = 'OK' | 'WARNING' | 'CRITICAL';

/** Critical wins over warning; a missing range never alerts. */
export function evaluateThresholds(value: number, warning?: ThresholdRange, critical?: ThresholdRange): ThresholdVerdict {
  if (critical && rangeAlerts(critical, value)) return 'CRITICAL';
  if (warning && rangeAlerts(warning, value)) return 'WARNING';
  return 'OK';
}
