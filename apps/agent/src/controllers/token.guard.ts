import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { status as GrpcStatus, type Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { AUTH_METADATA_KEY } from '#rounds/common';
import type { AgentConfig } from '../config/agent-config.js';
import { AGENT_CONFIG } from '../services/tokens.js';

/**
 * Every call must carry `authorization: Bearer <token>`. The config holds only the
 * token's SHA-256, and the comparison is constant-time over the digests, so neither
 * the config file nor response timing gives the token away. Refusals are logged
 * with the caller's address and method, never with what it sent.
 */
@Injectable()
export class TokenGuard implements CanActivate {
  private readonly log = new Logger('Auth');
  private readonly expected: Buffer;

  constructor(@Inject(AGENT_CONFIG) config: AgentConfig) {
    this.expected = Buffer.from(config.tokenSha256, 'hex');
  }

  canActivate(context: ExecutionContext): boolean {
    const metadata = context.switchToRpc().getContext<Metadata>();
    const call = context.getArgByIndex<ServerUnaryCall<unknown, unknown> | undefined>(2);
    const method = context.getHandler().name;
    const header = metadata?.get?.(AUTH_METADATA_KEY)?.[0];
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const digest = createHash('sha256').update(presented ?? '').digest();
    if (presented !== undefined && timingSafeEqual(digest, this.expected)) return true;
    const peer = call?.getPeer?.() ?? 'unknown peer';
    const why = presented === undefined ? 'no bearer token' : 'wrong token';
    this.log.warn(`refused ${method} from ${peer}: ${why}`);
    throw new RpcException({
      code: GrpcStatus.UNAUTHENTICATED,
      message: `${why} — this agent only answers a collector that enrolled it with its current token`,
    });
  }
}
