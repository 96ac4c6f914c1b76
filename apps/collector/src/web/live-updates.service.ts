import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import { CurrentState } from '../state/current-state.js';
import { CLOCK } from '../shared/tokens.js';

/** Where an event goes: an open server-sent-events response. */
export interface LiveClient {
  /** Writes; false when the connection's buffer is full (the event is dropped — the next one says the same). */
  write(chunk: string): boolean;
  end(): void;
}

export interface LiveUpdatesOptions {
  /** How often the read model is looked at; changes within it go out as one event. */
  checkEveryMs: number;
  /** An event at least this often even without a change: the board's ages ("12 s ago") move on. */
  tickEveryMs: number;
  /** A connection is closed after this long; the browser reconnects at once, through the access guard again. */
  maxConnectionMs: number;
  /** Connections kept at most; past it the oldest is closed. */
  maxClients: number;
}

export const LIVE_UPDATES_DEFAULTS: LiveUpdatesOptions = { checkEveryMs: 1_000, tickEveryMs: 30_000, maxConnectionMs: 10 * 60_000, maxClients: 1_000 };

/**
 * Tells every open dashboard when the read model changed: one `status` event (the model's
 * version) to all, and each browser fetches its own board (htmx). The event carries no data a
 * viewer could not see, so one stream serves every role. One timer however many browsers; it
 * runs only while someone listens.
 */
@Injectable()
export class LiveUpdates implements OnModuleDestroy {
  private readonly clients = new Map<LiveClient, number>();
  private timer: NodeJS.Timeout | null = null;
  private sentVersion = -1;
  private sentAt = 0;
  private readonly options: LiveUpdatesOptions;
  /** Events written and dropped (a full buffer), for the bench and /metrics. */
  readonly counters = { events: 0, dropped: 0 };

  constructor(
    private readonly state: CurrentState,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.options = { ...LIVE_UPDATES_DEFAULTS };
  }

  /** For specs and benches: other timings. */
  configure(options: Partial<LiveUpdatesOptions>): void {
    Object.assign(this.options, options);
    if (this.timer) {
      this.stopTimer();
      this.startTimer();
    }
  }

  get size(): number {
    return this.clients.size;
  }

  /** Starts sending to `client`; returns what to call when its connection closes. */
  add(client: LiveClient): () => void {
    if (this.clients.size >= this.options.maxClients) {
      const oldest = this.clients.keys().next().value;
      if (oldest) this.close(oldest);
    }
    // Reconnect after 3 s when the connection drops (a restart of the collector, a proxy timeout).
    client.write(`retry: 3000\n: connected\n\n`);
    this.clients.set(client, this.clock.now());
    this.startTimer();
    return () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stopTimer();
    };
  }

  /** One look at the model: an event to everyone when it changed or the tick is due; old connections closed. */
  poll(): void {
    const now = this.clock.now();
    const version = this.state.version;
    if (version !== this.sentVersion || now - this.sentAt >= this.options.tickEveryMs) {
      this.sentVersion = version;
      this.sentAt = now;
      const event = `event: status\ndata: ${version}\n\n`;
      for (const client of this.clients.keys()) {
        if (client.write(event)) this.counters.events += 1;
        else this.counters.dropped += 1;
      }
    }
    for (const [client, since] of this.clients) if (now - since >= this.options.maxConnectionMs) this.close(client);
  }

  onModuleDestroy(): void {
    for (const client of [...this.clients.keys()]) this.close(client);
    this.stopTimer();
  }

  private close(client: LiveClient): void {
    this.clients.delete(client);
    client.end();
    if (this.clients.size === 0) this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.options.checkEveryMs);
    // An open dashboard must not keep a stopping collector alive.
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
