import { Inject, Injectable } from '@nestjs/common';
import { COLLECT_LIMITS } from '#rounds/common';
import type { CollectRequest, CollectResponse } from '#rounds/common/wire';
import type { AgentConfig } from '../config/agent-config.js';
import type { Spool } from '../spool/spool.js';
import { ChecksService } from './checks.service.js';
import { HealthService } from './health.service.js';
import { AGENT_CONFIG, SPOOL } from './tokens.js';

/**
 * One Collect: takes the collector's check set when its version changed, applies its
 * acknowledgement and hands back the next page of the spool.
 */
@Injectable()
export class CollectService {
  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(SPOOL) private readonly spool: Spool,
    private readonly checks: ChecksService,
    private readonly health: HealthService,
  ) {}

  collect(request: CollectRequest): CollectResponse {
    const rejected =
      request.hasChecks && request.assignmentVersion !== this.checks.assignmentVersion ? this.checks.apply(request.assignmentVersion, request.checks) : [];
    // An ack from another spool epoch (before an agent restart) must not discard new results.
    const sameEpoch = request.spoolEpoch === this.spool.epoch;
    const after = sameEpoch ? request.ackSeq : 0;
    if (sameEpoch) this.spool.ack(request.ackSeq);
    const cap = this.config.collect.maxResults;
    const { results, more } = this.spool.read(after, Math.min(request.maxResults || cap, cap), COLLECT_LIMITS.resultBytes);
    return {
      results,
      lastSeq: this.spool.lastSeq,
      more,
      assignmentVersion: this.checks.assignmentVersion,
      dropped: this.spool.dropped,
      health: this.health.snapshot(),
      rejected,
      spoolEpoch: this.spool.epoch,
    };
  }
}
