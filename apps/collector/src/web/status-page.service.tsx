import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { renderToString } from 'preact-render-to-string';
import { CHECK_STATUSES, ROUNDS_VERSION, type Clock } from '#rounds/common';
import { validateWith } from '#rounds/plugins';
import { CurrentState, type Freshness } from '../state/current-state.js';
import { CLOCK } from '../shared/tokens.js';
import { tagKeyParam } from '../shared/tags.js';
import { checkMatcher, filterQuery, readCheckFilter } from './check-filter.js';
import { formText } from './page-response.js';
import { DashboardControls, type DashboardQuery } from './views/dashboard.page.js';
import { sectionsOf, StatusContentRenderer, type Grouping, type StatusPageModel } from './views/status.page.js';
import type { FieldErrors } from './views/layout.js';

/** Rendered content, encoded once, with the entity tag of its bytes. */
export interface RenderedPage {
  body: Buffer;
  etag: string;
  /** 400 when a filter could not be read (the page says which, beside it), else 200. */
  status: number;
}

/** Distinct filters kept rendered within one model version and second (a wall of screens mostly shares one or two). */
const MAX_KEPT = 64;

export function readDashboardQuery(query: unknown): DashboardQuery {
  return { ...readCheckFilter(query), group: formText(query, 'group', 60) };
}

/**
 * The dashboard from the read model. It shows ages ("12 s ago"), so what it renders holds for
 * one version of the model within one second; a board reloaded by many screens at once is
 * rendered, encoded and hashed once per filter. The layout around it (who is signed in) is per
 * viewer and small: the controller sends it around these bytes.
 */
@Injectable()
export class StatusPageService {
  private round: { version: number; second: number } | null = null;
  private readonly kept = new Map<string, { page: RenderedPage; board: RenderedPage }>();
  /** Keeps each card's markup between renders: a second later mostly the ages differ. */
  private readonly renderer = new StatusContentRenderer();

  constructor(
    private readonly state: CurrentState,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The dashboard's content for `query`: the controls and the live board. */
  page(query: DashboardQuery): RenderedPage {
    return this.rendered(query).page;
  }

  /** Just the board, as htmx fetches it when the server says something changed. */
  board(query: DashboardQuery): RenderedPage {
    return this.rendered(query).board;
  }

  private rendered(query: DashboardQuery): { page: RenderedPage; board: RenderedPage } {
    const now = this.clock.now();
    const second = Math.floor(now / 1000);
    const version = this.state.version;
    if (this.round?.version !== version || this.round.second !== second) {
      if (this.round) this.renderer.endRound();
      this.round = { version, second };
      this.kept.clear();
    }
    const key = JSON.stringify(query);
    let done = this.kept.get(key);
    if (!done) {
      done = this.render(this.model(now), query);
      if (this.kept.size >= MAX_KEPT) this.kept.clear();
      this.kept.set(key, done);
    }
    return done;
  }

  private render(model: StatusPageModel, query: DashboardQuery): { page: RenderedPage; board: RenderedPage } {
    const errors: FieldErrors = {};
    const { matches, tagError } = checkMatcher(query);
    if (tagError) errors['tag'] = tagError;
    let grouping: Grouping = { by: 'none' };
    if (query.group === 'agent' || query.group === 'plugin') grouping = { by: query.group };
    else if (query.group.startsWith('tag:')) {
      const key = validateWith(tagKeyParam, query.group.slice(4));
      if (key.ok) grouping = { by: 'tag', key: key.value };
      else errors['group'] = key.errors[0]?.message ?? 'not a tag key';
    } else if (query.group !== '') errors['group'] = 'group by agent, plugin or tag:KEY (tag:site)';

    const shown = model.checks.filter((c) => matches({ name: c.name, agentName: c.agent, plugin: c.plugin, status: c.status, stale: !!c.stale, tags: c.tags }));
    const search = filterQuery(query);
    const board = this.renderer.render(model, {
      shown,
      sections: sectionsOf(shown, grouping),
      refreshUrl: `/status/board${search ? `?${search}` : ''}`,
    });
    const controls = renderToString(
      <DashboardControls
        query={query}
        errors={errors}
        agents={[...new Set(model.agents.map((a) => a.name))].sort()}
        plugins={[...new Set(model.checks.map((c) => c.plugin))].sort()}
        tagKeys={[...new Set(model.checks.flatMap((c) => Object.keys(c.tags)))].sort()}
      />,
    );
    const status = Object.keys(errors).length > 0 ? 400 : 200;
    // The board lives inside the element that holds the server's event stream: swapping the
    // board (filters, updates) keeps the one connection.
    return {
      page: encoded(`<h1>Status</h1>${controls}<div hx-ext="sse" sse-connect="/live">${board}</div>`, status),
      board: encoded(board, status),
    };
  }

  model(now: number): StatusPageModel {
    return {
      version: ROUNDS_VERSION,
      now,
      agents: this.state.listAgents().map(({ agent }) => ({
        id: agent.id,
        name: agent.name,
        address: `${agent.host}:${agent.port}`,
        state: agent.state,
        lastSeenAt: agent.lastSeenAt,
        lastError: agent.lastError,
        checks: this.state.checkCount(agent.id),
      })),
      checks: this.state.listChecks().map((record) => {
        const { check, state } = record;
        const hasResult = state !== null && state.lastResultAt !== null;
        return {
          id: check.id,
          name: check.name,
          agentId: check.agentId,
          agent: this.state.agentName(check.agentId),
          plugin: check.plugin,
          status: hasResult ? CHECK_STATUSES[state.status] : 'PENDING',
          summary: state?.summary ?? 'waiting for the first result',
          lastResultAt: state?.lastResultAt ?? null,
          enabled: check.enabled,
          stale: check.enabled ? staleness(this.state.freshness(record, now)) : null,
          tags: this.state.tagsOf(check),
        };
      }),
    };
  }
}

function encoded(html: string, status: number): RenderedPage {
  const body = Buffer.from(html, 'utf8');
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, status };
}

/** Why a result no longer says something about now, in words; null when it does. */
export function staleness(f: Freshness): string | null {
  if (!f.stale) return null;
  return f.agentState === 'UP' ? 'no newer result for over two intervals' : `agent ${f.agentState} — the last result it sent`;
}
