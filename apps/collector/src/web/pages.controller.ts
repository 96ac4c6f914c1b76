import { createHash } from 'node:crypto';
import { Controller, Get, NotFoundException, Param, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { PageErrorFilter } from './page-error.filter.js';
import { pageViewer } from './page-response.js';
import { StatusPageService } from './status-page.service.js';
import { layoutShell } from './views/layout.js';
import { FAVICON_PATH, FAVICON_SVG } from './views/favicon.js';
import { STYLESHEET, STYLESHEET_PATH } from './views/stylesheet.js';
import { ASSETS } from './assets.js';

@Controller()
@UseFilters(PageErrorFilter)
export class PagesController {
  constructor(
    private readonly statusPage: StatusPageService,
    private readonly storage: StorageHealth,
  ) {}

  /**
   * The content is rendered once per model version and second and shared; the layout around it
   * names the viewer. Sent in three writes (res.end of one concatenation would copy the content
   * for every request), with an entity tag of both parts.
   */
  @Get()
  @Access('viewer')
  status(@Req() req: Request, @Res() res: Response): void {
    const { body, etag } = this.statusPage.page();
    const { head, tail } = layoutShell({ title: 'Status', viewer: pageViewer(req), section: 'status', refreshSeconds: 15 });
    const tag = `${etag.slice(0, -1)}.${createHash('sha256').update(head).digest('base64url').slice(0, 12)}"`;
    res.setHeader('ETag', tag);
    res.setHeader('Cache-Control', 'no-cache');
    if (req.headers['if-none-match'] === tag) {
      res.status(304).end();
      return;
    }
    res.status(200).setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', String(Buffer.byteLength(head) + body.length + Buffer.byteLength(tail)));
    res.write(head);
    res.write(body);
    res.end(tail);
  }

  /** Named by its content: cached by browsers for a year and never stale. */
  @Get(STYLESHEET_PATH.slice(1))
  @Access('public')
  stylesheet(@Res() res: Response): void {
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type('text/css').send(STYLESHEET);
  }

  @Get(FAVICON_PATH.slice(1))
  @Access('public')
  favicon(@Res() res: Response): void {
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type('image/svg+xml').send(FAVICON_SVG);
  }

  /** Scripts and stylesheets of the charts (web/assets.ts), named by their content like the stylesheet; declared after the stylesheet and the icon, whose paths it would match too. */
  @Get('assets/:file')
  @Access('public')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const found = ASSETS.get(`/assets/${file}`);
    if (!found) throw new NotFoundException(`no asset ${file}`);
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type(found.type).send(found.body);
  }

  /** Liveness and storage readiness for load balancers and service managers. */
  @Get('healthz')
  @Access('public')
  async healthz(@Res() res: Response): Promise<void> {
    const problem = await this.storage.readiness();
    if (problem) res.status(503).json({ status: 'unavailable', error: problem });
    else res.status(200).json({ status: 'ok' });
  }
}
