import type { CheckWithStateView } from '../../inventory/checks.service.js';
import type { Incident } from '../../alerting/incidents.js';
import type { MuteReason } from '../../alerting/alerts.js';
import { suppressedText } from '../../alerting/engine-dependencies.js';
import type { History, Series, StateHistory, Uptime } from '../../history/history.service.js';
import { CHART, UPLOT_SCRIPT, UPLOT_STYLESHEET } from '../assets.js';
import { PostButton, Layout, Notice, Time, type NoticeKind, type Viewer } from './layout.js';
import { StatusBadge } from './status.page.js';
import { CHECK_RANGES, type CheckRange, type PageRange } from '../page-range.js';
import { labelText } from '../../shared/labels.js';

const RANGE_NAMES: Record<CheckRange, string> = { '24h': '24 hours', '7d': '7 days', '30d': '30 days' };

/**
 * The range links of a history page at `path`, the current one marked, and a form to choose any
 * other range in the viewer's time zone (filled in by the page script; UTC without it).
 */
export function RangeNav({ path, r }: { path: string; r: PageRange }) {
  return (
    <div class="ranges no-print">
      <nav aria-label="range">
        {(Object.keys(CHECK_RANGES) as CheckRange[]).map((name) => (
          <a href={`${path}?range=${name}`} aria-current={name === r.range ? 'page' : undefined}>
            {RANGE_NAMES[name]}
          </a>
        ))}
      </nav>
      {/* Without a chosen zone the page script puts in the viewer's own, and the shown range's times in it. */}
      <form method="get" action={path} class="range-form" aria-label="choose a range" data-viewer-zone={r.form.zoneChosen ? undefined : ''}>
        <label>
          From{' '}
          <input
            type="datetime-local"
            name="from"
            value={r.form.from}
            required
            data-at={r.range === 'custom' || r.error ? undefined : String(r.from)}
            aria-invalid={r.error ? 'true' : undefined}
            aria-describedby={r.error ? 'range-error' : undefined}
          />
        </label>
        <label>
          to <input type="datetime-local" name="to" value={r.form.to} required data-at={r.range === 'custom' || r.error ? undefined : String(r.to)} />
        </label>
        <label>
          time zone <input type="text" name="tz" value={r.form.tz} size={16} />
        </label>
        <button type="submit" class="secondary">
          Show
        </button>
      </form>
      {r.error ? (
        <p class="field-error" id="range-error">
          Range not shown: {r.error}. The last 24 hours instead.
        </p>
      ) : null}
    </div>
  );
}

/** The range in words: "over the last 30 days", or "from … to …" for a chosen one. */
export function RangeWords({ r }: { r: PageRange }) {
  if (r.range !== 'custom') return <>over the last {RANGE_NAMES[r.range]}</>;
  return (
    <>
      from <Time ms={r.from} /> to <Time ms={r.to} />
    </>
  );
}

/** A chart of a metric series over the range (drawn by the chart script), its name and labels as the heading. */
export function SeriesChart({ series, url }: { series: Series; url: string }) {
  return (
    <>
      <h2>
        {series.name}
        <span class="muted">{labelsOf(series)}</span>
      </h2>
      <div class="chart" data-chart={url} data-unit={series.unit}>
        Chart of {series.name} ({series.unit || 'no unit'}) over the range.
      </div>
    </>
  );
}

export const CHART_ASSETS = { stylesheets: [UPLOT_STYLESHEET.path], scripts: [UPLOT_SCRIPT.path, CHART.path] };
export const CHART_POINTS = 300;
/** State changes listed on a check's page; the API gives more. */
export const STATE_CHANGES_SHOWN = 50;

export interface CheckPageModel {
  viewer: Viewer | undefined;
  check: CheckWithStateView;
  agent: string;
  range: PageRange;
  uptime: Uptime;
  history: History;
  series: Series[];
  incidents: Incident[];
  states: StateHistory;
  recent: { startedAt: number; status: string; durationMs: number; summary: string }[];
  /** What holds the check's new alerts back now: a parent down, its agent unreachable (read fresh, not with the cached range data). */
  suppressedBy: MuteReason[];
  /** What the last action did (saved, paused…), or what "check now" gave. */
  notice?: { kind: NoticeKind; text: string } | undefined;
}

/** An operator's buttons on a check's page: change it, copy it, pause or resume it, run it now, delete it. */
function CheckActions({ m }: { m: CheckPageModel }) {
  const { check } = m;
  const csrf = m.viewer?.csrf ?? '';
  return (
    <div class="actions no-print">
      <a class="button" href={`/checks/${check.id}/edit`}>
        Edit
      </a>
      <a class="button secondary" href={`/checks/new?clone=${check.id}`}>
        Clone
      </a>
      <PostButton action={`/checks/${check.id}/run`} csrf={csrf} kind="secondary" busy="Checking on the agent…">
        Check now
      </PostButton>
      <PostButton action={`/checks/${check.id}/${check.enabled ? 'pause' : 'resume'}`} csrf={csrf} kind="secondary">
        {check.enabled ? 'Pause' : 'Resume'}
      </PostButton>
      <a class="button danger" href={`/checks/${check.id}/delete`}>
        Delete
      </a>
    </div>
  );
}

export function duration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** The range's durations as words: what the chart shows, for a reader without it. */
function latencyText(h: History): string {
  const with_ = h.points.filter((p) => p.results > 0);
  if (with_.length === 0) return 'No results in this range.';
  const results = with_.reduce((n, p) => n + p.results, 0);
  const avg = with_.reduce((n, p) => n + p.durationAvgMs! * p.results, 0) / results;
  const min = Math.min(...with_.map((p) => p.durationMinMs!));
  const max = Math.max(...with_.map((p) => p.durationMaxMs!));
  return `Duration over ${results} results: average ${Math.round(avg)} ms, lowest ${min} ms, highest ${max} ms.`;
}

/**
 * Each time the check's status took a different value in the range, newest first, with how long
 * it kept it — soft states included (the incidents above are the alerts they raised).
 */
function StateHistoryTable({ h, checkId }: { h: StateHistory; checkId: string }) {
  const start = h.start ? (
    <p>
      At the start of the range: <StatusBadge status={h.start.status} /> since <Time ms={h.start.since} />.
    </p>
  ) : null;
  if (h.changes.length === 0) {
    return start ?? <p class="muted">No result in this range or before it.</p>;
  }
  return (
    <>
      {start}
      <table class="states">
        <thead>
          <tr>
            <th>From</th>
            <th>State</th>
            <th>For</th>
            <th>Was</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {h.changes.map((c) => (
            <tr>
              <td>
                <Time ms={c.at} />
              </td>
              <td>
                <StatusBadge status={c.to} />
              </td>
              <td>{c.until === null ? `${duration(Math.max(0, h.to - c.at))}, until now` : duration(c.until - c.at)}</td>
              <td>{c.from ?? 'first result'}</td>
              <td class="summary">{c.reason || c.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {h.more ? (
        <p class="muted">
          Older changes in this range are not listed:{' '}
          <a href={`/api/v1/checks/${checkId}/state-history?from=${h.from}&to=${h.to}&limit=1000`}>all of them as JSON</a>.
        </p>
      ) : null}
    </>
  );
}

const labelsOf = (s: Series) => {
  const text = labelText(s.labels);
  return text === '' ? '' : ` ${text}`;
};

/**
 * One check: its state in words and colour, the range's uptime, the duration chart and one per
 * metric series (drawn by the chart script from the JSON API; their figures as text without it),
 * its incidents and its latest results.
 */
export function CheckPage(m: CheckPageModel) {
  const { check, range } = m;
  const s = check.state;
  const q = `from=${range.from}&to=${range.to}&points=${CHART_POINTS}`;
  return (
    <Layout title={check.name} viewer={m.viewer} section="checks" assets={CHART_ASSETS}>
      <p class="muted">
        <a href="/">Status</a> › {m.agent}
      </p>
      <h1>
        {check.name}
        {check.enabled ? null : <span class="muted"> (paused)</span>}
      </h1>
      {m.notice ? <Notice kind={m.notice.kind}>{m.notice.text}</Notice> : null}
      {m.viewer && m.viewer.role !== 'viewer' && m.viewer.csrf !== '' ? <CheckActions m={m} /> : null}
      <p>
        <StatusBadge status={s?.status ?? 'PENDING'} />
        {s?.stale ? (
          <>
            {' '}
            <StatusBadge status="STALE" />
          </>
        ) : null}{' '}
        {s ? s.summary : 'No result yet.'}
      </p>
      {m.suppressedBy.length > 0 ? (
        <p class="suppressed" role="status">
          No new alerts:{' '}
          {m.suppressedBy
            .map((r) =>
              r.type === 'dependency' ? suppressedText(r) : r.type === 'agent_unreachable' ? `suppressed by agent ${m.agent} (is unreachable)` : r.type,
            )
            .join('; ')}
          .
        </p>
      ) : null}
      <dl class="facts">
        <dt>Agent</dt>
        <dd>{m.agent}</dd>
        <dt>Plugin</dt>
        <dd>{check.plugin}</dd>
        <dt>Every</dt>
        <dd>{duration(check.intervalMs)}</dd>
        <dt>Last result</dt>
        <dd>
          <Time ms={s?.lastResultAt ?? null} />
        </dd>
        <dt>Reason</dt>
        <dd>{s?.reason || '—'}</dd>
        <dt>Depends on</dt>
        <dd>{check.dependsOn.join(', ') || '—'}</dd>
        <dt>Tags</dt>
        <dd>
          {Object.entries(check.effectiveTags)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || '—'}
        </dd>
      </dl>
      <RangeNav path={`/checks/${check.id}`} r={range} />
      <p class="uptime">
        Uptime <RangeWords r={range} />: <strong>{m.uptime.uptimePercent === null ? 'no results' : `${m.uptime.uptimePercent.toFixed(3)} %`}</strong> (
        {m.uptime.ok} of {m.uptime.results} results OK{m.uptime.maintenanceMs > 0 ? `; ${duration(m.uptime.maintenanceMs)} of maintenance left out` : ''}).
      </p>
      <h2>Duration</h2>
      <div class="chart" data-chart={`/api/v1/checks/${check.id}/history?${q}`} data-kind="latency">
        {latencyText(m.history)}
      </div>
      {m.series.slice(0, 8).map((series) => (
        <SeriesChart series={series} url={`/api/v1/checks/${check.id}/series/${series.id}/history?${q}`} />
      ))}
      <h2>Incidents</h2>
      {m.incidents.length === 0 ? (
        <p class="muted">None in this range.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Started</th>
              <th>Ended</th>
              <th>Lasted</th>
              <th>Alert</th>
              <th>Reason</th>
              <th>Acknowledged by</th>
            </tr>
          </thead>
          <tbody>
            {m.incidents.map((i) => (
              <tr>
                <td>
                  <Time ms={i.startedAt} />
                </td>
                <td>{i.endedAt === null ? 'still firing' : <Time ms={i.endedAt} />}</td>
                <td>{duration(i.durationMs)}</td>
                <td>
                  {i.alert}
                  {i.severity ? ` (${i.severity})` : ''}
                </td>
                <td class="summary">{i.reason ?? ''}</td>
                <td>{i.acknowledgedBy ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>State history</h2>
      <StateHistoryTable h={m.states} checkId={check.id} />
      <h2>Latest results</h2>
      <table>
        <thead>
          <tr>
            <th>Started</th>
            <th>Status</th>
            <th>Took</th>
            <th>Summary</th>
          </tr>
        </thead>
        <tbody>
          {m.recent.map((r) => (
            <tr>
              <td>
                <Time ms={r.startedAt} />
              </td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>{r.durationMs} ms</td>
              <td class="summary">{r.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
