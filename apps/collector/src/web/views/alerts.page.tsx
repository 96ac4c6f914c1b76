import type { AlertView } from '../../alerting/alert-views.js';
import type { HistoryLine } from '../../alerting/alerting.service.js';
import { CsrfField, Layout, Notice, Time, type NoticeKind, type Viewer } from './layout.js';

export interface AlertsModel {
  viewer: Viewer | undefined;
  alerts: AlertView[];
  history: HistoryLine[];
  /** Operators and admins with a session (forms need its CSRF token) may acknowledge. */
  canAct: boolean;
  notice?: { kind: NoticeKind; text: string } | undefined;
  /** The alert whose acknowledgement form was refused, with the message beside its comment. */
  refused?: { fingerprint: string; comment: string; message: string } | undefined;
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
