import { createParamDecorator, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from '../auth/principal.js';

/** The principal the access guard put on the request. */
export function principalOf(request: Request): Principal | undefined {
  return (request as Request & { principal?: Principal }).principal;
}

/** `@Caller() caller: Principal` — the signed-in user or token owner of a route that is not public. */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = principalOf(ctx.switchToHttp().getRequest<Request>());
  // Only on a public route, which has no business asking: a programming error, answered as a refusal.
  if (!principal) throw new UnauthorizedException('sign in first');
  return principal;
});
