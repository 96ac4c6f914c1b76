import { Body, Controller, Delete, ForbiddenException, Get, Param, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { Access } from '../../auth/access.decorator.js';
import { createTokenDto, listTokensQuery, type CreateTokenDto, type ListTokensQuery } from '../../auth/api-tokens.dto.js';
import { ApiTokensService, TOKEN_FILTERS, TOKEN_ORDER, type ApiTokenView } from '../../auth/api-tokens.service.js';
import type { Principal } from '../../auth/principal.js';
import type { AuditContext } from '../../audit/audit.types.js';
import { Audit } from '../audit-context.js';
import { Caller } from '../caller.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { ApiErrorFilter } from './error.filter.js';

/**
 * The caller's own API tokens (every role may have some: a token carries its owner's role).
 * Admins may list everyone's and revoke or rotate any, e.g. a leaver's.
 */
@Controller('api/v1/tokens')
@Access('self')
@UseFilters(ApiErrorFilter)
export class TokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  /** Yours; `?user=<name>` someone's, `?all=true` everyone's (admins); `?state=&name=` filter, `?sort=` (newest first by default), `?limit=&offset=`. */
  @Get()
  async list(
    @Caller() caller: Principal,
    @Query(new ZodPipe(listTokensQuery, 'invalid query')) query: ListTokensQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ApiTokenView[]> {
    const others = query.all === 'true' || (query.user !== undefined && query.user.toLowerCase() !== caller.name.toLowerCase());
    if (others && caller.role !== 'admin') throw new ForbiddenException(`your role (${caller.role}) sees only your own tokens: leave out user and all`);
    const tokens = await this.tokens.list(query.all === 'true' ? undefined : (query.user ?? caller.name));
    return listAnswer(res, listPage(tokens, query, TOKEN_ORDER, TOKEN_FILTERS));
  }

  /** 201 with `token` — its only showing — and the token's view. */
  @Post()
  create(@Caller() caller: Principal, @Body(new ZodPipe(createTokenDto, 'invalid API token')) dto: CreateTokenDto, @Audit() context: AuditContext) {
    return this.tokens.create(
      caller.name,
      { name: dto.name, expiresAt: dto.expiresAt ?? null, ...(dto.expiresIn === undefined ? {} : { expiresInMs: dto.expiresIn }) },
      context,
    );
  }

  /** Revokes at once. */
  @Delete(':id')
  revoke(@Caller() caller: Principal, @Param('id') id: string, @Audit() context: AuditContext): Promise<ApiTokenView> {
    return this.tokens.revoke(id, context, scopeOf(caller));
  }

  /** A new token in place of this one (same name and owner); the old one stops at once. */
  @Post(':id/rotate')
  rotate(@Caller() caller: Principal, @Param('id') id: string, @Audit() context: AuditContext) {
    return this.tokens.rotate(id, context, scopeOf(caller));
  }
}

/** Admins act on any token; everyone else on their own. */
function scopeOf(caller: Principal): { owner?: string } {
  return caller.role === 'admin' ? {} : { owner: caller.name };
}
