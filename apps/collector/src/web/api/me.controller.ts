import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseFilters } from '@nestjs/common';
import { UsersService, type UserView } from '../../users/users.service.js';
import { changePasswordDto, type ChangePasswordDto } from '../../users/users.dto.js';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listSessionsQuery, type ListSessionsQuery } from '../../auth/sessions.dto.js';
import { ZodPipe } from '../zod.pipe.js';
import { listAnswer } from './list-answer.js';
import { Access } from '../../auth/access.decorator.js';
import type { Principal } from '../../auth/principal.js';
import { SESSION_ORDER, SessionsService, type SessionView } from '../../auth/sessions.service.js';
import type { AuditContext } from '../../audit/audit.types.js';
import { Audit } from '../audit-context.js';
import { Caller } from '../caller.decorator.js';
import { ApiErrorFilter } from './error.filter.js';

/** Who the caller is, their password, and their browser sessions (list, end one, end all). */
@Controller('api/v1')
@Access('self')
@UseFilters(ApiErrorFilter)
export class MeController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
  ) {}

  @Get('me')
  me(@Caller() caller: Principal) {
    return { id: caller.userId, name: caller.name, role: caller.role, via: caller.via };
  }

  /** `{current, password}`: as on the Account page — and the caller's other sessions end (whoever held one is signed out). */
  @Post('me/password')
  @HttpCode(200)
  async changePassword(
    @Caller() caller: Principal,
    @Body(new ZodPipe(changePasswordDto, 'invalid password change')) dto: ChangePasswordDto,
    @Audit() context: AuditContext,
  ): Promise<{ user: UserView; sessionsEnded: number }> {
    const user = await this.users.changePassword(caller.userId, dto.current, dto.password, context);
    const sessionsEnded = await this.sessions.endAll(
      { id: caller.userId, name: caller.name },
      context,
      caller.via === 'session' ? caller.credentialId : undefined,
    );
    return { user, sessionsEnded };
  }

  /** `?sort=lastSeenAt|createdAt`, `?limit=&offset=`. */
  @Get('sessions')
  async list(
    @Caller() caller: Principal,
    @Query(new ZodPipe(listSessionsQuery, 'invalid query')) query: ListSessionsQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionView[]> {
    return listAnswer(res, listPage(await this.sessions.list(caller.userId, caller.via === 'session' ? caller.credentialId : undefined), query, SESSION_ORDER));
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
