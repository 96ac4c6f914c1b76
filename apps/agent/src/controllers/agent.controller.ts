import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { AGENT_SERVICE_NAME } from '#rounds/common';
import type { AgentDescription, CheckResult, CollectRequest, CollectResponse, DescribeRequest, RunCheckRequest } from '#rounds/common/wire';
import { ChecksService } from '../services/checks.service.js';
import { CollectService } from '../services/collect.service.js';
import { DescribeService } from '../services/describe.service.js';

/**
 * AgentService over gRPC: one service call per method. Calls reach it only past the
 * TokenGuard interceptor that AgentGrpcServer installs (see cli/start.ts).
 */
@Controller()
export class AgentController {
  constructor(
    private readonly describeService: DescribeService,
    private readonly collectService: CollectService,
    private readonly checksService: ChecksService,
  ) {}

  @GrpcMethod(AGENT_SERVICE_NAME, 'Describe')
  describe(_request: DescribeRequest): AgentDescription {
    return this.describeService.describe();
  }

  @GrpcMethod(AGENT_SERVICE_NAME, 'Collect')
  collect(request: CollectRequest): CollectResponse {
    return this.collectService.collect(request);
  }

  @GrpcMethod(AGENT_SERVICE_NAME, 'RunCheck')
  runCheck(request: RunCheckRequest): Promise<CheckResult> {
    return this.checksService.runOnce(request.check);
  }
}
