import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseFilters, UseGuards } from '@nestjs/common';
import type { AgentEntity } from '../../storage/entities/index.js';
import { AgentsService, descriptionOf } from '../../inventory/agents.service.js';
import { ApiErrorFilter } from './error.filter.js';
import { ApiTokenGuard } from '../../auth/api-token.guard.js';

/** An agent as the API shows it: never the token. */
export function agentView(a: AgentEntity) {
  const d = descriptionOf(a);
  return {
    id: a.id,
    name: a.name,
    host: a.host,
    port: a.port,
    fingerprint: a.fingerprint,
    state: a.state,
    lastSeenAt: a.lastSeenAt,
    lastError: a.lastError,
    consecutiveFailures: a.consecutiveFailures,
    ackSeq: a.ackSeq,
    dropped: a.dropped,
    checksInSync: a.agentAssignmentVersion === a.assignmentVersion,
    health: a.healthJson ? (JSON.parse(a.healthJson) as unknown) : null,
    agent: d ? { id: d.agentId, version: d.version, hostname: d.hostname, os: d.os, arch: d.arch, plugins: d.plugins.map((p) => ({ name: p.name, version: p.version, source: p.source })) } : null,
    createdAt: a.createdAt,
  };
}

@Controller('api/v1/agents')
@UseGuards(ApiTokenGuard)
@UseFilters(ApiErrorFilter)
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  async list() {
    return (await this.agents.list()).map(agentView);
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return agentView(await this.agents.get(id));
  }

  @Post()
  async enrol(@Body() body: { name?: unknown; enrol?: unknown }) {
    const { agent, warning } = await this.agents.enrol(String(body?.name ?? ''), String(body?.enrol ?? ''));
    return { ...agentView(agent), ...(warning ? { warning } : {}) };
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.agents.remove(id);
  }
}
