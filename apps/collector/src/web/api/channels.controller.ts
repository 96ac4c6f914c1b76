import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { ChannelsService, channelView } from '../../notifications/channels.service.js';
import { OutboxRepository } from '../../notifications/outbox.repository.js';
import { ValidationFailedError } from '../../shared/errors.js';
import { ApiErrorFilter } from './error.filter.js';
import { ApiTokenGuard } from '../../auth/api-token.guard.js';

@Controller('api/v1/channels')
@UseGuards(ApiTokenGuard)
@UseFilters(ApiErrorFilter)
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly outbox: OutboxRepository,
  ) {}

  @Get()
  list() {
    return this.channels.listViews();
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.channels.getView(id);
  }

  @Post()
  async create(@Body() body: unknown) {
    return channelView(await this.channels.create(body));
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown) {
    const channel = await this.channels.update(id, body);
    return channelView(channel, await this.outbox.counts());
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.channels.remove(id);
  }

  /** Sends a test message now; 200 with `{ok: false, error}` when the channel refuses it. */
  @Post(':id/test')
  @HttpCode(200)
  test(@Param('id') id: string) {
    return this.channels.test(id);
  }

  /** The channel's latest notifications and what became of them (newest first). */
  @Get(':id/deliveries')
  async deliveries(@Param('id') id: string, @Query('limit') limitText?: string) {
    const limit = limitText === undefined ? 50 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationFailedError('invalid query', [{ field: 'limit', message: 'must be a whole number from 1 to 1000' }]);
    }
    return this.channels.deliveries(id, limit);
  }
}
