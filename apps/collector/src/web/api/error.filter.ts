import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { sendProblem } from './problem.js';
import { uniqueViolation, type UniqueViolation } from '../../shared/unique-violation.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../shared/errors.js';

const NOUNS: Record<string, string> = { agents: 'agent', checks: 'check', notification_channels: 'notification channel' };

const camelCase = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A unique-constraint failure as a 409 naming the field; the same for SQLite and PostgreSQL. */
function uniqueConflict(v: UniqueViolation): ConflictError {
  const fields = v.columns.map(camelCase);
  const field = fields.at(-1);
  const noun = (v.table && NOUNS[v.table]) ?? (v.table ? `row of ${v.table}` : 'row');
  const same = fields.length > 0 ? `the same ${fields.join(' and ')}` : 'the same key';
  return new ConflictError(`another ${noun} has ${same} — choose another ${field ?? 'value'}`, field);
}

/**
 * Service errors → HTTP, as RFC 9457 problem details (problem.ts): 400 with field errors, 404,
 * 409 (with the field when known; every unique-constraint failure of either database is one);
 * Nest's own (401, 403, 404 of an unknown route, 429) keep their status and sentence; anything
 * else is a 500 that is logged and says only where to look.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Api');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    const unique = uniqueViolation(thrown);
    const error = unique ? uniqueConflict(unique) : thrown;
    if (error instanceof ValidationFailedError) {
      sendProblem(req, res, 400, error.message, error.errors);
    } else if (error instanceof NotFoundError) {
      sendProblem(req, res, 404, error.message);
    } else if (error instanceof ConflictError) {
      sendProblem(req, res, 409, error.message, error.field ? [{ field: error.field, message: error.message }] : undefined);
    } else if (error instanceof HttpException) {
      const body = error.getResponse();
      const said = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const detail = typeof said === 'string' ? said : Array.isArray(said) ? said.join('; ') : error.message;
      // A guard that throttles has set Retry-After on the response already.
      sendProblem(req, res, error.getStatus(), detail);
    } else {
      this.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      sendProblem(req, res, 500, 'internal error — see the collector log');
    }
  }
}

/**
 * The app-wide filter: errors that reach no controller's filter — a path under /api/ that no route
 * serves, a guard's refusal on a controller without one — are problem details under /api/, and
 * Nest's default answer elsewhere.
 */
@Catch()
export class ApiOrDefaultErrorFilter extends BaseExceptionFilter {
  private readonly api = new ApiErrorFilter();

  override catch(thrown: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    if (req.path.startsWith('/api/')) this.api.catch(thrown, host);
    else super.catch(thrown, host);
  }
}
