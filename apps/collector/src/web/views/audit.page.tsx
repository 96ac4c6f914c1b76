import type { AuditEntry } from '../../audit/audit.types.js';
import { Layout, Notice, Time, type FieldErrors, type Viewer } from './layout.js';

/** The filters as typed (shown again beside their errors). */
export interface AuditForm {
  actor: string;
  action: string;
  target: string;
  from: string;
  to: string;
}

export interface AuditModel {
  viewer: Viewer | undefined;
  form: AuditForm;
  errors: FieldErrors;
  rows: AuditEntry[];
  /** The query of the next (older) page, when there may be one. */
  older: string | null;
  csvHref: string;
  actions: readonly string[];
}

/** A change's before/after in one line: the fields that differ, else the whole value. */
function changed(before: unknown, after: unknown): string {
  const text = (v: unknown) => (v === undefined ? '' : JSON.stringify(v));
  if (before && after && typeof before === 'object' && typeof after === 'object') {
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => text(b[k]) !== text(a[k]));
    return keys.map((k) => `${k}: ${text(b[k])} → ${text(a[k])}`).join('; ');
  }
  if (after !== null && after !== undefined) return text(after);
  return before === null || before === undefined ? '' : `was ${text(before)}`;
}

function Filter(props: { label: string; name: keyof AuditForm; form: AuditForm; errors: FieldErrors; hint?: string; list?: string }) {
  const error = props.errors[props.name];
  return (
    <label>
      {props.label}
      {props.hint ? <span class="hint">{props.hint}</span> : null}
      <input
        type="text"
        name={props.name}
        value={props.form[props.name]}
        list={props.list}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${props.name}-error` : undefined}
      />
      {error ? (
        <span class="field-error" id={`${props.name}-error`}>
          {error}
        </span>
      ) : null}
    </label>
  );
}

/** The audit log for admins: newest first, filtered like the API, paged back, and as CSV. */
export function AuditPage(m: AuditModel) {
  return (
    <Layout title="Audit log" viewer={m.viewer} section="audit">
      <h1>Audit log</h1>
      <form class="report-filter" method="get" action="/audit">
        <Filter label="Who" name="actor" form={m.form} errors={m.errors} />
        <Filter label="Action" name="action" form={m.form} errors={m.errors} hint="e.g. check.update or check.*" list="audit-actions" />
        <Filter label="Target" name="target" form={m.form} errors={m.errors} hint="id or name" />
        <Filter label="From" name="from" form={m.form} errors={m.errors} hint="2026-12-01T00:00:00Z" />
        <Filter label="Until" name="to" form={m.form} errors={m.errors} />
        <datalist id="audit-actions">
          {m.actions.map((a) => (
            <option value={a} />
          ))}
        </datalist>
        <button type="submit">Filter</button>
      </form>
      {Object.keys(m.errors).length > 0 ? (
        <Notice kind="error">Correct the filters marked above.</Notice>
      ) : (
        <p class="muted">
          {m.rows.length === 0 ? 'No changes match.' : `${m.rows.length} change${m.rows.length === 1 ? '' : 's'}, newest first.`}{' '}
          <a href={m.csvHref}>Download as CSV</a> · `rounds-collector audit verify` checks that no row was altered.
        </p>
      )}
      {m.rows.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Change</th>
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            {m.rows.map((r) => (
              <tr>
                <td>
                  <Time ms={r.at} />
                </td>
                <td>{r.actor}</td>
                <td>{r.action}</td>
                <td>{r.target.name ?? r.target.id ?? r.target.kind}</td>
                <td class="summary">{changed(r.before, r.after)}</td>
                <td class="muted">
                  {r.source}
                  {r.address ? ` ${r.address}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {m.older ? <a href={`/audit?${m.older}`}>Older changes →</a> : null}
    </Layout>
  );
}
