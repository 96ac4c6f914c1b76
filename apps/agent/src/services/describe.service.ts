import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { ROUNDS_VERSION as AGENT_VERSION } from '#rounds/common';
import type { AgentDescription } from '#rounds/common/wire';
import { describePlugin, type PluginRegistry } from '#rounds/plugins';
import type { AgentConfig } from '../config/agent-config.js';
import { ChecksService } from './checks.service.js';
import { AGENT_CONFIG, PLUGIN_REGISTRY } from './tokens.js';

const STARTED_AT = Date.now();

/** What the agent tells a collector about itself: identity, platform, plugins with their schemas. */
@Injectable()
export class DescribeService {
  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
    private readonly checks: ChecksService,
  ) {}

  describe(): AgentDescription {
    return {
      agentId: this.config.id,
      version: AGENT_VERSION,
      hostname: hostname(),
      os: process.platform,
      arch: process.arch,
      plugins: this.registry.list().map(describePlugin),
      assignmentVersion: this.checks.assignmentVersion,
      startedAtMs: STARTED_AT,
    };
  }
}
