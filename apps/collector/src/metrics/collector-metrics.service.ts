import { Inject, Injectable, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { BOUNDED_FIELDS, type BoundedField } from '#rounds/common';
import { fromPromClient, type Family, type PromClientMetric } from './exposition.js';
import type { PollObserver } from '../polling/poller.service.js';

/** Why a poll failed: the closed set of AgentCallError codes, each exported from the first scrape on. */
export const POLL_ERROR_REASONS = ['unauthenticated', 'unreachable', 'timeout', 'certificate', 'protocol', 'storage'] as const;

export interface CollectorMetricsOptions {
  /** prom-client's process and Node.js metrics (off in the golden test: their values change). */
  processMetrics?: boolean;
}

export const COLLECTOR_METRICS_OPTIONS = Symbol('COLLECTOR_METRICS_OPTIONS');

/**
 * prom-client's Node.js gauges whose names end in `_total` (promtool rejects them); each is
 * the sum over the `type` label of the same family without the suffix, which stays.
 */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The collector's own event metrics: what happens between scrapes (polls and their timing,
 * scheduling lag, write transactions) and cannot be read from a table at scrape time.
 * The poller and the result writer report into it through small hooks.
 */
@Injectable()
export class CollectorMetrics implements PollObserver {
  private readonly registry = new Registry();
  private readonly polls = new Counter({
    name: 'rounds_collector_polls_total',
    help: 'Agent polls finished (successful or not).',
    registers: [this.registry],
  });
  private readonly pollErrors = new Counter({
    name: 'rounds_collector_poll_errors_total',
    help: 'Agent polls that failed, by reason (unauthenticated, unreachable, timeout, certificate, protocol; storage: the agent answered but storing failed).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly pollDuration = new Histogram({
    name: 'rounds_collector_poll_duration_seconds',
    help: 'Duration of one agent poll: Collect call, storing its results, and Describe when due.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly lag = new Histogram({
    name: 'rounds_collector_scheduling_lag_seconds',
    help: 'How late a poll started after it was due (all poll slots busy, or a blocked event loop).',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly truncated = new Counter({
    name: 'rounds_collector_results_truncated_total',
    help: 'Results received over the result limits and cut before they were stored, by the field that was over (a result counts once per field).',
    labelNames: ['field'],
    registers: [this.registry],
  });
  private readonly writeDuration = new Histogram({
    name: 'rounds_collector_write_batch_duration_seconds',
    help: 'Duration of one result-writer transaction (one or more coalesced poll batches).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor(@Optional() @Inject(COLLECTOR_METRICS_OPTIONS) options: CollectorMetricsOptions = {}) {
    this.polls.inc(0);
    for (const reason of POLL_ERROR_REASONS) this.pollErrors.inc({ reason }, 0);
    for (const field of BOUNDED_FIELDS) this.truncated.inc({ field }, 0);
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
  }

  pollFinished(seconds: number, errorCode?: string): void {
    this.polls.inc();
    this.pollDuration.observe(seconds);
    if (errorCode !== undefined) {
      // The union is closed today; a new code shows up as "protocol" until it is added here.
      const reason = (POLL_ERROR_REASONS as readonly string[]).includes(errorCode) ? errorCode : 'protocol';
      this.pollErrors.inc({ reason });
    }
  }

  pollLate(lateByMs: number): void {
    this.lag.observe(Math.max(0, lateByMs) / 1000);
  }

  resultTruncated(fields: readonly BoundedField[]): void {
    for (const field of fields) this.truncated.inc({ field });
  }

  writeCommitted(seconds: number): void {
    this.writeDuration.observe(seconds);
  }

  /** Own families first (fixed order), then the process metrics. */
  async families(): Promise<Family[]> {
    const json = (await this.registry.getMetricsAsJSON()) as unknown as PromClientMetric[];
    return fromPromClient(json, {
      rounds_collector_poll_duration_seconds: 'seconds',
      rounds_collector_scheduling_lag_seconds: 'seconds',
      rounds_collector_write_batch_duration_seconds: 'seconds',
    });
  }
}
