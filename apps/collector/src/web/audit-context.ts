import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { peerAddress } from '#rounds/common';
import type { AuditContext } from '../audit/audit.types.js';
import { principalOf } from './caller.decorator.js';

/**
 * Who is calling, for the audit log, from the request: the one place the API and the pages say
 * who acts — the user the access guard found (by session: source `ui`; by API token: `api`). The
 * address is the TCP peer, as the guard throttles it: behind a reverse proxy that is the proxy
 * (no forwarded header is trusted, since any client can send one).
 */
export function auditContextOf(request: Request): AuditContext {
  const userAgent = request.headers['user-agent'];
  const principal = principalOf(request);
  return {
    // A public route (signing in) has no principal yet: its handler names the actor itself.
    actor: principal?.name ?? 'anonymous',
    source: principal?.via === 'session' ? 'ui' : 'api',
    address: peerAddress(request.socket.remoteAddress),
    userAgent: userAgent === undefined || userAgent === '' ? null : userAgent.slice(0, 500),
  };
}

/**
 * `@Audit() context: AuditContext` — passed on to the service method that makes the change.
 * A parameter rather than async-local state: the service's signature says it records, and a
 * caller without a request (the CLI) passes its own context the same way.
 */
export const Audit = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuditContext => auditContextOf(ctx.switchToHttp().getRequest<Request>()));
