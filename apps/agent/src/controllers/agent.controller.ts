import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStatus, RpcException } from '@nestjs/microservices';
import { AGENT_SERVICE_NAME } from '#rounds/common';
import type {
  AgentDescription,
  CheckResult,
  CollectRequest,
  CollectResponse,
  DescribeRequest,
  RotateTokenRequest,
  RotateTokenResponse,
  RunCheckRequest,
} from '#rounds/common/wire';
import { ChecksService } from '../services/checks.service.js';
import { CollectService } from '../services/collect.service.js';
import { DescribeService } from '../services/describe.service.js';
import { TokenKeeper, TokenRotationRefused } from '../services/token-keeper.js';

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
    private readonly tokens: TokenKeeper,
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

  @GrpcMethod(AGENT_SERVICE_NAME, 'RotateToken')
  async rotateToken(request: RotateTokenRequest): Promise<RotateTokenResponse> {
    try {
      await this.tokens.stage(request.newTokenSha256);
    } catch (e) {
      const code =
        e instanceof TokenRotationRefused ? (e.reason === 'invalid' ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.FAILED_PRECONDITION) : GrpcStatus.INTERNAL;
      const why = e instanceof TokenRotationRefused ? e.message : `cannot write the new token: ${(e as Error).message} — the old token stays in force`;
      throw new RpcException({ code, message: why });
    }
    return {};
  }
}
