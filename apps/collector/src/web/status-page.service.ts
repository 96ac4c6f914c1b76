import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CHECK_STATUSES, ROUNDS_VERSION, type Clock } from '#rounds/common';
import { CurrentState, type Freshness } from '../state/current-state.js';
import { CLOCK } from '../shared/tokens.js';
import { StatusContentRenderer, type StatusPageModel } from './views/status.page.js';

/** Rendered content, encoded once, with the entity tag of its bytes. */
export interface RenderedPage {
  body: Buffer;
  etag: string;
}

/**
 * The status page's content from the read model. It shows ages ("12 s ago"), so what it renders
 * holds for one version of the model within one second; a page reloaded by many screens at
 * once is rendered, encoded and hashed once. The layout around it (who is signed in) is per
 * viewer and small: the controller sends it around these bytes.
 */
@Injectable()
export class StatusPageService {
  private rendered: { version: number; second: number; page: RenderedPage } | null = null;
  /** Keeps each row's markup between renders: a second later mostly the ages differ. */
  private readonly renderer = new StatusContentRenderer();

  constructor(
    private readonly state: CurrentState,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  page(): RenderedPage {
    const now = this.clock.now();
    const second = Math.floor(now / 1000);
    const version = this.state.version;
    if (this.rendered?.version !== version || this.rendered.second !== second) {
      const body = Buffer.from(this.renderer.render(this.model(now)), 'utf8');
      this.rendered = { version, second, page: { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` } };
    }
    return this.rendered.page;
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
          agent: this.state.agentName(check.agentId),
          plugin: check.plugin,
          status: hasResult ? CHECK_STATUSES[state.status] : 'PENDING',
          summary: state?.summary ?? 'waiting for the first result',
          lastResultAt: state?.lastResultAt ?? null,
          enabled: check.enabled,
          stale: check.enabled ? staleness(this.state.freshness(record, now)) : null,
        };
      }),
    };
  }
}

/** Why a result no longer says something about now, in words; null when it does. */
export function staleness(f: Freshness): string | null {
  if (!f.stale) return null;
  return f.agentState === 'UP' ? 'no newer result for over two intervals' : `agent ${f.agentState} — the last result it sent`;
}
