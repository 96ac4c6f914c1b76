import type { ComponentChildren } from 'preact';
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

export function ago(now: number, at: number | null): string {
  if (at === null) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

const STATUSES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN', 'PENDING'];

/** Where the rows go in the frame (a control character no rendered text contains: preact passes it through as it is). */
const ROWS_MARK = '\u0000rows\u0000';
/** Where a row's age goes: the one cell that changes every second. */
const AGE_MARK = '\u0000age\u0000';

export function AgentRow({ a, age }: { a: StatusPageAgent; age: string }) {
  return (
    <tr data-agent={a.id}>
      <td>
        <span class={`badge ${a.state}`}>{a.state}</span>
      </td>
      <td>
        <a href={`/agents/${a.id}`}>{a.name}</a>
      </td>
      <td>{a.address}</td>
      <td>{a.checks}</td>
      <td>{age}</td>
      <td class="summary">{a.lastError ?? ''}</td>
    </tr>
  );
}

export function CheckRow({ c, age }: { c: StatusPageCheck; age: string }) {
  return (
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
        <a href={`/checks/${c.id}`}>{c.name}</a>
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
      <td>{age}</td>
    </tr>
  );
}

/** The content: counts and the two tables, with the rows given (rendered rows, or a mark where they go). */
export function StatusFrame({ model, agentRows, checkRows }: { model: StatusPageModel; agentRows: ComponentChildren; checkRows: ComponentChildren }) {
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
          <tbody>{agentRows}</tbody>
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
          <tbody>{checkRows}</tbody>
        </table>
      )}
    </>
  );
}

/** A row's markup without its age, cut where the age goes; `row` is what it was rendered from. */
interface CachedRow {
  row: string;
  parts: readonly [string, string] | null;
}

/**
 * Renders the status page's content. The page shows ages ("12 s ago"), so it is rebuilt every
 * second; rendering 2,000 rows through preact every second would cost most of a core's time for
 * markup that did not change. Each row is rendered once per change of its data, with a mark
 * where its age goes, and the page is put together from those pieces and the ages — the same
 * bytes as rendering it whole (a spec compares the two).
 */
export class StatusContentRenderer {
  private rows = new Map<string, CachedRow>();

  render(model: StatusPageModel): string {
    const next = new Map<string, CachedRow>();
    const rowsOf = <T extends { id: string }>(
      kind: string,
      items: readonly T[],
      at: (item: T) => number | null,
      render: (item: T, age: string) => preact.VNode,
    ) =>
      items
        .map((item) => {
          const key = `${kind}:${item.id}`;
          const row = JSON.stringify(item);
          let cached = this.rows.get(key);
          if (cached?.row !== row) {
            const html = renderToString(render(item, AGE_MARK));
            const cut = html.split(AGE_MARK);
            // Data holding the mark itself cannot be cut safely: that row is rendered whole every time.
            cached = { row, parts: cut.length === 2 ? [cut[0]!, cut[1]!] : null };
          }
          next.set(key, cached);
          const age = ago(model.now, at(item));
          return cached.parts ? cached.parts[0] + age + cached.parts[1] : renderToString(render(item, age));
        })
        .join('');
    const agents = rowsOf(
      'agent',
      model.agents,
      (a) => a.lastSeenAt,
      (a, age) => <AgentRow a={a} age={age} />,
    );
    const checks = rowsOf(
      'check',
      model.checks,
      (c) => c.lastResultAt,
      (c, age) => <CheckRow c={c} age={age} />,
    );
    this.rows = next;
    const frame = renderToString(<StatusFrame model={model} agentRows={ROWS_MARK} checkRows={ROWS_MARK} />).split(ROWS_MARK);
    // The frame has a rows mark per non-empty table: agents' first, then checks'.
    const fill = [...(model.agents.length > 0 ? [agents] : []), ...(model.checks.length > 0 ? [checks] : [])];
    return frame.reduce((out, piece, i) => out + (i === 0 ? '' : fill[i - 1]!) + piece, '');
  }
}

/** The whole content at once (specs; the service keeps a renderer and its cached rows). */
export function renderStatusContent(model: StatusPageModel): string {
  return new StatusContentRenderer().render(model);
}
