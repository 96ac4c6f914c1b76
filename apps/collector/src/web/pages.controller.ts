import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { StorageHealth } from '../storage/storage-health.service.js';
import { StatusPageService } from './status-page.service.js';

@Controller()
export class PagesController {
  constructor(
    private readonly statusPage: StatusPageService,
    private readonly storage: StorageHealth,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  status(): string {
    return this.statusPage.html();
  }

  /** Liveness and storage readiness for load balancers and service managers. */
  @Get('healthz')
  async healthz(@Res() res: Response): Promise<void> {
    const problem = await this.storage.readiness();
    if (problem) res.status(503).json({ status: 'unavailable', error: problem });
    else res.status(200).json({ status: 'ok' });
  }
}
