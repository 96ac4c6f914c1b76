import { Controller, Delete, Get, HttpCode, Param, UseFilters } from '@nestjs/common';
import { Access } from '../../auth/access.decorator.js';
import type { Principal } from '../../auth/principal.js';
import { SessionsService, type SessionView } from '../../auth/sessions.service.js';
import type { AuditContext } from '../../audit/audit.types.js';
import { Audit } from '../audit-context.js';
import { Caller } from '../caller.decorator.js';
import { ApiErrorFilter } from './error.filter.js';

/** Who the caller is, and their browser sessions (list, end one, end all). */
@Controller('api/v1')
@Access('self')
@UseFilters(ApiErrorFilter)
export class MeController {
  constructor(private readonly sessions: SessionsService) {}

  @Get('me')
  me(@Caller() caller: Principal) {
    return { id: caller.userId, name: caller.name, role: caller.role, via: caller.via };
  }

  @Get('sessions')
  list(@Caller() caller: Principal): Promise<SessionView[]> {
    return this.sessions.list(caller.userId, caller.via === 'session' ? caller.credentialId : undefined);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  async end(@Caller() caller: Principal, @Param('id') id: string, @Audit() context: AuditContext): Promise<void> {
    await this.sessions.end({ id: caller.userId, name: caller.name }, id, context);
  }

  /** Signs out everywhere — but the session making the request, when it is one. */
  @Delete('sessions')
  async endAll(@Caller() caller: Principal, @Audit() context: AuditContext): Promise<{ ended: number }> {
    return { ended: await this.sessions.endAll({ id: caller.userId, name: caller.name }, context, caller.via === 'session' ? caller.credentialId : undefined) };
  }
}
