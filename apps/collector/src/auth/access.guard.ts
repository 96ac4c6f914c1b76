import { ForbiddenException, HttpException, HttpStatus, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { roleAtLeast, type Principal } from './principal.js';
import { ACCESS_KEY, type AccessLevel } from './access.decorator.js';
import { ApiTokensService } from './api-tokens.service.js';
import type { SessionEntity, SessionStage } from './session.entity.js';
import { readSessionCookie } from './session-cookie.js';
import { SessionsService } from './sessions.service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Where each unfinished sign-in stage continues. */
export const STAGE_PAGES: Record<Exclude<SessionStage, 'full'>, string> = {
  'two-factor': '/sign-in/two-factor',
  password: '/sign-in/password',
  enrol: '/sign-in/enrol',
};

/**
 * Not signed in (or not finished signing in): the API answers 401; a page sends the browser to
 * `location` (the sign-in form with the page to come back to, or the unfinished step).
 */
export class SignInRequiredException extends UnauthorizedException {
  constructor(
    message: string,
    readonly location: string,
  ) {
    super(message);
  }
}

/** A state-changing request without the session's CSRF token, or from another site. */
export class CsrfRefusedException extends ForbiddenException {}

/** The signed-in browser behind a request: its session (for the CSRF token in forms) and the user. */
export interface SignedIn {
  session: SessionEntity;
  principal: Principal;
}

export function signedInOf(request: Request): SignedIn | undefined {
  return (request as Request & { signedIn?: SignedIn }).signedIn;
}

/**
 * The one guard in front of every route (registered globally): it reads the route's
 * `@Access(…)` level, authenticates the caller by API token (`Authorization: Bearer`) or session
 * cookie, checks the role, and for cookie-authenticated changes the CSRF token and the origin.
 * A route without a level is refused: a new route cannot be forgotten open.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly tokens: ApiTokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<Request>();
    if (!level) throw new ForbiddenException(`${request.method} ${request.path} declares no access level — every route must say who may call it (@Access)`);
    const unsafe = !SAFE_METHODS.has(request.method);
    if (level === 'public') {
      // The sign-in form posts without a session: a login CSRF is stopped by the origin check alone.
      if (unsafe) checkOrigin(request);
      return true;
    }
    const principal =
      request.headers.authorization !== undefined
        ? await this.byToken(request, context.switchToHttp().getResponse<Response>())
        : await this.bySession(request, unsafe);
    (request as Request & { principal?: Principal }).principal = principal;
    if (level !== 'self' && !roleAtLeast(principal.role, level)) {
      throw new ForbiddenException(`your role (${principal.role}) cannot do this: it needs ${level} or above — ask an admin to change your role`);
    }
    return true;
  }

  private async byToken(request: Request, response: Response): Promise<Principal> {
    const verdict = await this.tokens.authenticate(
      request.headers.authorization,
      request.socket.remoteAddress,
      `${request.method} ${request.path.slice(0, 200)}`,
    );
    if (verdict.ok) return verdict.principal;
    if (verdict.why === 'throttled') {
      response.setHeader('Retry-After', String(Math.ceil((verdict.retryAfterMs ?? 1000) / 1000)));
      throw new HttpException(verdict.message, HttpStatus.TOO_MANY_REQUESTS);
    }
    throw new UnauthorizedException(verdict.message);
  }

  private async bySession(request: Request, unsafe: boolean): Promise<Principal> {
    const comeBack = `/sign-in?next=${encodeURIComponent(request.originalUrl.slice(0, 500))}`;
    const found = await this.sessions.resolve(readSessionCookie(request));
    if (found === null) throw new SignInRequiredException('sign in first (or send an API token as "Authorization: Bearer <token>")', comeBack);
    if ('expired' in found) {
      const why =
        found.expired === 'idle'
          ? 'after 30 minutes without activity'
          : found.expired === 'absolute'
            ? '12 hours after signing in'
            : 'before the sign-in was finished';
      throw new SignInRequiredException(`your session ended ${why} — sign in again`, `${comeBack}&ended=${found.expired}`);
    }
    const { session, user } = found;
    if (session.stage !== 'full') throw new SignInRequiredException('finish signing in first', STAGE_PAGES[session.stage]);
    if (unsafe) {
      checkOrigin(request);
      const body = request.body as Record<string, unknown> | undefined;
      const token = request.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body._csrf : undefined);
      if (!this.sessions.csrfMatches(session, token)) {
        throw new CsrfRefusedException('this form is out of date or did not come from this site (CSRF token missing or wrong) — reload the page and try again');
      }
    }
    const principal: Principal = { userId: user.id, name: user.name, role: user.role, via: 'session', credentialId: session.id };
    (request as Request & { signedIn?: SignedIn }).signedIn = { session, principal };
    return principal;
  }
}

/**
 * A browser names the page a POST comes from in Origin (Fetch standard; every current browser
 * sends it on POST). One naming another host is a cross-site request, refused whatever cookie
 * it carries; none at all (curl, scripts) is left to the CSRF token.
 */
function checkOrigin(request: Request): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== request.headers.host) {
    throw new CsrfRefusedException(
      `refused a request from another site (Origin ${origin.slice(0, 100)}) — open the page on this collector and submit it there`,
    );
  }
}
