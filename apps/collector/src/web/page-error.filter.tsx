import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SignInRequiredException, signedInOf } from '../auth/access.guard.js';
import { NotFoundError } from '../shared/errors.js';
import { ErrorPage } from './views/error.page.js';
import { renderPage } from './views/layout.js';
import { viewerOf } from './page-response.js';

/**
 * Errors of the pages as pages: not signed in → to the sign-in form (303, so a refused POST
 * comes back as a GET); refused, missing or broken → a page saying so in words. The JSON API
 * has its own filter (api/error.filter.ts).
 */
@Catch()
export class PageErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Pages');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    if (thrown instanceof SignInRequiredException) {
      response.redirect(303, thrown.location);
      return;
    }
    let status = 500;
    let title = 'Something went wrong';
    let message = 'an internal error — see the collector log';
    if (thrown instanceof NotFoundError) {
      [status, title, message] = [404, 'Not found', thrown.message];
    } else if (thrown instanceof HttpException) {
      status = thrown.getStatus();
      const body = thrown.getResponse();
      const said = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = typeof said === 'string' ? said : Array.isArray(said) ? said.join('; ') : thrown.message;
      title = status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : status === 429 ? 'Too many attempts' : 'Cannot do that';
    } else {
      this.log.error(thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown));
    }
    const signedIn = signedInOf(request);
    response
      .status(status)
      .type('html')
      .send(renderPage(<ErrorPage status={status} title={title} message={message} viewer={signedIn ? viewerOf(signedIn) : undefined} />));
  }
}
