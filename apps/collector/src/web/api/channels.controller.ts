import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { CHANNEL_FILTERS, CHANNEL_ORDER, ChannelsService } from '../../notifications/channels.service.js';
import {
  createChannelDto,
  deliveriesQuery,
  listChannelsQuery,
  previewDto,
  previewUnsavedDto,
  updateChannelDto,
  type CreateChannelDto,
  type DeliveriesQuery,
  type ListChannelsQuery,
  type PreviewDto,
  type PreviewUnsavedDto,
  type UpdateChannelDto,
} from '../../notifications/channels.dto.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { Audit } from '../audit-context.js';
import type { AuditContext } from '../../audit/audit.types.js';

@Controller('api/v1/channels')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class ChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  /** `?type=&state=&enabled=&name=` filter, `?sort=name|type|state`, `?limit=&offset=`. */
  @Get()
  async list(@Query(new ZodPipe(listChannelsQuery, 'invalid query')) query: ListChannelsQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(await this.channels.listViews(), query, CHANNEL_ORDER, CHANNEL_FILTERS));
  }

  /** What a channel not saved yet would send; before `:id` so that "preview" is not taken for a channel's name. */
  @Post('preview')
  @Access('operator')
  @HttpCode(200)
  previewUnsaved(@Body(new ZodPipe(previewUnsavedDto, 'invalid notification channel')) dto: PreviewUnsavedDto) {
    return this.channels.previewUnsaved(dto);
  }

  /** What the channel would send for an alert (a sample by default), optionally with another template. */
  @Post(':id/preview')
  @Access('operator')
  @HttpCode(200)
  preview(@Param('id') id: string, @Body(new ZodPipe(previewDto, 'invalid preview')) dto: PreviewDto) {
    return this.channels.preview(id, dto);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.channels.getView(id);
  }

  @Post()
  @Access('admin')
  create(@Body(new ZodPipe(createChannelDto, 'invalid notification channel')) dto: CreateChannelDto, @Audit() context: AuditContext) {
    return this.channels.create(dto, context);
  }

  @Patch(':id')
  @Access('admin')
  update(@Param('id') id: string, @Body(new ZodPipe(updateChannelDto, 'invalid notification channel')) dto: UpdateChannelDto, @Audit() context: AuditContext) {
    return this.channels.update(id, dto, context);
  }

  @Delete(':id')
  @Access('admin')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Audit() context: AuditContext): Promise<void> {
    await this.channels.remove(id, context);
  }

  /** Sends a test message now; 200 with `{ok: false, error}` when the channel refuses it. */
  @Post(':id/test')
  @Access('operator')
  @HttpCode(200)
  test(@Param('id') id: string) {
    return this.channels.test(id);
  }

  /**
   * The channel's notifications and what became of them: `?status=&alert=` filter, `?sort=createdAt|-createdAt`
   * (newest first by default), `?limit=` (default 50) `&offset=`.
   */
  @Get(':id/deliveries')
  async deliveries(
    @Param('id') id: string,
    @Query(new ZodPipe(deliveriesQuery, 'invalid query')) query: DeliveriesQuery,
    @Res({ passthrough: true }) res: Response,
  ) {
    return listAnswer(res, await this.channels.deliveries(id, query));
  }
}
