import { Module } from '@nestjs/common';
import { AgentClientPool } from './agent-client.pool.js';
import { AgentsRepository } from './agents.repository.js';
import { AgentsService } from './agents.service.js';
import { ChecksRepository } from './checks.repository.js';
import { ChecksService } from './checks.service.js';
import { DependenciesService } from './dependencies.service.js';

/** Agents (enrolment, pinned certificates, the gRPC channels to them) and the checks they run. */
@Module({
  providers: [AgentsRepository, ChecksRepository, AgentClientPool, DependenciesService, AgentsService, ChecksService],
  exports: [AgentsRepository, ChecksRepository, AgentClientPool, DependenciesService, AgentsService, ChecksService],
})
export class InventoryModule {}
