import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import type { AuditContext } from '../../audit/audit.types.js';
import { Access } from '../../auth/access.decorator.js';
import {
  listSchedulesQuery,
  nowQuery,
  overrideDto,
  scheduleDto,
  timelineQuery,
  type ListSchedulesQuery,
  type NowQuery,
  type OverrideDto,
  type ScheduleDto,
  type TimelineQuery,
} from '../../on-call/on-call.dto.js';
import { OnCallService, SCHEDULE_FILTERS, SCHEDULE_ORDER } from '../../on-call/on-call.service.js';
import { listPage } from '../../shared/dto.js';
import { Audit } from '../audit-context.js';
import { ZodPipe } from '../zod.pipe.js';
import { ApiErrorFilter } from './error.filter.js';
import { listAnswer } from './list-answer.js';

/** On-call schedules: viewers read, admins change; `:schedule` is an id or a name. */
@Controller('api/v1/on-call/schedules')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class OnCallController {
  constructor(private readonly onCall: OnCallService) {}

  @Get()
  async list(@Query(new ZodPipe(listSchedulesQuery, 'invalid query')) query: ListSchedulesQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(await this.onCall.list(), query, SCHEDULE_ORDER, SCHEDULE_FILTERS));
  }

  @Get(':schedule')
  get(@Param('schedule') schedule: string) {
    return this.onCall.get(schedule);
  }

  @Post()
  @Access('admin')
  create(@Body(new ZodPipe(scheduleDto, 'invalid on-call schedule')) dto: ScheduleDto, @Audit() context: AuditContext) {
    return this.onCall.create(dto, context);
  }

  @Put(':schedule')
  @Access('admin')
  replace(@Param('schedule') schedule: string, @Body(new ZodPipe(scheduleDto, 'invalid on-call schedule')) dto: ScheduleDto, @Audit() context: AuditContext) {
    return this.onCall.replace(schedule, dto, context);
  }

  @Delete(':schedule')
  @Access('admin')
  @HttpCode(204)
  async remove(@Param('schedule') schedule: string, @Audit() context: AuditContext): Promise<void> {
    await this.onCall.remove(schedule, context);
  }

  @Post(':schedule/overrides')
  @Access('admin')
  addOverride(@Param('schedule') schedule: string, @Body(new ZodPipe(overrideDto, 'invalid override')) dto: OverrideDto, @Audit() context: AuditContext) {
    return this.onCall.addOverride(schedule, dto, context);
  }

  @Delete(':schedule/overrides/:override')
  @Access('admin')
  @HttpCode(204)
  async removeOverride(@Param('schedule') schedule: string, @Param('override') override: string, @Audit() context: AuditContext): Promise<void> {
    await this.onCall.removeOverride(schedule, override, context);
  }

  /** Who is on call now, or `?at=` any instant. */
  @Get(':schedule/now')
  now(@Param('schedule') schedule: string, @Query(new ZodPipe(nowQuery, 'invalid query')) query: NowQuery) {
    return this.onCall.now(schedule, query.at);
  }

  @Get(':schedule/timeline')
  timeline(@Param('schedule') schedule: string, @Query(new ZodPipe(timelineQuery, 'invalid query')) query: TimelineQuery) {
    return this.onCall.timeline(schedule, query.from!, query.to!);
  }
}
