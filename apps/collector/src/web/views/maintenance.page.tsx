import { formatMatcher } from '../../alerting/matchers.js';
import type { MaintenanceWindow } from '../../alerting/maintenance.js';
import { WEEKDAYS } from '../../alerting/maintenance.js';
import { CsrfField, PostButton, Layout, Notice, Time, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';
import { TextField } from './schema-fields.js';

/** The form as typed, shown again beside its errors. */
export interface MaintenanceForm {
  name: string;
  kind: string;
  timeZone: string;
  startsAt: string;
  endsAt: string;
  start: string;
  end: string;
  days: string[];
  matchers: string;
  comment: string;
}

export const EMPTY_MAINTENANCE_FORM: MaintenanceForm = {
  name: '',
  kind: 'once',
  timeZone: 'UTC',
  startsAt: '',
  endsAt: '',
  start: '',
  end: '',
  days: [],
  matchers: '',
  comment: '',
};

export interface MaintenanceModel {
  viewer: Viewer | undefined;
  windows: (MaintenanceWindow & { open: boolean; next: { start: number; end: number } | null })[];
  canAct: boolean;
  form: MaintenanceForm;
  errors: FieldErrors;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

function when(w: MaintenanceWindow) {
  if (w.kind === 'once') {
    return (
      <>
        <Time ms={w.startsAt} /> – <Time ms={w.endsAt} />
      </>
    );
  }
  return `${w.kind === 'daily' ? 'every day' : w.days.join(', ')} ${w.start}–${w.end} (${w.timeZone})`;
}

function Text(props: { label: string; name: keyof MaintenanceForm; m: MaintenanceModel; hint?: string; type?: 'text' | 'datetime-local' | 'time' }) {
  const { m, name, ...rest } = props;
  return <TextField {...rest} name={name} value={m.form[name] as string} error={m.errors[name]} errorId={name} />;
}

/** Maintenance windows: planned work that mutes alerts and is left out of uptime. */
export function MaintenancePage(m: MaintenanceModel) {
  const f = m.form;
  return (
    <Layout title="Maintenance" viewer={m.viewer} section="maintenance">
      <h1>Maintenance windows</h1>
      <p class="muted">While a window is open, the alerts of the checks it matches stay quiet, and that time is left out of their uptime and SLA figures.</p>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.windows.length === 0 ? (
        <p class="muted">No windows.</p>
      ) : (
        <table class="windows">
          <thead>
            <tr>
              <th>Name</th>
              <th>When</th>
              <th>Applies to</th>
              <th>Now</th>
              <th>Comment</th>
              {m.canAct ? <th /> : null}
            </tr>
          </thead>
          <tbody>
            {m.windows.map((w) => (
              <tr>
                <td>{w.name}</td>
                <td>{when(w)}</td>
                <td>{w.matchers.length === 0 ? 'every check and agent' : w.matchers.map(formatMatcher).join(', ')}</td>
                <td>
                  {w.open ? (
                    <span class="badge PENDING">OPEN</span>
                  ) : w.next ? (
                    <>
                      next <Time ms={w.next.start} />
                    </>
                  ) : (
                    'over'
                  )}
                </td>
                <td class="summary">{w.comment ?? ''}</td>
                {m.canAct && m.viewer ? (
                  <td>
                    <PostButton action={`/maintenance/${encodeURIComponent(w.id)}/delete`} csrf={m.viewer.csrf} kind="danger">
                      Delete
                    </PostButton>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.canAct && m.viewer ? (
        <section class="card">
          <h2>Add a window</h2>
          <form class="stack" method="post" action="/maintenance">
            <CsrfField token={m.viewer.csrf} />
            <Text label="Name" name="name" m={m} hint="e.g. PACS upgrade" />
            <label>
              Kind
              <select name="kind">
                {['once', 'daily', 'weekly'].map((k) => (
                  <option value={k} selected={f.kind === k}>
                    {k}
                  </option>
                ))}
              </select>
            </label>
            <Text label="Time zone" name="timeZone" m={m} hint="IANA name, e.g. Europe/Berlin; the times below are in it" />
            <Text label="Starts (once)" name="startsAt" m={m} type="datetime-local" />
            <Text label="Ends (once)" name="endsAt" m={m} type="datetime-local" />
            <Text label="From (daily, weekly)" name="start" m={m} type="time" hint="an end at or before the start closes the next day" />
            <Text label="To (daily, weekly)" name="end" m={m} type="time" />
            <fieldset>
              <legend>Days (weekly)</legend>
              {WEEKDAYS.map((d) => (
                <label class="inline">
                  <input type="checkbox" name="days" value={d} checked={f.days.includes(d)} /> {d}
                </label>
              ))}
              {m.errors['days'] ? <span class="field-error">{m.errors['days']}</span> : null}
            </fieldset>
            <label>
              Applies to
              <span class="hint">one matcher a line, e.g. agent="pacs-01" or plugin="dicom-echo"; empty for everything</span>
              <textarea name="matchers" rows={3} aria-invalid={m.errors['matchers'] ? 'true' : undefined}>
                {f.matchers}
              </textarea>
              {m.errors['matchers'] ? <span class="field-error">{m.errors['matchers']}</span> : null}
            </label>
            <Text label="Comment" name="comment" m={m} />
            <button type="submit">Add window</button>
          </form>
        </section>
      ) : null}
    </Layout>
  );
}
