import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../e2e/harness.js';

/** Shared by the deploy specs and the Prometheus e2e: the alert rules and dashboard queries as committed. */

export const PROMETHEUS_DIR = join(ROOT, 'deploy', 'prometheus');
export const GRAFANA_DIR = join(ROOT, 'deploy', 'grafana');
export const RULES_FILE = join(PROMETHEUS_DIR, 'rounds.rules.yml');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

function rules(): (AlertRule | RecordingRule)[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: (AlertRule | RecordingRule)[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

export function alertRules(): AlertRule[] {
  return rules().filter((r): r is AlertRule => 'alert' in r);
}

/** The series the rule file records, which dashboards and alerts may select like exported metrics. */
export function recordingRules(): RecordingRule[] {
  return rules().filter((r): r is RecordingRule => 'record' in r);
}

/**
 * The rule's signal: its expression with `bool` after its one top-level comparison
 * (`rounds_agent_up == 0` → `rounds_agent_up == bool 0`), which returns every series of the
 * signal (0 or 1) instead of only those over the threshold. Undefined unless there is
 * exactly one comparison outside parentheses, braces, brackets and strings.
 */
export function signalQuery(expr: string): string | undefined {
  const found: { at: number; length: number }[] = [];
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (depth === 0) {
      const two = expr.slice(i, i + 2);
      if (['==', '!=', '>=', '<='].includes(two)) {
        found.push({ at: i, length: 2 });
        i++;
      } else if (c === '>' || c === '<') {
        found.push({ at: i, length: 1 });
      }
    }
  }
  if (found.length !== 1) return undefined;
  const { at, length } = found[0]!;
  return `${expr.slice(0, at + length)} bool${expr.slice(at + length)}`;
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
  panels?: GrafanaPanel[];
}

export interface Dashboard {
  file: string;
  uid: string;
  title: string;
  templating: { list: { name: string; type: string; query: unknown; current?: { value?: string } }[] };
  panels: GrafanaPanel[];
}

export function dashboards(): Dashboard[] {
  const dir = join(GRAFANA_DIR, 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Omit<Dashboard, 'file'>) }));
}

/** Every panel, rows' children included. */
export function panelsOf(dashboard: Dashboard): GrafanaPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function dashboardQueries(): DashboardQuery[] {
  return dashboards().flatMap((d) =>
    panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => ({ dashboard: d.title, panel: p.title, refId: t.refId, expr: t.expr }))),
  );
}

/** Grafana's substitutions: `$var`, `${var}`, `[[var]]` and the built-in intervals. */
export function substitute(expr: string, variables: Record<string, string>): string {
  const values: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '6h', ...variables };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    return values[name] ?? whole;
  });
}

/** Metric names a PromQL expression selects: bare names, and `__name__` regexes as RegExps. */
export function metricNames(expr: string): { names: string[]; patterns: RegExp[] } {
  const patterns = [...expr.matchAll(/__name__\s*=~\s*"([^"]+)"/g)].map((m) => new RegExp(`^(?:${m[1]})$`));
  const withoutStrings = expr
    .replace(/"(?:\\.|[^"\\])*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  // A recorded series is level:metric:operation (agent_check:rounds_orthanc_storage_bytes:deriv6h), colons included.
  const names = [
    ...withoutStrings.matchAll(/(?<![\w:])([a-z_][a-z0-9_]*:[a-z0-9_:]+|rounds_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)(?![\w:(])/g),
  ].map((m) => m[1]!);
  return { names: [...new Set(names)], patterns };
}
