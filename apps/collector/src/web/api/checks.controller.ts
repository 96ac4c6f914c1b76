import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { CHECK_STATUSES } from '#rounds/common';
import { ChecksService } from '../../inventory/checks.service.js';
import { ResultsRepository } from '../../polling/results.repository.js';
import { ValidationFailedError } from '../../shared/errors.js';
import { ApiErrorFilter } from './error.filter.js';
import { ApiTokenGuard } from '../../auth/api-token.guard.js';

@Controller('api/v1/checks')
@UseGuards(ApiTokenGuard)
@UseFilters(ApiErrorFilter)
export class ChecksController {
  constructor(
    private readonly checks: ChecksService,
    private readonly results: ResultsRepository,
  ) {}

  @Get()
  async list(@Query('agent') agent?: string) {
    const checks = await this.checks.list(agent);
    const states = new Map((await this.results.stateFor(checks.map((c) => c.id))).map((s) => [s.checkId, s]));
    return checks.map((c) => {
      const s = states.get(c.id);
      return {
        ...this.checks.view(c),
        state: s ? { status: CHECK_STATUSES[s.status], reason: s.reason, summary: s.summary, lastResultAt: s.lastResultAt, consecutiveFailures: s.consecutiveFailures } : null,
      };
    });
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const check = await this.checks.get(id);
    const [s] = await this.results.stateFor([id]);
    return {
      ...this.checks.view(check),
      state: s
        ? {
            status: CHECK_STATUSES[s.status],
            reason: s.reason,
            summary: s.summary,
            lastResultAt: s.lastResultAt,
            lastOkAt: s.lastOkAt,
            lastChangeAt: s.lastChangeAt,
            consecutiveFailures: s.consecutiveFailures,
            lastDurationMs: s.lastDurationMs,
            metrics: JSON.parse(s.metricsJson) as unknown,
          }
        : null,
    };
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
    return (await this.results.recent(id, limit)).map((r) => ({
      seq: r.seq,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      status: CHECK_STATUSES[r.status],
      reason: r.reason,
      summary: r.summary,
      metrics: JSON.parse(r.metricsJson) as unknown,
    }));
  }

  /** Runs the check on its agent now ("check now"); the result is returned, not stored. */
  @Post(':id/run')
  @HttpCode(200)
  async run(@Param('id') id: string) {
    return this.checks.runNow(id);
  }
}
