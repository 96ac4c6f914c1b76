/**
 * What one check result may carry, enforced twice with the same code: the agent's plugin
 * runner bounds every outcome before it is spooled, and the collector bounds every result
 * it receives (an older or hostile agent may skip the first). Sized for what real checks
 * send, with room to spare, while one result stays small enough that a page of them fits a
 * Collect answer:
 *
 * - a summary is one line for people (the longest built-in ones, nagios output, are a few
 *   hundred characters): 4 KiB;
 * - reasons come from a closed set whose longest member has 20 characters;
 * - metric names are snake_case identifiers and become Prometheus names: 128 characters;
 * - units come from a closed set of short words;
 * - label keys are identifiers, label values are things like mount points or interface
 *   names (Prometheus exports at most 128 characters of them anyway);
 * - the busiest built-in plugin (host-metrics on a large server) reports well under a
 *   hundred metrics.
 *
 * At the worst these allow one result of about 4.2 MB on the wire (every character a
 * three-byte one), which is why {@link COLLECT_LIMITS} gives a Collect answer room for it.
 */
export const RESULT_LIMITS = Object.freeze({
  summaryChars: 4096,
  reasonChars: 64,
  metricsPerResult: 256,
  metricNameChars: 128,
  metricUnitChars: 32,
  labelsPerMetric: 16,
  labelKeyChars: 64,
  labelValueChars: 256,
});

/**
 * Bytes of one Collect answer. The agent stops adding results once the next one would take
 * its results past `resultBytes` (it always sends at least one, and sets `more`), so a
 * backlog is drained in pages that encode, travel and commit well inside the poll deadline.
 * The collector refuses an answer over `answerBytes`: the results plus room for the check
 * rejections and health that come with them.
 */
export const COLLECT_LIMITS = Object.freeze({
  resultBytes: 4 * 1024 * 1024,
  answerBytes: 16 * 1024 * 1024,
});

/** Where a result went over a limit: the closed label set of the collector's truncation counter. */
export const BOUNDED_FIELDS = ['summary', 'reason', 'metrics', 'metric_name', 'metric_unit', 'labels', 'label_key', 'label_value'] as const;
export type BoundedField = (typeof BOUNDED_FIELDS)[number];

/** The parts of a result (a plugin outcome or a wire result) that the limits apply to. */
export interface BoundableResult {
  reason: string;
  summary: string;
  metrics: readonly { name: string; unit: string; labels?: Readonly<Record<string, string>> }[];
}

export interface Bounded<T> {
  result: T;
  /** Fields that were over a limit (each once); empty when the result was within all of them. */
  cut: BoundedField[];
}

const number = new Intl.NumberFormat('en-US');

/** Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair. */
function head(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = max > 0 && /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, Math.max(0, end));
}

/**
 * `text` unchanged when it has at most `limit` characters; otherwise its beginning followed by
 * `… [truncated: 2,000,000 characters, limit 4096]`, the whole within `limit` (less `reserve`
 * characters kept free for a note that follows).
 */
export function truncate(text: string, limit: number, reserve = 0): string {
  const room = limit - reserve;
  if (text.length <= limit && text.length <= room) return text;
  const note = `… [truncated: ${number.format(text.length)} characters, limit ${limit}]`;
  return note.length >= room ? head(text, Math.max(0, room)) : head(text, room - note.length) + note;
}

/**
 * A result within {@link RESULT_LIMITS}, and which fields were over. The summary is cut with a
 * note saying so; metrics over the count are dropped from the end, and a metric whose name,
 * unit or labels are over a limit is dropped whole (a cut name or label would be another
 * series, i.e. wrong data); the summary then ends with how many metrics were dropped and why.
 * The reason is cut without a note (it is a code, not prose). A result within every limit is
 * returned as it is, so bounding twice (agent, then collector) changes and counts nothing.
 */
export function boundResult<T extends BoundableResult>(result: T): Bounded<T> {
  const L = RESULT_LIMITS;
  const cut = new Set<BoundedField>();
  const all = result.metrics;
  const kept: T['metrics'][number][] = [];
  let invalid = 0;
  let seen = 0;
  for (; seen < all.length && kept.length < L.metricsPerResult; seen++) {
    const field = overLimit(all[seen]!);
    if (field === undefined) kept.push(all[seen]!);
    else {
      cut.add(field);
      invalid++;
    }
  }
  const overCount = all.length - seen;
  const notes: string[] = [];
  if (overCount > 0) {
    cut.add('metrics');
    notes.push(`${number.format(overCount)} of ${number.format(all.length)} metrics dropped: limit ${L.metricsPerResult} per result`);
  }
  if (invalid > 0) {
    notes.push(
      `${number.format(invalid)} metrics dropped: name over ${L.metricNameChars}, unit over ${L.metricUnitChars}, ` +
        `over ${L.labelsPerMetric} labels, label name over ${L.labelKeyChars} or value over ${L.labelValueChars} characters`,
    );
  }
  if (result.summary.length > L.summaryChars) cut.add('summary');
  const note = notes.length > 0 ? ` [${notes.join('; ')}]` : '';
  const summary = truncate(result.summary, L.summaryChars, note.length) + note;
  let reason = result.reason;
  if (reason.length > L.reasonChars) {
    cut.add('reason');
    reason = head(reason, L.reasonChars);
  }
  if (cut.size === 0) return { result, cut: [] };
  const metrics = overCount > 0 || invalid > 0 ? kept : all;
  return { result: { ...result, reason, summary, metrics }, cut: BOUNDED_FIELDS.filter((f) => cut.has(f)) };
}

/** The first limit a metric is over, if any. */
function overLimit(m: BoundableResult['metrics'][number]): BoundedField | undefined {
  const L = RESULT_LIMITS;
  if (m.name.length > L.metricNameChars) return 'metric_name';
  if (m.unit.length > L.metricUnitChars) return 'metric_unit';
  if (!m.labels) return undefined;
  const entries = Object.entries(m.labels);
  if (entries.length > L.labelsPerMetric) return 'labels';
  for (const [k, v] of entries) {
    if (k.length > L.labelKeyChars) return 'label_key';
    if (v.length > L.labelValueChars) return 'label_value';
  }
  return undefined;
}

/**
 * An upper bound of a result's protobuf size (CheckResult in proto/): the strings' UTF-8
 * bytes plus the most their tags, lengths and fixed fields take. Cheap enough to compute
 * for every spooled result; what the Collect answer's byte budget is counted in.
 */
export function resultWireBytes(result: BoundableResult & { checkId: string }): number {
  // seq, started_at, duration, status: at most 11 + 11 + 6 + 2 bytes; each string: tag + length ≤ 6.
  let n = 30 + 6 * 3 + Buffer.byteLength(result.checkId) + Buffer.byteLength(result.reason) + Buffer.byteLength(result.summary) + 6;
  for (const m of result.metrics) {
    // Entry tag + length, name, value (9), unit.
    n += 6 + 6 + Buffer.byteLength(m.name) + 9 + 6 + Buffer.byteLength(m.unit);
    if (m.labels) for (const [k, v] of Object.entries(m.labels)) n += 6 + 6 + Buffer.byteLength(k) + 6 + Buffer.byteLength(v);
  }
  return n;
}
