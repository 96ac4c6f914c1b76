import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthRepository } from '../storage/health.repository.js';
import { OverviewService } from '../state/overview.service.js';
import { StorageHealth } from '../storage/storage-health.service.js';
import { statusPage } from './views/status.page.js';

@Controller()
export class PagesController {
  constructor(
    private readonly overview: OverviewService,
    private readonly health: HealthRepository,
    private readonly storage: StorageHealth,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async status(): Promise<string> {
    return statusPage(await this.overview.snapshot()).value;
  }

  /** Liveness and storage readiness for load balancers and service managers. */
  @Get('healthz')
  async healthz(@Res() res: Response): Promise<void> {
    try {
      await this.health.ping();
      const problem = this.storage.problem();
      if (problem) res.status(503).json({ status: 'unavailable', error: problem });
      else res.status(200).json({ status: 'ok' });
    } catch (e) {
      res.status(503).json({ status: 'unavailable', error: `database: ${(e as Error).message}` });
    }
  }
}
