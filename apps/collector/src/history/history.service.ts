import { Injectable } from '@nestjs/common';
import { CHECK_STATUSES } from '#rounds/common';
import { NotFoundError } from '../shared/errors.js';
import { CurrentState } from '../state/current-state.js';
import { ResultsRepository } from './results.repository.js';

/** Stored results of a check, as the API shows them. */
@Injectable()
export class HistoryService {
  constructor(
    private readonly results: ResultsRepository,
    private readonly state: CurrentState,
  ) {}

  /** The check's latest results, newest first; a check that does not exist has no history (404), not an empty one. */
  async recent(checkId: string, limit: number) {
    if (!this.state.check(checkId)) throw new NotFoundError(`no check with id "${checkId}"`);
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
