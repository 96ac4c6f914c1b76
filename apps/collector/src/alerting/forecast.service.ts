import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import { HistoryService } from '../history/history.service.js';
import { CurrentState } from '../state/current-state.js';
import { CLOCK } from '../shared/tokens.js';
import { CLUSTER, SOLO, type Cluster } from '../cluster/cluster.js';
import { followLeader } from '../cluster/follow-leader.js';
import { storageFault } from '../storage/storage-fault.js';
import { ALERTING_OPTIONS, AlertingService, type AlertingOptions } from './alerting.service.js';
import type { ForecastInput } from './index.js';

/** A forecast looks at hours of history: once a minute is often enough, and each round reads the database. */
export const DEFAULT_FORECAST_MS = 60_000;

/**
 * Runs the forecast rules' rounds on the collector's clock: finds the stored series the rules
 * watch (of enabled checks), reads each one's points over its rule's window from the history
 * (raw results or roll-ups) and hands them to the engine, which fires or resolves. On the leader
 * only, when several collectors share PostgreSQL.
 */
@Injectable()
export class ForecastService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Forecasts');
  private readonly everyMs: number;
  private timer: unknown;
  private running = false;

  constructor(
    private readonly alerting: AlertingService,
    private readonly history: HistoryService,
    private readonly state: CurrentState,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(ALERTING_OPTIONS) options?: Partial<AlertingOptions>,
    @Optional() @Inject(CLUSTER) private readonly cluster: Cluster = SOLO,
  ) {
    this.everyMs = options?.forecastMs ?? DEFAULT_FORECAST_MS;
  }

  onApplicationBootstrap(): void {
    if (this.everyMs <= 0) return;
    followLeader(
      this.cluster,
      () => {
        if (this.running) return;
        this.running = true;
        this.schedule();
      },
      () => this.onApplicationShutdown(),
    );
  }

  onApplicationShutdown(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.round()
        .catch((e: unknown) => {
          if (!storageFault(e)) this.log.error(`the forecast round failed: ${e instanceof Error ? e.message : String(e)} — forecast alerts keep their state`);
        })
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.everyMs);
  }

  /** One round now. */
  async round(): Promise<void> {
    // Without forecast rules a round has nothing to read: the series query is skipped, and forecast alerts of removed rules resolved with setRules.
    if (!this.alerting.hasForecastRules()) return;
    const series = await this.history.seriesOf([...this.state.enabledCheckIds()]);
    const targets = this.alerting.forecastTargets(series.map((s) => ({ checkId: s.checkId, metric: s.name, labels: s.labels, unit: s.unit, stored: s })));
    const now = this.clock.now();
    const inputs: ForecastInput[] = [];
    for (const { rule, windowMs, series: s } of targets) {
      const { stored, ...ref } = s;
      inputs.push({ ...ref, rule, points: await this.history.trendPoints(stored, now - windowMs, now) });
    }
    await this.alerting.judgeForecasts(inputs);
  }
}
