import { createHash } from 'node:crypto';
import { Controller, Get, NotFoundException, Param, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { PageErrorFilter } from './page-error.filter.js';
import { pageViewer } from './page-response.js';
import { readDashboardQuery, StatusPageService, type RenderedPage } from './status-page.service.js';
import { LiveUpdates } from './live-updates.service.js';
import { layoutShell } from './views/layout.js';
import { FAVICON_PATH, FAVICON_SVG } from './views/favicon.js';
import { STYLESHEET, STYLESHEET_PATH } from './views/stylesheet.js';
import { ASSETS, HTMX, HTMX_SSE } from './assets.js';

@Controller()
@UseFilters(PageErrorFilter)
export class PagesController {
  constructor(
    private readonly statusPage: StatusPageService,
    private readonly storage: StorageHealth,
    private readonly liveUpdates: LiveUpdates,
  ) {}

  /**
   * The dashboard. Its content is rendered once per model version, second and filter, and shared;
   * the layout around it names the viewer. Sent in three writes (res.end of one concatenation
   * would copy the content for every request), with an entity tag of both parts.
   */
  @Get()
  @Access('viewer')
  status(@Query() query: unknown, @Req() req: Request, @Res() res: Response): void {
    const content = this.statusPage.page(readDashboardQuery(query));
    const { head, tail } = layoutShell({
      title: 'Status',
      viewer: pageViewer(req),
      section: 'status',
      // Live through htmx and the event stream; a browser without JavaScript reloads instead.
      refreshWithoutScriptSeconds: 30,
      assets: { scripts: [HTMX.path, HTMX_SSE.path] },
    });
    sendShared(req, res, content, head, tail);
  }

  /** The dashboard's board alone, as htmx fetches it on a `status` event; a person opening it lands on the dashboard. */
  @Get('status/board')
  @Access('viewer')
  board(@Query() query: unknown, @Req() req: Request, @Res() res: Response): void {
    if (req.headers['hx-request'] !== 'true') {
      const search = new URLSearchParams(Object.entries(readDashboardQuery(query)).filter(([, v]) => v !== '')).toString();
      res.redirect(303, `/${search ? `?${search}` : ''}`);
      return;
    }
    sendShared(req, res, this.statusPage.board(readDashboardQuery(query)), '', '');
  }

  /** Server-sent events: `status` when the read model changed (and every 30 s), for the dashboards that are open. */
  @Get('live')
  @Access('viewer')
  live(@Req() req: Request, @Res() res: Response): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    // A reverse proxy (nginx) must pass each event on at once.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const done = this.liveUpdates.add({ write: (chunk) => res.write(chunk), end: () => res.end() });
    res.on('close', done);
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

/** Content shared between viewers inside a per-viewer `head`/`tail`, with an entity tag of all three. */
function sendShared(req: Request, res: Response, content: RenderedPage, head: string, tail: string): void {
  const tag = `${content.etag.slice(0, -1)}.${createHash('sha256').update(head).digest('base64url').slice(0, 12)}"`;
  res.setHeader('ETag', tag);
  res.setHeader('Cache-Control', 'no-cache');
  if (req.headers['if-none-match'] === tag && content.status === 200) {
    res.status(304).end();
    return;
  }
  res.status(content.status).setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(head) + content.body.length + Buffer.byteLength(tail)));
  res.write(head);
  res.write(content.body);
  res.end(tail);
}
