/**
 * Prometheus exposition formats, written here rather than by prom-client's registry:
 * prom-client renames counter objects in place when it renders OpenMetrics (so a later
 * text scrape would lose `_total`), and the families read from the state cache are
 * built per scrape anyway. prom-client still provides the histograms and the process
 * metrics; their `getMetricsAsJSON()` output is converted by {@link fromPromClient}.
 */

export type FamilyType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  /** Full sample name when it differs from the family name (`_bucket`, `_sum`, `_count`). */
  name?: string;
  labels: Readonly<Record<string, string | number>>;
  value: number;
}

export interface Family {
  /** Counters include their `_total` suffix, as in the text format. */
  name: string;
  help: string;
  type: FamilyType;
  /** OpenMetrics `# UNIT`; the name must end with `_<unit>` (or `_<unit>_total`). */
  unit?: string;
  samples: Sample[];
}

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/**
 * OpenMetrics when the Accept header prefers it at least as much as the text format
 * (Prometheus asks for `application/openmetrics-text` first), the text format otherwise.
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let openmetrics = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') openmetrics = Math.max(openmetrics, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q);
  }
  return openmetrics > 0 && openmetrics >= text ? 'openmetrics' : 'text';
}

export function render(families: readonly Family[], format: ExpositionFormat): string {
  return renderFamilies(families, format) + (format === 'openmetrics' ? '# EOF\n' : '');
}

/** The families' lines without the OpenMetrics terminator: parts rendered apart join into one exposition. */
export function renderFamilies(families: readonly Family[], format: ExpositionFormat): string {
  const out: string[] = [];
  for (const family of families) {
    if (format === 'text') {
      out.push(`# HELP ${family.name} ${escapeHelp(family.help, false)}`, `# TYPE ${family.name} ${family.type}`);
      for (const s of family.samples) out.push(sampleLine(s.name ?? family.name, s));
    } else {
      const counter = family.type === 'counter';
      const base = counter ? family.name.replace(/_total$/, '') : family.name;
      out.push(`# TYPE ${base} ${family.type}`);
      if (family.unit) out.push(`# UNIT ${base} ${family.unit}`);
      out.push(`# HELP ${base} ${escapeHelp(family.help, true)}`);
      for (const s of family.samples) out.push(sampleLine(s.name ?? (counter ? `${base}_total` : family.name), s));
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function sampleLine(name: string, sample: Sample): string {
  const labels = Object.entries(sample.labels);
  const set = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')}}`;
  return `${name}${set} ${formatValue(sample.value)}`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(help: string, quotes: boolean): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return quotes ? escaped.replace(/"/g, '\\"') : escaped;
}

/** The shape prom-client's `Registry.getMetricsAsJSON()` returns. */
export interface PromClientMetric {
  name: string;
  help: string;
  type: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** prom-client's JSON to families; `le` stays as prom-client formats it (`0.005`, `+Inf`). */
export function fromPromClient(metrics: readonly PromClientMetric[], units: Readonly<Record<string, string>> = {}): Family[] {
  return metrics.map((m) => {
    const type: FamilyType = m.type === 'counter' || m.type === 'histogram' ? m.type : 'gauge';
    return {
      name: m.name,
      help: m.help,
      type,
      ...(units[m.name] ? { unit: units[m.name] } : {}),
      samples: m.values.map((v) => ({
        ...(v.metricName && v.metricName !== m.name ? { name: v.metricName } : {}),
        labels: v.labels,
        value: v.value,
      })),
    };
  });
}
