import type { SlaReport } from '../sla-report.service.js';
import { Layout, Notice, Time, type FieldErrors, type Viewer } from './layout.js';

/** What the report form holds, as typed (shown again beside its errors). */
export interface SlaForm {
  month: string;
  by: string;
  key: string;
  tag: string;
  maintenance: string;
}

export interface SlaModel {
  viewer: Viewer | undefined;
  form: SlaForm;
  errors: FieldErrors;
  report: SlaReport | null;
  /** The same report as CSV: the page's query on /api/v1/reports/sla.csv. */
  csvHref: string;
  generatedAt: number;
}

const pct = (v: number | null) => (v === null ? '—' : `${v.toFixed(3)} %`);

function Picked({ value, current, children }: { value: string; current: string; children: string }) {
  return (
    <option value={value} selected={value === current}>
      {children}
    </option>
  );
}

function Input(props: { label: string; name: keyof SlaForm; form: SlaForm; errors: FieldErrors; type?: 'text' | 'month'; hint?: string }) {
  const error = props.errors[props.name];
  const attrs = {
    name: props.name,
    value: props.form[props.name],
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': error ? `${props.name}-error` : undefined,
  };
  return (
    <label>
      {props.label}
      {props.hint ? <span class="hint">{props.hint}</span> : null}
      {props.type === 'month' ? <input type="month" {...attrs} /> : <input type="text" {...attrs} />}
      {error ? (
        <span class="field-error" id={`${props.name}-error`}>
          {error}
        </span>
      ) : null}
    </label>
  );
}

/**
 * The monthly SLA report for people: a form to pick the month, the grouping and a tag, the table,
 * a total, and the same figures as CSV. Printing leaves out the header and the form
 * (stylesheet: @media print), so the browser's Print gives a page to file or sign.
 */
export function SlaPage({ viewer, form, errors, report, csvHref, generatedAt }: SlaModel) {
  const groupName = form.by === 'tag' ? form.key || 'tag' : form.by;
  return (
    <Layout title={report ? `SLA report ${report.month}` : 'SLA report'} viewer={viewer} section="reports">
      <h1>SLA report{report ? ` ${report.month}` : ''}</h1>
      <form class="report-filter" method="get" action="/reports/sla">
        <Input label="Month (UTC)" name="month" type="month" form={form} errors={errors} />
        <label>
          One line per
          <select name="by">
            <Picked value="check" current={form.by}>
              check
            </Picked>
            <Picked value="agent" current={form.by}>
              agent
            </Picked>
            <Picked value="tag" current={form.by}>
              value of a tag
            </Picked>
          </select>
          {errors['by'] ? <span class="field-error">{errors['by']}</span> : null}
        </label>
        <Input label="Tag key" name="key" form={form} errors={errors} hint="with “value of a tag”: site, department…" />
        <Input label="Only checks tagged" name="tag" form={form} errors={errors} hint="key=value, e.g. department=radiology; empty for all" />
        <label>
          Maintenance windows
          <select name="maintenance">
            <Picked value="exclude" current={form.maintenance}>
              left out (planned work is not downtime)
            </Picked>
            <Picked value="include" current={form.maintenance}>
              counted
            </Picked>
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      {Object.keys(errors).length > 0 ? <Notice kind="error">The report could not be made: correct the fields marked above.</Notice> : null}
      {report ? (
        <>
          <p class="muted">
            Calendar month in UTC, one line per {groupName}
            {form.tag ? `, checks tagged ${form.tag}` : ''}; maintenance windows {form.maintenance === 'include' ? 'counted' : 'left out'}. Uptime is OK results
            as a share of all results. Made <Time ms={generatedAt} />.{' '}
            <a class="no-print" href={csvHref}>
              Download as CSV
            </a>
            <span class="no-print"> · print with your browser (Ctrl+P): the header and the form are left out.</span>
          </p>
          {report.rows.length === 0 ? (
            <Notice kind="info">No checks match: nothing to report.</Notice>
          ) : (
            <table class="report">
              <thead>
                <tr>
                  <th>{form.by === 'tag' ? groupName : form.by === 'agent' ? 'Agent' : 'Check'}</th>
                  {form.by === 'check' ? <th>Agent</th> : null}
                  <th class="num">Results</th>
                  <th class="num">OK</th>
                  <th class="num">Warning</th>
                  <th class="num">Critical</th>
                  <th class="num">Unknown</th>
                  <th class="num">Uptime</th>
                  <th class="num">Maintenance</th>
                </tr>
              </thead>
              <tbody>
                {report.rows.map((r) => (
                  <tr>
                    <td>{r.name}</td>
                    {form.by === 'check' ? <td>{r.agent}</td> : null}
                    <td class="num">{r.results}</td>
                    <td class="num">{r.ok}</td>
                    <td class="num">{r.warning}</td>
                    <td class="num">{r.critical}</td>
                    <td class="num">{r.unknown}</td>
                    <td class="num">{pct(r.uptimePercent)}</td>
                    <td class="num">{Math.round(r.maintenanceMs / 60_000)} min</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th>All</th>
                  {form.by === 'check' ? <th /> : null}
                  <th class="num">{report.total.results}</th>
                  <th class="num">{report.total.ok}</th>
                  <th class="num">{report.total.warning}</th>
                  <th class="num">{report.total.critical}</th>
                  <th class="num">{report.total.unknown}</th>
                  <th class="num">{pct(report.total.uptimePercent)}</th>
                  <th class="num">{Math.round(report.total.maintenanceMs / 60_000)} min</th>
                </tr>
              </tfoot>
            </table>
          )}
        </>
      ) : null}
    </Layout>
  );
}
