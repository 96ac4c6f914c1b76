import { Injectable } from '@nestjs/common';
import { CHECK_STATUSES } from '#rounds/common';
import { ResultsRepository } from './results.repository.js';

/** Stored results of a check, as the API shows them. */
@Injectable()
export class HistoryService {
  constructor(private readonly results: ResultsRepository) {}

  /** The check's latest results, newest first. */
  async recent(checkId: string, limit: number) {
    return (await this.results.recent(checkId, limit)).map((r) => ({
      seq: r.seq,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      status: CHECK_STATUSES[r.status],
      reason: r.reason,
      summary: r.summary,
      metrics: JSON.parse(r.metricsJson) as unknown,
    }));
  }
}
