import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { Tags } from '../../shared/tags.js';

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
  agentId: string;
  agent: string;
  plugin: string;
  status: string;
  summary: string;
  lastResultAt: number | null;
  enabled: boolean;
  /** Why the status is old news (agent DOWN, results overdue); null when it is current. */
  stale: string | null;
  /** The agent's tags with the check's own over them. */
  tags: Tags;
}

export interface StatusPageModel {
  version: string;
  now: number;
  agents: StatusPageAgent[];
  checks: StatusPageCheck[];
}

/** How the board is cut into sections: not at all, by agent, by plugin, or by the value of one tag. */
export type Grouping = { by: 'none' } | { by: 'agent' } | { by: 'plugin' } | { by: 'tag'; key: string };

/** What the board shows: the model's checks already filtered, in sections. */
export interface BoardSection {
  /** '' when the board is not grouped. */
  title: string;
  checks: StatusPageCheck[];
}

export function ago(now: number, at: number | null): string {
  if (at === null) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export const STATUSES = ['CRITICAL', 'WARNING', 'UNKNOWN', 'PENDING', 'OK'] as const;

/** A shape beside each status word, so a state never rests on colour alone (colour-blind staff, black-and-white printouts). */
const ICONS: Record<string, string> = { OK: '✓', WARNING: '▲', CRITICAL: '✕', UNKNOWN: '?', PENDING: '…', STALE: '◷', UP: '✓', DOWN: '✕' };

/** A status as a badge: its icon (hidden from screen readers, which read the word) and its word. */
export function StatusBadge({ status, title }: { status: string; title?: string | undefined }) {
  const icon = ICONS[status];
  return (
    <span class={`badge ${status}`} title={title}>
      {icon ? <span aria-hidden="true">{icon} </span> : null}
      {status}
    </span>
  );
}

/** Worst first, then by name: what needs someone comes to the top. */
export function boardOrder(a: StatusPageCheck, b: StatusPageCheck): number {
  const rank = (c: StatusPageCheck) => {
    const i = (STATUSES as readonly string[]).indexOf(c.status);
    return i < 0 ? 0 : i;
  };
  return rank(a) - rank(b) || Number(!!b.stale) - Number(!!a.stale) || a.name.localeCompare(b.name) || a.agent.localeCompare(b.agent);
}

/** The checks in sections by `grouping`, each section worst first; sections by name, "(no tag)" last. */
export function sectionsOf(checks: readonly StatusPageCheck[], grouping: Grouping): BoardSection[] {
  const sorted = [...checks].sort(boardOrder);
  if (grouping.by === 'none') return [{ title: '', checks: sorted }];
  const untagged = `(no ${grouping.by === 'tag' ? grouping.key : grouping.by})`;
  const titleOf = (c: StatusPageCheck) => (grouping.by === 'agent' ? c.agent : grouping.by === 'plugin' ? c.plugin : (c.tags[grouping.key] ?? untagged));
  const sections = new Map<string, StatusPageCheck[]>();
  for (const c of sorted) {
    const title = titleOf(c);
    const list = sections.get(title);
    if (list) list.push(c);
    else sections.set(title, [c]);
  }
  return [...sections]
    .sort(([a], [b]) => Number(a === untagged) - Number(b === untagged) || a.localeCompare(b))
    .map(([title, list]) => ({ title, checks: list }));
}

function countsOf(checks: readonly StatusPageCheck[]): { byStatus: Map<string, number>; stale: number } {
  const byStatus = new Map<string, number>();
  let stale = 0;
  for (const c of checks) {
    byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
    if (c.stale) stale += 1;
  }
  return { byStatus, stale };
}

/** An agent that is not UP: what it is, since when, and its last error in words. */
export function AgentCard({ a, age }: { a: StatusPageAgent; age: string }) {
  return (
    <li class="tile" data-agent={a.id}>
      <StatusBadge status={a.state} />
      <a class="name" href={`/agents/${a.id}`}>
        {a.name}
      </a>
      <span class="muted">
        {a.address} · {a.checks} check{a.checks === 1 ? '' : 's'}
      </span>
      <span class="summary">{a.lastError ?? ''}</span>
      <span class="age">last seen {age}</span>
    </li>
  );
}

/** One check on the board: its status in text and icon, its name (a link), where it runs, what it said and when. */
export function CheckCard({ c, age }: { c: StatusPageCheck; age: string }) {
  return (
    <li class={`tile s-${c.status}${c.stale ? ' stale' : ''}`} data-check={c.id}>
      <span>
        <StatusBadge status={c.status} />
        {c.stale ? (
          <>
            {' '}
            <StatusBadge status="STALE" title={c.stale} />
          </>
        ) : null}
      </span>
      <a class="name" href={`/checks/${c.id}`}>
        {c.name}
      </a>
      <span class="muted">
        {c.agent} · {c.plugin}
        {c.enabled ? '' : ' · paused'}
      </span>
      <span class="summary">
        {c.summary}
        {c.stale ? (
          <>
            <br />
            <span class="muted">stale: {c.stale}</span>
          </>
        ) : null}
      </span>
      <span class="age">{age}</span>
    </li>
  );
}

/**
 * The live part of the dashboard: counts of what is shown, the agents that are not UP, and the
 * checks in sections — the cards given (rendered cards, or a mark per list where they go).
 */
export function Board(props: {
  model: StatusPageModel;
  shown: readonly StatusPageCheck[];
  sections: readonly BoardSection[];
  downAgents: readonly StatusPageAgent[];
  agentCards: ComponentChildren;
  sectionCards: (section: BoardSection, index: number) => ComponentChildren;
  /** Where the board fetches itself again when the server says something changed (htmx + SSE); its filters included. */
  refreshUrl: string;
}) {
  const { model, shown } = props;
  const { byStatus, stale } = countsOf(shown);
  const up = model.agents.filter((a) => a.state === 'UP').length;
  return (
    <div id="board" hx-get={props.refreshUrl} hx-trigger="sse:status" hx-swap="outerHTML">
      <p class="counts" aria-label="checks shown by status">
        {STATUSES.map((s) => (
          <span>
            <StatusBadge status={s} /> {byStatus.get(s) ?? 0}
          </span>
        ))}
        {stale > 0 ? (
          <span>
            <StatusBadge status="STALE" /> {stale} (counted above by their last status)
          </span>
        ) : null}
        <span class="muted">
          {shown.length === model.checks.length ? `${shown.length} check${shown.length === 1 ? '' : 's'}` : `${shown.length} of ${model.checks.length} checks`}{' '}
          · {up} of {model.agents.length} agents up · collector {model.version}
        </span>
      </p>
      {model.agents.length === 0 ? (
        <p class="muted">
          No agents yet. On the machine to watch: <code>rounds-agent init --config agent.yaml</code>, then here:{' '}
          <code>rounds-collector agent add --name NAME --enrol STRING</code>.
        </p>
      ) : null}
      {props.downAgents.length > 0 ? (
        <section aria-labelledby="agents-down">
          <h2 id="agents-down">Agents not up ({props.downAgents.length})</h2>
          <ul class="tiles">{props.agentCards}</ul>
        </section>
      ) : null}
      {model.checks.length === 0 ? (
        <p class="muted">
          No checks yet: add one with <code>POST /api/v1/checks</code> or <code>rounds-collector check add</code>.
        </p>
      ) : shown.length === 0 ? (
        <p class="muted">No check matches these filters.</p>
      ) : (
        props.sections.map((section, i) => (
          <section aria-label={section.title || 'checks'}>
            {section.title ? (
              <h2>
                {section.title} <span class="muted">({section.checks.length})</span>
              </h2>
            ) : null}
            <ul class="tiles">{props.sectionCards(section, i)}</ul>
          </section>
        ))
      )}
    </div>
  );
}

/** A card's markup without its age, cut where the age goes; `row` is the data it was rendered from. */
interface CachedCard {
  row: string;
  parts: readonly [string, string] | null;
}

/** Where a list's cards go in the board (a control character no rendered text contains: preact passes it through). */
const CARDS_MARK = '\u0000cards\u0000';
/** Where a card's age goes: the one text that changes every second. */
const AGE_MARK = '\u0000age\u0000';

/** What a board shows: which checks, in which sections, with which link to refresh it. */
export interface BoardView {
  shown: readonly StatusPageCheck[];
  sections: readonly BoardSection[];
  refreshUrl: string;
}

/**
 * Renders the board. It shows ages ("12 s ago"), so it is rebuilt every second while anything
 * looks at it; rendering 2,000 cards through preact every second would cost most of a core for
 * markup that did not change. Each card is rendered once per change of its data, with a mark
 * where its age goes, and the board is put together from those pieces and the ages — the same
 * bytes as rendering it whole (a spec compares the two).
 */
export class StatusContentRenderer {
  private cards = new Map<string, CachedCard>();
  private next = new Map<string, CachedCard>();

  render(model: StatusPageModel, view: BoardView): string {
    const downAgents = model.agents.filter((a) => a.state !== 'UP');
    const lists = [
      ...(downAgents.length > 0
        ? [
            this.cardsOf(
              model.now,
              'agent',
              downAgents,
              (a) => a.lastSeenAt,
              (a, age) => <AgentCard a={a} age={age} />,
            ),
          ]
        : []),
      ...(model.checks.length > 0 && view.shown.length > 0
        ? view.sections.map((s) =>
            this.cardsOf(
              model.now,
              'check',
              s.checks,
              (c) => c.lastResultAt,
              (c, age) => <CheckCard c={c} age={age} />,
            ),
          )
        : []),
    ];
    const frame = renderToString(
      <Board
        model={model}
        shown={view.shown}
        sections={view.sections}
        downAgents={downAgents}
        agentCards={CARDS_MARK}
        sectionCards={() => CARDS_MARK}
        refreshUrl={view.refreshUrl}
      />,
    ).split(CARDS_MARK);
    return frame.reduce((out, piece, i) => out + (i === 0 ? '' : lists[i - 1]!) + piece, '');
  }

  /**
   * Ends one round of renders (one model version and second, every filter rendered in it): the
   * cards no render used are forgotten.
   */
  endRound(): void {
    this.cards = this.next;
    this.next = new Map();
  }

  private cardsOf<T extends { id: string }>(
    now: number,
    kind: string,
    items: readonly T[],
    at: (item: T) => number | null,
    render: (item: T, age: string) => preact.VNode,
  ): string {
    let out = '';
    for (const item of items) {
      const key = `${kind}:${item.id}`;
      const row = JSON.stringify(item);
      let cached = this.next.get(key) ?? this.cards.get(key);
      if (cached?.row !== row) {
        const cut = renderToString(render(item, AGE_MARK)).split(AGE_MARK);
        // Data holding the mark itself cannot be cut safely: that card is rendered whole every time.
        cached = { row, parts: cut.length === 2 ? [cut[0]!, cut[1]!] : null };
      }
      this.next.set(key, cached);
      const age = ago(now, at(item));
      out += cached.parts ? cached.parts[0] + age + cached.parts[1] : renderToString(render(item, age));
    }
    return out;
  }
}

/** Every check, ungrouped, refreshed from `/status/board`: the board as a spec renders it in one call. */
export function renderStatusContent(model: StatusPageModel, grouping: Grouping = { by: 'none' }): string {
  return new StatusContentRenderer().render(model, { shown: model.checks, sections: sectionsOf(model.checks, grouping), refreshUrl: '/status/board' });
}
