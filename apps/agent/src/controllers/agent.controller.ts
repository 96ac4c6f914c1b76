import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStatus, RpcException } from '@nestjs/microservices';
import { AGENT_SERVICE_NAME, peerAddress } from '#rounds/common';
import {
  EnrolState,
  type AgentDescription,
  type CheckResult,
  type ClaimRequest,
  type ClaimResponse,
  type CollectRequest,
  type CollectResponse,
  type DescribeRequest,
  type EnrolChallengeRequest,
  type EnrolChallengeResponse,
  type RotateTokenRequest,
  type RotateTokenResponse,
  type RunCheckRequest,
} from '#rounds/common/wire';
import { ChecksService } from '../services/checks.service.js';
import { CollectService } from '../services/collect.service.js';
import { DescribeService } from '../services/describe.service.js';
import { TokenKeeper, TokenRotationRefused } from '../services/token-keeper.js';
import { retryAfterTrailers } from './token.guard.js';
import { ClaimRefused, SiteKeyClaims, type ClaimRefusal } from '../services/site-key-claims.js';

const CLAIM_STATUS: Record<ClaimRefusal, GrpcStatus> = {
  invalid: GrpcStatus.INVALID_ARGUMENT,
  nonce: GrpcStatus.ABORTED,
  proof: GrpcStatus.PERMISSION_DENIED,
  enrolled: GrpcStatus.FAILED_PRECONDITION,
  busy: GrpcStatus.FAILED_PRECONDITION,
  throttled: GrpcStatus.RESOURCE_EXHAUSTED,
};

/** The caller's address as the door keys it (grpc-js gives `address:port`, an IPv6 address unbracketed). */
function callerOf(call: { getPeer(): string } | undefined): string {
  const peer = call?.getPeer() ?? '';
  const at = peer.lastIndexOf(':');
  return peerAddress(at > 0 ? peer.slice(0, at).replace(/^\[|\]$/g, '') : peer);
}

/** A site-key refusal as a gRPC error; a throttled caller learns when to come back, as at the token door. */
function claimError(e: unknown): RpcException {
  if (!(e instanceof ClaimRefused))
    return new RpcException({ code: GrpcStatus.INTERNAL, message: `cannot write the token: ${(e as Error).message} — nothing changed` });
  if (e.reason !== 'throttled') return new RpcException({ code: CLAIM_STATUS[e.reason], message: e.message });
  return new RpcException({ code: GrpcStatus.RESOURCE_EXHAUSTED, message: e.message, metadata: retryAfterTrailers(e.retryAfterMs) });
}

/**
 * AgentService over gRPC: one service call per method. Calls reach it only past the
 * TokenGuard interceptor that AgentGrpcServer installs (see cli/start.ts), but EnrolChallenge and
 * Claim, which SiteKeyClaims checks itself.
 */
@Controller()
export class AgentController {
  constructor(
    private readonly describeService: DescribeService,
    private readonly collectService: CollectService,
    private readonly checksService: ChecksService,
    private readonly tokens: TokenKeeper,
    private readonly claims: SiteKeyClaims,
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

  @GrpcMethod(AGENT_SERVICE_NAME, 'EnrolChallenge')
  enrolChallenge(request: EnrolChallengeRequest, _metadata: unknown, call?: { getPeer(): string }): EnrolChallengeResponse {
    let answer: ReturnType<SiteKeyClaims['challenge']>;
    try {
      answer = this.claims.challenge(request.collectorNonce, callerOf(call));
    } catch (e) {
      throw claimError(e);
    }
    if (answer.state === 'enrolled') {
      return { ...answer, state: EnrolState.ENROL_STATE_ENROLLED, nonce: '', nonceTtlMs: 0, hostname: '', version: '', agentProof: '' };
    }
    return { ...answer, state: EnrolState.ENROL_STATE_CLAIMABLE };
  }

  @GrpcMethod(AGENT_SERVICE_NAME, 'Claim')
  async claim(request: ClaimRequest, _metadata: unknown, call?: { getPeer(): string }): Promise<ClaimResponse> {
    try {
      await this.claims.claim(request, callerOf(call));
    } catch (e) {
      throw claimError(e);
    }
    return {};
  }
}
