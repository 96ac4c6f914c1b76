import { StatusBadge } from './status.page.js';
import type { CheckWithStateView } from '../../inventory/checks.service.js';
import type { CheckFilter } from '../check-filter.js';
import { CheckFilterFields } from './check-filter-fields.js';
import { tagsInline } from '../form-tags.js';
import { Layout, Notice, Time, type FieldErrors, type Viewer } from './layout.js';

export interface ChecksModel {
  viewer: Viewer | undefined;
  filter: CheckFilter;
  errors: FieldErrors;
  rows: (CheckWithStateView & { agentName: string })[];
  /** How many match, over every page. */
  total: number;
  page: number;
  pages: number;
  agents: string[];
  plugins: string[];
  /** What the last action did (a deleted check). */
  notice?: string | undefined;
  /** The filter as a query string, to page with. */
  query: string;
}

/** Every check, searched and filtered on the server, a page at a time. */
export function ChecksPage(m: ChecksModel) {
  const f = m.filter;
  const at = (page: number) => `/checks?${m.query}${m.query ? '&' : ''}page=${page}`;
  return (
    <Layout title="Checks" viewer={m.viewer} section="checks">
      <h1>Checks</h1>
      {m.notice ? <Notice kind="ok">{m.notice}</Notice> : null}
      {m.viewer && m.viewer.role !== 'viewer' && m.viewer.csrf !== '' ? (
        <p>
          <a class="button" href="/checks/new">
            Add a check
          </a>
        </p>
      ) : null}
      <form class="report-filter" method="get" action="/checks">
        <CheckFilterFields filter={f} errors={m.errors} agents={m.agents} plugins={m.plugins} />
        <button type="submit">Filter</button>
      </form>
      <p class="muted">
        {m.total} check{m.total === 1 ? '' : 's'}
        {m.pages > 1 ? `, page ${m.page} of ${m.pages}` : ''}.
      </p>
      {m.rows.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>Status</th>
              <th>Check</th>
              <th>Agent</th>
              <th>Plugin</th>
              <th>Summary</th>
              <th>Last result</th>
              <th>Tags</th>
            </tr>
          </thead>
          <tbody>
            {m.rows.map((c) => (
              <tr class={c.state?.stale ? 'stale' : undefined}>
                <td>
                  <StatusBadge status={c.state?.status ?? 'PENDING'} />
                  {c.state?.stale ? (
                    <>
                      {' '}
                      <span class="badge STALE">STALE</span>
                    </>
                  ) : null}
                </td>
                <td>
                  <a href={`/checks/${c.id}`}>{c.name}</a>
                  {c.enabled ? null : <span class="muted"> (paused)</span>}
                </td>
                <td>
                  <a href={`/agents/${c.agentId}`}>{c.agentName}</a>
                </td>
                <td>{c.plugin}</td>
                <td class="summary">{c.state?.summary ?? ''}</td>
                <td>
                  <Time ms={c.state?.lastResultAt ?? null} />
                </td>
                <td class="muted">{tagsInline(c.effectiveTags)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <nav class="ranges" aria-label="pages">
        {m.page > 1 ? <a href={at(m.page - 1)}>← Previous</a> : null}
        {m.page < m.pages ? <a href={at(m.page + 1)}>Next →</a> : null}
      </nav>
    </Layout>
  );
}
