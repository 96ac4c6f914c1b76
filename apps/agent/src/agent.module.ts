import { Module, type DynamicModule } from '@nestjs/common';
import { systemClock } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import type { AgentConfig } from './config/agent-config.js';
import { AgentController } from './controllers/agent.controller.js';
import { TokenGuard } from './controllers/token.guard.js';
import { ChecksService } from './services/checks.service.js';
import { HealthService } from './services/health.service.js';
import { AGENT_CONFIG, CLOCK, PLUGIN_REGISTRY, SPOOL } from './services/tokens.js';
import { MemorySpool } from './spool/memory-spool.js';

@Module({})
export class AgentModule {
  static forConfig(config: AgentConfig, registry: PluginRegistry): DynamicModule {
    return {
      module: AgentModule,
      controllers: [AgentController],
      providers: [
        { provide: AGENT_CONFIG, useValue: config },
        { provide: PLUGIN_REGISTRY, useValue: registry },
        { provide: CLOCK, useValue: systemClock },
        {
          provide: SPOOL,
          useValue: new MemorySpool({
            maxResults: config.spool.maxResults,
            maxBytes: config.spool.maxBytes,
            maxAgeMs: config.spool.maxAgeHours * 3600_000,
          }),
        },
        ChecksService,
        HealthService,
        TokenGuard,
      ],
    };
  }
}
