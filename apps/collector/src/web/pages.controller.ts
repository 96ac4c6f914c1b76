import { createHash } from 'node:crypto';
import { Controller, Get, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { signedInOf } from '../auth/access.guard.js';
import { principalOf } from './caller.decorator.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { PageErrorFilter } from './page-error.filter.js';
import { viewerOf } from './page-response.js';
import { StatusPageService } from './status-page.service.js';
import { layoutShell, type Viewer } from './views/layout.js';
import { FAVICON_PATH, FAVICON_SVG } from './views/favicon.js';
import { STYLESHEET, STYLESHEET_PATH } from './views/stylesheet.js';

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
    const signedIn = signedInOf(req);
    const principal = principalOf(req);
    // An API token has no session, hence no sign-out form: the header just names the token's owner.
    const viewer: Viewer | undefined = signedIn ? viewerOf(signedIn) : principal ? { name: principal.name, role: principal.role, csrf: '' } : undefined;
    const { head, tail } = layoutShell({ title: 'Status', viewer, section: 'status', refreshSeconds: 15 });
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

  /** Liveness and storage readiness for load balancers and service managers. */
  @Get('healthz')
  @Access('public')
  async healthz(@Res() res: Response): Promise<void> {
    const problem = await this.storage.readiness();
    if (problem) res.status(503).json({ status: 'unavailable', error: problem });
    else res.status(200).json({ status: 'ok' });
  }
}
