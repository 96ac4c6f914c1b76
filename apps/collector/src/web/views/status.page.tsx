import { renderToString } from 'preact-render-to-string';

export interface StatusPageAgent {
  id: string;
  name: string;
  address: string;
  state: string;
  lastSeenAt: number | null;
  lastError: string | null;
  checks: number;
}

export interface StatusPageCheck {
  id: string;
  name: string;
  agent: string;
  plugin: string;
  status: string;
  summary: string;
  lastResultAt: number | null;
  enabled: boolean;
  /** Why the status is old news (agent DOWN, results overdue); null when it is current. */
  stale: string | null;
}

export interface StatusPageModel {
  version: string;
  now: number;
  agents: StatusPageAgent[];
  checks: StatusPageCheck[];
}

function ago(now: number, at: number | null): string {
  if (at === null) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

const STATUSES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN', 'PENDING'];

/** Agents and checks with their state: the status page's content, the same for every viewer (cached by StatusPageService). */
export function StatusContent({ model }: { model: StatusPageModel }) {
  const counts = new Map<string, number>();
  for (const c of model.checks) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const stale = model.checks.filter((c) => c.stale).length;
  return (
    <>
      <p class="counts">
        {STATUSES.map((s) => (
          <span>
            <span class={`badge ${s}`}>{s}</span> {counts.get(s) ?? 0}
          </span>
        ))}
        {stale > 0 ? (
          <span>
            <span class="badge STALE">STALE</span> {stale} (counted above by their last status)
          </span>
        ) : null}
        <span class="muted">collector {model.version}</span>
      </p>
      <h2>Agents ({model.agents.length})</h2>
      {model.agents.length === 0 ? (
        <p class="muted">
          No agents yet. On the machine to watch: <code>rounds-agent init --config agent.yaml</code>, then here:{' '}
          <code>rounds-collector agent add --name NAME --enrol STRING</code>.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>State</th>
              <th>Agent</th>
              <th>Address</th>
              <th>Checks</th>
              <th>Last seen</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {model.agents.map((a) => (
              <tr data-agent={a.id}>
                <td>
                  <span class={`badge ${a.state}`}>{a.state}</span>
                </td>
                <td>{a.name}</td>
                <td>{a.address}</td>
                <td>{a.checks}</td>
                <td>{ago(model.now, a.lastSeenAt)}</td>
                <td class="summary">{a.lastError ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Checks ({model.checks.length})</h2>
      {model.checks.length === 0 ? (
        <p class="muted">
          No checks yet: add one with <code>POST /api/v1/checks</code> or <code>rounds-collector check add</code>.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Status</th>
              <th>Check</th>
              <th>Agent</th>
              <th>Plugin</th>
              <th>Summary</th>
              <th>Last result</th>
            </tr>
          </thead>
          <tbody>
            {model.checks.map((c) => (
              <tr data-check={c.id} class={c.stale ? 'stale' : undefined}>
                <td>
                  <span class={`badge ${c.status}`}>{c.status}</span>
                  {c.stale ? (
                    <>
                      {' '}
                      <span class="badge STALE" title={c.stale}>
                        STALE
                      </span>
                    </>
                  ) : null}
                </td>
                <td>
                  {c.name}
                  {c.enabled ? null : <span class="muted"> (disabled)</span>}
                </td>
                <td>{c.agent}</td>
                <td>{c.plugin}</td>
                <td class="summary">
                  {c.summary}
                  {c.stale ? (
                    <>
                      <br />
                      <span class="muted">stale: {c.stale}</span>
                    </>
                  ) : null}
                </td>
                <td>{ago(model.now, c.lastResultAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function renderStatusContent(model: StatusPageModel): string {
  return renderToString(<StatusContent model={model} />);
}
