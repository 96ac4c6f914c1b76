import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../services/errors.js';

/** Service errors → HTTP: 400 with field errors, 404, 409; anything else is a 500 that is logged. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Api');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof ValidationFailedError) {
      res.status(400).json({ statusCode: 400, error: 'Bad Request', message: error.message, errors: error.errors });
    } else if (error instanceof NotFoundError) {
      res.status(404).json({ statusCode: 404, error: 'Not Found', message: error.message });
    } else if (error instanceof ConflictError) {
      res.status(409).json({ statusCode: 409, error: 'Conflict', message: error.message });
    } else if (error instanceof HttpException) {
      const body = error.getResponse();
      res.status(error.getStatus()).json(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
    } else {
      this.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      res.status(500).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error — see the collector log' });
    }
  }
}
