import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { AGENT_FILTERS, AGENT_ORDER, AgentsService } from '../../inventory/agents.service.js';
import { AlertingService } from '../../alerting/alerting.service.js';
import { enrolAgentDto, listAgentsQuery, updateAgentDto, type EnrolAgentDto, type ListAgentsQuery, type UpdateAgentDto } from '../../inventory/agents.dto.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { Audit } from '../audit-context.js';
import type { AuditContext } from '../../audit/audit.types.js';

@Controller('api/v1/agents')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly alerting: AlertingService,
  ) {}

  /** `?name=&tag=site=north&state=DOWN` filter, `?sort=name|state|lastSeen` (`-` reverses; `state` is DOWN first), `?limit=&offset=` page; `X-Total-Count` says how many matched. */
  @Get()
  async list(@Query(new ZodPipe(listAgentsQuery, 'invalid query')) query: ListAgentsQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(await this.agents.listViews(), query, AGENT_ORDER, AGENT_FILTERS));
  }

  /** The agent, and what holds its AgentUnreachable alert back now (`suppressedBy`: a parent down). */
  @Get(':id')
  async get(@Param('id') id: string) {
    const view = await this.agents.getView(id);
    return { ...view, suppressedBy: this.alerting.suppressedBy({ kind: 'agent', id: view.id }) };
  }

  /** `{name, enrol}`; the answer carries a `warning` when the agent could not be reached now. */
  @Post()
  @Access('operator')
  enrol(@Body(new ZodPipe(enrolAgentDto, 'invalid agent')) dto: EnrolAgentDto, @Audit() context: AuditContext) {
    return this.agents.enrol(dto, context);
  }

  /** `{tags, dependsOn}`: an agent's tags, which every check of it carries, and the parents its unreachable alert waits for. */
  @Patch(':id')
  @Access('operator')
  update(@Param('id') id: string, @Body(new ZodPipe(updateAgentDto, 'invalid agent')) dto: UpdateAgentDto, @Audit() context: AuditContext) {
    return this.agents.update(id, dto, context);
  }

  /** A new bearer token for the agent (made here, never shown); the answer carries a `warning` when the agent has not used it yet. */
  @Post(':id/rotate-token')
  @Access('operator')
  @HttpCode(200)
  rotateToken(@Param('id') id: string, @Audit() context: AuditContext) {
    return this.agents.rotateToken(id, context);
  }

  @Delete(':id')
  @Access('operator')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Audit() context: AuditContext): Promise<void> {
    await this.agents.remove(id, context);
  }
}
