import { Controller, Get, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../../auth/access.decorator.js';
import { PageErrorFilter } from '../page-error.filter.js';
import { pageViewer, sendPage } from '../page-response.js';
import { ApiDocsPage } from '../views/api-docs.page.js';
import { ApiErrorFilter } from './error.filter.js';
import { openApiDocument } from './openapi/document.js';

const DOCUMENT_PATH = '/api/v1/openapi.json';

/** The API's OpenAPI document, and a page that shows it (any signed-in user: browsers and tokens alike). */
@Controller()
@Access('viewer')
export class OpenApiController {
  @Get(DOCUMENT_PATH.slice(1))
  @UseFilters(ApiErrorFilter)
  document() {
    return openApiDocument();
  }

  /** A page: not signed in goes to the sign-in form, as every page does. */
  @Get('api/docs')
  @UseFilters(PageErrorFilter)
  docs(@Req() req: Request, @Res() res: Response): void {
    sendPage(res, <ApiDocsPage viewer={pageViewer(req)} documentUrl={DOCUMENT_PATH} />);
  }
}
