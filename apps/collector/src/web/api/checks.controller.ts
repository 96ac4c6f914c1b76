import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { ChecksService } from '../../inventory/checks.service.js';
import { HistoryService } from '../../history/history.service.js';
import { ValidationFailedError } from '../../shared/errors.js';
import { ApiErrorFilter } from './error.filter.js';
import { ApiTokenGuard } from '../../auth/api-token.guard.js';

@Controller('api/v1/checks')
@UseGuards(ApiTokenGuard)
@UseFilters(ApiErrorFilter)
export class ChecksController {
  constructor(
    private readonly checks: ChecksService,
    private readonly history: HistoryService,
  ) {}

  @Get()
  async list(@Query('agent') agent?: string) {
    return (await this.checks.list(agent)).map((c) => ({ ...this.checks.view(c), state: this.checks.stateView(c.id) }));
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const check = await this.checks.get(id);
    return { ...this.checks.view(check), state: this.checks.stateView(check.id) };
  }

  @Post()
  async create(@Body() body: unknown) {
    return this.checks.view(await this.checks.create(body));
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown) {
    return this.checks.view(await this.checks.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.checks.remove(id);
  }

  @Get(':id/results')
  async recent(@Param('id') id: string, @Query('limit') limitText?: string) {
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new ValidationFailedError('invalid query', [{ field: 'limit', message: 'must be a whole number from 1 to 10000' }]);
    }
    await this.checks.get(id);
    return this.history.recent(id, limit);
  }

  /** Runs the check on its agent now ("check now"); the result is returned, not stored. */
  @Post(':id/run')
  @HttpCode(200)
  async run(@Param('id') id: string) {
    return this.checks.runNow(id);
  }
}
