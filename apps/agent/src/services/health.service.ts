import { Inject, Injectable } from '@nestjs/common';
import type { AgentHealth } from '#rounds/common/wire';
import type { Spool } from '../spool/spool.js';
import { ChecksService } from './checks.service.js';
import { SPOOL } from './tokens.js';

/** The agent's own vital signs, sent with every Collect. */
@Injectable()
export class HealthService {
  constructor(
    @Inject(SPOOL) private readonly spool: Spool,
    private readonly checks: ChecksService,
  ) {}

  snapshot(): AgentHealth {
    const cpu = process.cpuUsage();
    return {
      rssBytes: process.memoryUsage.rss(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      spoolDepth: this.spool.depth,
      spoolBytes: this.spool.bytes,
      pluginErrors: this.checks.pluginErrors,
      checks: this.checks.checkCount,
      uptimeSeconds: process.uptime(),
    };
  }
}
