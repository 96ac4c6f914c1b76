import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseFilters, UseGuards } from '@nestjs/common';
import { AlertingService } from '../../alerting/alerting.service.js';
import { ValidationFailedError } from '../../shared/errors.js';
import { ApiErrorFilter } from './error.filter.js';
import { ApiTokenGuard } from '../../auth/api-token.guard.js';

/** Alerts, their history and acknowledgements; rules, silences, maintenance windows and check policies. */
@Controller('api/v1')
@UseGuards(ApiTokenGuard)
@UseFilters(ApiErrorFilter)
export class AlertingController {
  constructor(private readonly alerting: AlertingService) {}

  /** Pending and firing alerts (and resolved ones whose "resolved" is still to go out), with why each is muted. */
  @Get('alerts')
  alerts() {
    return this.alerting.alerts();
  }

  /** Newest first; `?fingerprint=` for one alert, `?before=<id>` to page back. */
  @Get('alerts/history')
  history(@Query('limit') limitText?: string, @Query('fingerprint') fingerprint?: string, @Query('before') beforeText?: string) {
    const limit = limitText === undefined ? 100 : Number(limitText);
    const before = beforeText === undefined ? undefined : Number(beforeText);
    const errors = [];
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) errors.push({ field: 'limit', message: 'must be a whole number from 1 to 10000' });
    if (before !== undefined && (!Number.isInteger(before) || before < 1)) errors.push({ field: 'before', message: 'must be the id of a history line' });
    if (errors.length > 0) throw new ValidationFailedError('invalid query', errors);
    return this.alerting.history({ limit, ...(fingerprint ? { fingerprint } : {}), ...(before === undefined ? {} : { before }) });
  }

  @Get('alerts/:fingerprint')
  alert(@Param('fingerprint') fingerprint: string) {
    return this.alerting.alert(fingerprint);
  }

  /** `{comment, expiresAt?, by?}`: stops reminders until it expires or the alert resolves or changes severity. */
  @Post('alerts/:fingerprint/ack')
  @HttpCode(200)
  acknowledge(@Param('fingerprint') fingerprint: string, @Body() body: unknown) {
    return this.alerting.acknowledge(fingerprint, body);
  }

  @Delete('alerts/:fingerprint/ack')
  @HttpCode(204)
  async unacknowledge(@Param('fingerprint') fingerprint: string, @Query('by') by?: string): Promise<void> {
    await this.alerting.unacknowledge(fingerprint, by?.trim() || undefined);
  }

  @Get('alert-rules')
  rules() {
    return this.alerting.rules();
  }

  /** Replaces the whole list. */
  @Put('alert-rules')
  setRules(@Body() body: unknown) {
    return this.alerting.setRules(body);
  }

  @Get('silences')
  silences() {
    return this.alerting.silences();
  }

  @Post('silences')
  addSilence(@Body() body: unknown) {
    return this.alerting.addSilence(body);
  }

  /** Ends the silence now. */
  @Delete('silences/:id')
  @HttpCode(204)
  async expireSilence(@Param('id') id: string): Promise<void> {
    await this.alerting.expireSilence(id);
  }

  @Get('maintenance-windows')
  maintenanceWindows() {
    return this.alerting.maintenanceWindows();
  }

  /** Adds a window, or replaces the one with the same id. */
  @Post('maintenance-windows')
  putMaintenanceWindow(@Body() body: unknown) {
    return this.alerting.putMaintenanceWindow(body);
  }

  @Delete('maintenance-windows/:id')
  @HttpCode(204)
  async removeMaintenanceWindow(@Param('id') id: string): Promise<void> {
    await this.alerting.removeMaintenanceWindow(id);
  }

  @Get('checks/:id/policy')
  checkPolicy(@Param('id') id: string) {
    return this.alerting.checkPolicy(id);
  }

  /** `{failuresBeforeHard?, successesBeforeRecovery?, flap?, repeat?}`; `{}` goes back to the defaults. */
  @Put('checks/:id/policy')
  setCheckPolicy(@Param('id') id: string, @Body() body: unknown) {
    return this.alerting.setCheckPolicy(id, body);
  }
}
