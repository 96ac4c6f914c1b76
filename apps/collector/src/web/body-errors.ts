import type { NextFunction, Request, Response } from 'express';
import { sendProblem } from './api/problem.js';

interface BodyParserError {
  status?: number;
  type?: string;
  limit?: number;
  message?: string;
}

/**
 * Errors of the body parsers, which run before any route (and so before Nest's exception
 * filters): a body over the limit (413) or one that does not parse (400), answered in words —
 * JSON for the API, a line of text for a page — instead of Express's default page, which outside
 * production shows a stack trace.
 */
export function bodyErrors() {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    const e = error as BodyParserError;
    if (res.headersSent || typeof e?.status !== 'number' || e.status < 400 || e.status >= 500) return next(error);
    const message =
      e.type === 'entity.too.large'
        ? `the request body is larger than the ${Math.round((e.limit ?? 0) / 1024)} KiB the collector accepts — send less`
        : e.type === 'entity.parse.failed'
          ? 'the request body is not valid JSON — check its syntax and the content-type header'
          : `the request body cannot be read (${e.type ?? 'unknown problem'}) — check its encoding and content-type header`;
    if (req.path.startsWith('/api/')) sendProblem(req, res, e.status, message);
    else res.status(e.status).type('text/plain').send(message);
  };
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The API reads JSON bodies only. A body sent as something else — curl's `-d` sends
 * `application/x-www-form-urlencoded` unless told otherwise — would be read as one form field
 * named after the whole text and refused as an unknown field, which says nothing of the cause:
 * such a request is answered 415 with the header to add. Runs before the body parsers.
 */
export function apiJsonBodies() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!req.path.startsWith('/api/') || !hasBody || JSON_TYPE.test(req.headers['content-type'] ?? '')) return next();
    const sent = req.headers['content-type'] ? `as ${req.headers['content-type'].split(';')[0]!.trim()}` : 'without a content-type';
    sendProblem(
      req,
      res,
      415,
      `the body was sent ${sent}; the API reads JSON — send it with the header content-type: application/json (curl: -H 'content-type: application/json')`,
    );
  };
}
