import type { AlertView } from '../../alerting/alert-views.js';
import type { HistoryLine } from '../../alerting/alerting.service.js';
import { formatMatcher } from '../../alerting/matchers.js';
import { suppressedText } from '../../alerting/engine-dependencies.js';
import type { Silence } from '../../alerting/silences.js';
import { CsrfField, PostButton, Layout, Notice, Time, type FieldErrors, type NoticeKind, type Viewer } from './layout.js';
import { TextField } from './schema-fields.js';

/** The add-silence form as typed (or pre-filled from an alert's labels). */
export interface SilenceForm {
  matchers: string;
  duration: string;
  endsAt: string;
  comment: string;
}

export const EMPTY_SILENCE_FORM: SilenceForm = { matchers: '', duration: '2h', endsAt: '', comment: '' };

/** An alert's labels as silence matchers, one a line: what the "Silence" link pre-fills. */
export function labelMatchers(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([label, value]) => formatMatcher({ label, op: '=', value }))
    .join('\n');
}

export interface AlertsModel {
  viewer: Viewer | undefined;
  alerts: AlertView[];
  history: HistoryLine[];
  /** Operators and admins with a session (forms need its CSRF token) may acknowledge. */
  canAct: boolean;
  notice?: { kind: NoticeKind; text: string } | undefined;
  /** The alert whose acknowledgement form was refused, with the message beside its comment. */
  refused?: { fingerprint: string; comment: string; message: string } | undefined;
  silences: (Silence & { active: boolean })[];
  silenceForm: SilenceForm;
  silenceErrors: FieldErrors;
}

/** How long an acknowledgement holds, as the form offers it. */
export const ACK_FOR: Record<string, { label: string; ms: number | null }> = {
  '1h': { label: 'for 1 hour', ms: 3_600_000 },
  '4h': { label: 'for 4 hours', ms: 4 * 3_600_000 },
  '24h': { label: 'for 24 hours', ms: 86_400_000 },
  resolved: { label: 'until it resolves', ms: null },
};

function muted(a: AlertView): string {
  return a.mutedBy
    .map((m) =>
      m.type === 'maintenance'
        ? `maintenance “${m.name}”`
        : m.type === 'silence'
          ? `silenced by ${m.createdBy}: ${m.comment}`
          : m.type === 'acknowledged'
            ? `acknowledged by ${m.by}`
            : m.type === 'flapping'
              ? 'flapping'
              : m.type === 'dependency'
                ? suppressedText(m)
                : 'its agent is unreachable',
    )
    .join('; ');
}

function AckForm({ a, viewer, refused }: { a: AlertView; viewer: Viewer; refused: AlertsModel['refused'] }) {
  const mine = refused?.fingerprint === a.fingerprint ? refused : undefined;
  const id = `ack-${a.fingerprint}`;
  return (
    <form class="ack" method="post" action={`/alerts/${a.fingerprint}/ack`}>
      <CsrfField token={viewer.csrf} />
      <label>
        Comment
        <input
          type="text"
          name="comment"
          value={mine?.comment ?? ''}
          required
          placeholder="who is on it, or why it can wait"
          aria-invalid={mine ? 'true' : undefined}
          aria-describedby={mine ? `${id}-error` : undefined}
        />
        {mine ? (
          <span class="field-error" id={`${id}-error`}>
            {mine.message}
          </span>
        ) : null}
      </label>
      <label>
        Holds
        <select name="for">
          {Object.entries(ACK_FOR).map(([value, { label }]) => (
            <option value={value}>{label}</option>
          ))}
        </select>
      </label>
      <button type="submit">Acknowledge</button>
    </form>
  );
}

/** Alerts now (firing, pending, resolving), who acknowledged what, and the latest transitions. */
export function AlertsPage(m: AlertsModel) {
  return (
    <Layout title="Alerts" viewer={m.viewer} section="alerts">
      <h1>Alerts</h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.alerts.length === 0 ? (
        <Notice kind="ok">Nothing is firing.</Notice>
      ) : (
        <table class="alerts">
          <thead>
            <tr>
              <th>State</th>
              <th>Alert</th>
              <th>What</th>
              <th>Since</th>
              <th>Acknowledged</th>
            </tr>
          </thead>
          <tbody>
            {m.alerts.map((a) => (
              <tr data-alert={a.fingerprint}>
                <td>
                  <span class={`badge ${a.state === 'firing' ? (a.severity === 'warning' ? 'WARNING' : 'CRITICAL') : 'PENDING'}`}>{a.state.toUpperCase()}</span>
                  {a.severity ? <div class="muted">{a.severity}</div> : null}
                </td>
                <td>
                  {a.labels['check_id'] ? <a href={`/checks/${a.labels['check_id']}`}>{a.name}</a> : a.name}
                  <div class="muted">
                    {a.labels['agent_id'] ? (
                      <a href={`/agents/${a.labels['agent_id']}`}>{a.labels['agent'] ?? a.labels['agent_id']}</a>
                    ) : (
                      (a.labels['agent'] ?? '')
                    )}
                    {a.labels['check'] ? ` › ${a.labels['check']}` : ''}
                  </div>
                </td>
                <td class="summary">
                  {a.summary}
                  {a.mutedBy.length > 0 ? <div class="muted">muted: {muted(a)}</div> : null}
                  {m.canAct && a.state === 'firing' ? (
                    <div>
                      <a href={`/alerts?silence=${encodeURIComponent(a.fingerprint)}#add-silence`}>Silence…</a>
                    </div>
                  ) : null}
                </td>
                <td>
                  <Time ms={a.firedAt ?? a.activeAt} />
                </td>
                <td>
                  {a.ack ? (
                    <>
                      {a.ack.by}: {a.ack.comment}
                      <div class="muted">
                        {a.ack.expiresAt === null ? (
                          'until it resolves'
                        ) : (
                          <>
                            until <Time ms={a.ack.expiresAt} />
                          </>
                        )}
                      </div>
                      {m.canAct && m.viewer ? (
                        <form class="inline" method="post" action={`/alerts/${a.fingerprint}/unack`}>
                          <CsrfField token={m.viewer.csrf} />
                          <button type="submit" class="secondary">
                            Withdraw
                          </button>
                        </form>
                      ) : null}
                    </>
                  ) : m.canAct && m.viewer && a.state === 'firing' ? (
                    <AckForm a={a} viewer={m.viewer} refused={m.refused} />
                  ) : (
                    <span class="muted">no</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Silences m={m} />
      <h2>Latest transitions</h2>
      {m.history.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Alert</th>
              <th>Became</th>
              <th>By</th>
              <th>Comment</th>
            </tr>
          </thead>
          <tbody>
            {m.history.map((h) => (
              <tr>
                <td>
                  <Time ms={h.at} />
                </td>
                <td>{h.alertName}</td>
                <td>{h.transition}</td>
                <td>{h.by ?? ''}</td>
                <td class="summary">{h.comment ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

function SilenceText(props: { label: string; name: keyof SilenceForm; m: AlertsModel; hint?: string; type?: 'text' | 'datetime-local' }) {
  const { m, name, ...rest } = props;
  return <TextField {...rest} name={name} value={m.silenceForm[name]} error={m.silenceErrors[name]} errorId={`silence-${name}`} />;
}

/** Active silences with Expire, and the form that adds one (operators). */
function Silences({ m }: { m: AlertsModel }) {
  const active = m.silences.filter((s) => s.active);
  const error = m.silenceErrors['matchers'];
  return (
    <>
      <h2>Silences</h2>
      {active.length === 0 ? (
        <p class="muted">No active silences.</p>
      ) : (
        <table class="silences">
          <thead>
            <tr>
              <th>Matches</th>
              <th>By</th>
              <th>Comment</th>
              <th>Until</th>
              {m.canAct ? <th /> : null}
            </tr>
          </thead>
          <tbody>
            {active.map((s) => (
              <tr>
                <td>{s.matchers.map(formatMatcher).join(', ')}</td>
                <td>{s.createdBy}</td>
                <td class="summary">{s.comment}</td>
                <td>
                  <Time ms={s.endsAt} />
                </td>
                {m.canAct && m.viewer ? (
                  <td>
                    <PostButton action={`/alerts/silences/${encodeURIComponent(s.id)}/expire`} csrf={m.viewer.csrf} kind="secondary">
                      Expire
                    </PostButton>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.canAct && m.viewer ? (
        <section class="card" id="add-silence">
          <h2>Add silence</h2>
          <form class="stack" method="post" action="/alerts/silences">
            <CsrfField token={m.viewer.csrf} />
            <label>
              Matches
              <span class="hint">one matcher a line, e.g. agent="pacs-01" or check=~"dicom.*"; alerts matching every line stay quiet</span>
              <textarea name="matchers" rows={3} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'silence-matchers-error' : undefined}>
                {m.silenceForm.matchers}
              </textarea>
              {error ? (
                <span class="field-error" id="silence-matchers-error">
                  {error}
                </span>
              ) : null}
            </label>
            <SilenceText label="For" name="duration" m={m} hint="e.g. 30m, 2h, 1d; leave empty to give an end time instead" />
            <SilenceText label="Or until (UTC)" name="endsAt" m={m} type="datetime-local" />
            <SilenceText label="Comment (required)" name="comment" m={m} hint="why, and who is on it" />
            <button type="submit">Add silence</button>
          </form>
        </section>
      ) : null}
    </>
  );
}
