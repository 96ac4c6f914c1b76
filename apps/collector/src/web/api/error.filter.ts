import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
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
 * Service errors → HTTP: 400 with field errors, 404, 409 (with the field when known; every
 * unique-constraint failure of either database is one); anything else is a 500 that is logged.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Api');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const unique = uniqueViolation(thrown);
    const error = unique ? uniqueConflict(unique) : thrown;
    if (error instanceof ValidationFailedError) {
      res.status(400).json({ statusCode: 400, error: 'Bad Request', message: error.message, errors: error.errors });
    } else if (error instanceof NotFoundError) {
      res.status(404).json({ statusCode: 404, error: 'Not Found', message: error.message });
    } else if (error instanceof ConflictError) {
      res.status(409).json({
        statusCode: 409,
        error: 'Conflict',
        message: error.message,
        ...(error.field ? { errors: [{ field: error.field, message: error.message }] } : {}),
      });
    } else if (error instanceof HttpException) {
      const body = error.getResponse();
      res.status(error.getStatus()).json(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
    } else {
      this.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      res.status(500).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error — see the collector log' });
    }
  }
}
