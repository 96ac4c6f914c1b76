import { hostname } from 'node:os';
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { AGENT_SERVICE_NAME, COLLECT_LIMITS } from '#rounds/common';
import type { AgentDescription, CheckResult, CollectRequest, CollectResponse, DescribeRequest, RunCheckRequest } from '#rounds/common/wire';
import { describePlugin, type PluginRegistry } from '#rounds/plugins';
import type { AgentConfig } from '../config/agent-config.js';
import { ChecksService } from '../services/checks.service.js';
import { HealthService } from '../services/health.service.js';
import type { Spool } from '../spool/spool.js';
import { AGENT_CONFIG, PLUGIN_REGISTRY, SPOOL } from '../services/tokens.js';
import { ROUNDS_VERSION as AGENT_VERSION } from '#rounds/common';

const STARTED_AT = Date.now();

/**
 * AgentService over gRPC: thin — the rules live in ChecksService and the spool. Calls reach it
 * only past the TokenGuard interceptor that AgentGrpcServer installs (see cli/start.ts).
 */
@Controller()
export class AgentController {
  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
    @Inject(SPOOL) private readonly spool: Spool,
    private readonly checks: ChecksService,
    private readonly health: HealthService,
  ) {}

  @GrpcMethod(AGENT_SERVICE_NAME, 'Describe')
  describe(_request: DescribeRequest): AgentDescription {
    return {
      agentId: this.config.id,
      version: AGENT_VERSION,
      hostname: hostname(),
      os: process.platform,
      arch: process.arch,
      plugins: this.registry.list().map(describePlugin),
      assignmentVersion: this.checks.assignmentVersion,
      startedAtMs: STARTED_AT,
    };
  }

  @GrpcMethod(AGENT_SERVICE_NAME, 'Collect')
  collect(request: CollectRequest): CollectResponse {
    const rejected =
      request.hasChecks && request.assignmentVersion !== this.checks.assignmentVersion ? this.checks.apply(request.assignmentVersion, request.checks) : [];
    // An ack from another spool epoch (before an agent restart) must not discard new results.
    const sameEpoch = request.spoolEpoch === this.spool.epoch;
    const after = sameEpoch ? request.ackSeq : 0;
    if (sameEpoch) this.spool.ack(request.ackSeq);
    const max = Math.min(request.maxResults || this.config.collect.maxResults, this.config.collect.maxResults);
    const { results, more } = this.spool.read(after, max, COLLECT_LIMITS.resultBytes);
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

  @GrpcMethod(AGENT_SERVICE_NAME, 'RunCheck')
  async runCheck(request: RunCheckRequest): Promise<CheckResult> {
    if (!request.check) {
      return { seq: 0, checkId: '', startedAtMs: Date.now(), durationMs: 0, status: 3, reason: 'config_error', summary: 'RunCheck needs a check', metrics: [] };
    }
    return this.checks.runOnce(request.check);
  }
}
