import { Module, type DynamicModule } from '@nestjs/common';
import { systemClock } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import type { AgentConfig } from './config/agent-config.js';
import { AgentController } from './controllers/agent.controller.js';
import { ChecksService } from './services/checks.service.js';
import { CollectService } from './services/collect.service.js';
import { DescribeService } from './services/describe.service.js';
import { HealthService } from './services/health.service.js';
import { AGENT_CONFIG, CLOCK, PLUGIN_REGISTRY, SPOOL } from './services/tokens.js';
import { TokenKeeper } from './services/token-keeper.js';
import { SiteKeyClaims } from './services/site-key-claims.js';
import type { Spool } from './spool/spool.js';

@Module({})
export class AgentModule {
  /** The spool is opened (and closed) by the caller: it outlives the app so the last results are flushed after the checks stop. */
  static forConfig(config: AgentConfig, registry: PluginRegistry, spool: Spool, tokens: TokenKeeper, claims: SiteKeyClaims): DynamicModule {
    return {
      module: AgentModule,
      controllers: [AgentController],
      providers: [
        { provide: AGENT_CONFIG, useValue: config },
        { provide: PLUGIN_REGISTRY, useValue: registry },
        { provide: CLOCK, useValue: systemClock },
        { provide: SPOOL, useValue: spool },
        // Shared with the door (TokenGuard), which runs before Nest sees a call.
        { provide: TokenKeeper, useValue: tokens },
        { provide: SiteKeyClaims, useValue: claims },
        ChecksService,
        HealthService,
        CollectService,
        DescribeService,
      ],
    };
  }
}
