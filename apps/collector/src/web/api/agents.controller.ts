import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseFilters } from '@nestjs/common';
import { AgentsService } from '../../inventory/agents.service.js';
import { enrolAgentDto, updateAgentDto, type EnrolAgentDto, type UpdateAgentDto } from '../../inventory/agents.dto.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { Audit } from '../audit-context.js';
import type { AuditContext } from '../../audit/audit.types.js';

@Controller('api/v1/agents')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  list() {
    return this.agents.listViews();
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.agents.getView(id);
  }

  /** `{name, enrol}`; the answer carries a `warning` when the agent could not be reached now. */
  @Post()
  @Access('operator')
  enrol(@Body(new ZodPipe(enrolAgentDto, 'invalid agent')) dto: EnrolAgentDto, @Audit() context: AuditContext) {
    return this.agents.enrol(dto, context);
  }

  /** `{tags}`: an agent's tags, which every check of it carries. */
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
