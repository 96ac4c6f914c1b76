import { parse } from 'cookie';
import type { Request, Response } from 'express';

/**
 * The session cookie: HTTP-only (no script reads it), SameSite=Lax (not sent with another
 * site's POST; a link from a notification e-mail still arrives signed in), Secure and
 * `__Host-`-prefixed on TLS (the browser then refuses it over plain HTTP or for another path or
 * domain). No Max-Age: it ends with the browser, and the server ends it sooner (idle, absolute).
 */
function cookieName(request: Request): string {
  return request.secure ? '__Host-rounds_session' : 'rounds_session';
}

export function readSessionCookie(request: Request): string | undefined {
  const header = request.headers.cookie;
  return header ? parse(header)[cookieName(request)] : undefined;
}

export function setSessionCookie(request: Request, response: Response, value: string): void {
  response.cookie(cookieName(request), value, { httpOnly: true, sameSite: 'lax', secure: request.secure, path: '/' });
}

export function clearSessionCookie(request: Request, response: Response): void {
  response.clearCookie(cookieName(request), { httpOnly: true, sameSite: 'lax', secure: request.secure, path: '/' });
}
