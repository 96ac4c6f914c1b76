import { StatusBadge } from './status.page.js';
import type { AgentView } from '../../inventory/agents.service.js';
import type { CheckWithStateView } from '../../inventory/checks.service.js';
import type { Series } from '../../history/history.service.js';
import { CHART_ASSETS, CHART_POINTS, RangeNav, SeriesChart, duration } from './check.page.js';
import type { PageRange } from '../page-range.js';
import { Layout, Notice, PostButton, Time, type NoticeKind, type Viewer } from './layout.js';

export interface AgentPageModel {
  viewer: Viewer | undefined;
  agent: AgentView;
  checks: CheckWithStateView[];
  /** The host metrics to chart, in the order shown. */
  series: Series[];
  range: PageRange;
  notice?: { kind: NoticeKind; text: string } | undefined;
}

/** The host metrics worth a chart first, by metric name; the rest of an agent's series follow by name. */
const HOST_METRICS_FIRST = [
  'cpu_usage_ratio',
  'memory_used_ratio',
  'load1',
  'filesystem_used_ratio',
  'network_receive_bytes_per_second',
  'network_transmit_bytes_per_second',
];

/** At most `max` of an agent's host-metric series, the telling ones first. */
export function hostChartSeries(all: readonly Series[], max = 10): Series[] {
  const rank = (s: Series) => {
    const i = HOST_METRICS_FIRST.indexOf(s.name);
    return i < 0 ? HOST_METRICS_FIRST.length : i;
  };
  return [...all].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, max);
}

const bytes = (n: number | undefined) => (n === undefined ? '—' : n < 1024 * 1024 ? `${Math.round(n / 1024)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

/** One agent: its state and last error in words, what it runs, its checks, and its host metrics over the range. */
export function AgentPage(m: AgentPageModel) {
  const { agent: a } = m;
  const health = (a.health ?? {}) as { spoolDepth?: number; spoolBytes?: number; rssBytes?: number; uptimeSeconds?: number };
  const q = `from=${m.range.from}&to=${m.range.to}&points=${CHART_POINTS}`;
  return (
    <Layout title={a.name} viewer={m.viewer} section="agents" assets={CHART_ASSETS}>
      <p class="muted">
        <a href="/agents">Agents</a> › {a.name}
      </p>
      <h1>{a.name}</h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.viewer && m.viewer.role !== 'viewer' && m.viewer.csrf !== '' ? (
        <div class="actions no-print">
          <a class="button" href={`/checks/new?agent=${encodeURIComponent(a.name)}`}>
            Add a check
          </a>
          <PostButton action={`/agents/${a.id}/rotate-token`} csrf={m.viewer.csrf} kind="secondary" busy="Contacting the agent…">
            Rotate token
          </PostButton>
          <a class="button danger" href={`/agents/${a.id}/delete`}>
            Delete
          </a>
        </div>
      ) : null}
      <p>
        <span class={`badge ${a.state}`}>{a.state}</span> {a.lastError ? a.lastError : a.state === 'UP' ? 'answering its polls' : 'not polled yet'}
      </p>
      <dl class="facts">
        <dt>Address</dt>
        <dd>
          {a.host}:{a.port}
        </dd>
        <dt>Last seen</dt>
        <dd>
          <Time ms={a.lastSeenAt} />
        </dd>
        {a.polledBy !== null ? (
          <>
            <dt>Polled by</dt>
            <dd>collector {a.polledBy}</dd>
          </>
        ) : null}
        <dt>Version</dt>
        <dd>
          {a.agent ? `${a.agent.version} on ${a.agent.hostname} (${a.agent.os}, ${a.agent.arch})` : 'not described yet'}
          {a.versionSkew ? (
            <>
              {' '}
              <StatusBadge status="WARNING" /> {a.versionSkew.message}
            </>
          ) : null}
        </dd>
        <dt>Plugins</dt>
        <dd>{a.agent ? a.agent.plugins.map((p) => `${p.name} ${p.version}`).join(', ') : '—'}</dd>
        <dt>Spool</dt>
        <dd>
          {health.spoolDepth === undefined ? '—' : `${health.spoolDepth} results waiting (${bytes(health.spoolBytes)})`}
          {a.dropped > 0 ? `; ${a.dropped} discarded` : ''}
        </dd>
        <dt>Agent memory</dt>
        <dd>
          {bytes(health.rssBytes)}
          {health.uptimeSeconds === undefined ? '' : `, up ${duration(health.uptimeSeconds * 1000)}`}
        </dd>
        <dt>Tags</dt>
        <dd>
          {Object.entries(a.tags)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || '—'}
        </dd>
        <dt>Certificate</dt>
        <dd class="summary">
          <code>{a.fingerprint}</code>
        </dd>
      </dl>
      <h2>Checks</h2>
      {m.checks.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Status</th>
              <th>Check</th>
              <th>Plugin</th>
              <th>Summary</th>
            </tr>
          </thead>
          <tbody>
            {m.checks.map((c) => (
              <tr>
                <td>
                  <StatusBadge status={c.state?.status ?? 'PENDING'} />
                </td>
                <td>
                  <a href={`/checks/${c.id}`}>{c.name}</a>
                </td>
                <td>{c.plugin}</td>
                <td class="summary">{c.state?.summary ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Host metrics</h2>
      <RangeNav path={`/agents/${a.id}`} r={m.range} />
      {m.series.length === 0 ? (
        <p class="muted">No host metrics: add a host-metrics check to this agent to chart its CPU, memory, disks and network.</p>
      ) : (
        m.series.map((s) => <SeriesChart series={s} url={`/api/v1/agents/${a.id}/series/${s.id}/history?${q}`} />)
      )}
    </Layout>
  );
}
