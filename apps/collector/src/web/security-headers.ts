import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Response headers for every answer, by helmet (maintained, and it tracks what browsers honour):
 * a Content-Security-Policy that allows nothing inline (scripts, styles: everything is a file the
 * collector serves — hospital networks are often offline, so nothing from elsewhere either), no
 * framing (clickjacking), nosniff, no Referer leaving the UI (`same-origin`: `no-referrer` would
 * make Chromium send `Origin: null` on the UI's own form posts, which the CSRF origin check refuses), and HSTS — only on TLS, where a
 * browser honours it; sent over plain HTTP it would promise HTTPS on a port that has none.
 */
export function securityHeaders(): (req: Request, res: Response, next: NextFunction) => void {
  const options = (hsts: boolean) =>
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      strictTransportSecurity: hsts ? { maxAge: 31_536_000, includeSubDomains: false } : false,
      referrerPolicy: { policy: 'same-origin' },
      xFrameOptions: { action: 'deny' },
    });
  const onTls = options(true);
  const onPlain = options(false);
  return (req, res, next) => (req.secure ? onTls : onPlain)(req, res, next);
}
