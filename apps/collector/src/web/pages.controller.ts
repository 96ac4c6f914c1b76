import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { StorageHealth } from '../storage/storage-health.service.js';
import { StatusPageService } from './status-page.service.js';

@Controller()
export class PagesController {
  constructor(
    private readonly statusPage: StatusPageService,
    private readonly storage: StorageHealth,
  ) {}

  /** Sent as rendered (res.end): express would otherwise hash the whole page again for every request. */
  @Get()
  status(@Req() req: Request, @Res() res: Response): void {
    const { body, etag } = this.statusPage.page();
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.status(200).setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(body);
  }

  /** Liveness and storage readiness for load balancers and service managers. */
  @Get('healthz')
  async healthz(@Res() res: Response): Promise<void> {
    const problem = await this.storage.readiness();
    if (problem) res.status(503).json({ status: 'unavailable', error: problem });
    else res.status(200).json({ status: 'ok' });
  }
}
