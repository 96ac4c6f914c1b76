import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { Access } from '../../auth/access.decorator.js';
import type { AuditContext } from '../../audit/audit.types.js';
import { addUserDto, listUsersQuery, patchUserDto, type AddUserDto, type ListUsersQuery, type PatchUserDto } from '../../users/users.dto.js';
import { USER_FILTERS, USER_ORDER, UsersService, type UserView } from '../../users/users.service.js';
import { Audit } from '../audit-context.js';
import { ZodPipe } from '../zod.pipe.js';
import { ApiErrorFilter } from './error.filter.js';

/** Users, for admins: the API side of the users page and `rounds-collector user …`. */
@Controller('api/v1/users')
@Access('admin')
@UseFilters(ApiErrorFilter)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** `?role=&disabled=&name=` filter, `?sort=name|role|createdAt`, `?limit=&offset=`. */
  @Get()
  async list(@Query(new ZodPipe(listUsersQuery, 'invalid query')) query: ListUsersQuery, @Res({ passthrough: true }) res: Response): Promise<UserView[]> {
    return listAnswer(res, listPage(await this.users.list(), query, USER_ORDER, USER_FILTERS));
  }

  /** 201 with the user, and `password` when it was generated (its only showing). */
  @Post()
  add(@Body(new ZodPipe(addUserDto, 'invalid user')) dto: AddUserDto, @Audit() context: AuditContext) {
    return this.users.add(dto, context);
  }

  @Patch(':name')
  async patch(
    @Param('name') name: string,
    @Body(new ZodPipe(patchUserDto, 'invalid user change')) dto: PatchUserDto,
    @Audit() context: AuditContext,
  ): Promise<UserView> {
    let view: UserView | undefined;
    if (dto.role !== undefined) view = await this.users.setRole(name, dto.role, context);
    if (dto.disabled !== undefined) view = await this.users.setDisabled(name, dto.disabled, context);
    return view!;
  }

  /** A new generated password, returned once, to be changed at the next sign-in; the user's sessions end. */
  @Post(':name/reset-password')
  @HttpCode(200)
  resetPassword(@Param('name') name: string, @Audit() context: AuditContext) {
    return this.users.resetPassword(name, context);
  }

  @Post(':name/reset-2fa')
  @HttpCode(200)
  resetTwoFactor(@Param('name') name: string, @Audit() context: AuditContext): Promise<UserView> {
    return this.users.resetTwoFactor(name, context);
  }
}
