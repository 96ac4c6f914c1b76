import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseFilters } from '@nestjs/common';
import { CheckRefPipe } from './check-ref.pipe.js';
import { AlertingService } from '../../alerting/alerting.service.js';
import {
  acknowledgeDto,
  addSilenceDto,
  alertHistoryQuery,
  checkPolicyDto,
  maintenanceWindowDto,
  setRulesDto,
  unacknowledgeQuery,
  type AcknowledgeDto,
  type AddSilenceDto,
  type AlertHistoryQuery,
  type CheckPolicyDto,
  type MaintenanceWindowDto,
  type SetRulesDto,
  type UnacknowledgeQuery,
} from '../../alerting/alerting.dto.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { Audit } from '../audit-context.js';
import type { AuditContext } from '../../audit/audit.types.js';

/** Alerts, their history and acknowledgements; rules, silences, maintenance windows and check policies. */
@Controller('api/v1')
@Access('viewer')
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
  history(@Query(new ZodPipe(alertHistoryQuery, 'invalid query')) query: AlertHistoryQuery) {
    return this.alerting.history(query);
  }

  @Get('alerts/:fingerprint')
  alert(@Param('fingerprint') fingerprint: string) {
    return this.alerting.alert(fingerprint);
  }

  /** `{comment, expiresAt?, by?}`: stops reminders until it expires or the alert resolves or changes severity. */
  @Post('alerts/:fingerprint/ack')
  @Access('operator')
  @HttpCode(200)
  acknowledge(
    @Param('fingerprint') fingerprint: string,
    @Body(new ZodPipe(acknowledgeDto, 'invalid acknowledgement')) ack: AcknowledgeDto,
    @Audit() context: AuditContext,
  ) {
    return this.alerting.acknowledge(fingerprint, ack, context);
  }

  @Delete('alerts/:fingerprint/ack')
  @Access('operator')
  @HttpCode(204)
  async unacknowledge(
    @Param('fingerprint') fingerprint: string,
    @Query(new ZodPipe(unacknowledgeQuery, 'invalid acknowledgement')) query: UnacknowledgeQuery,
    @Audit() context: AuditContext,
  ): Promise<void> {
    await this.alerting.unacknowledge(fingerprint, query.by, context);
  }

  @Get('alert-rules')
  rules() {
    return this.alerting.rules();
  }

  /** What the last forecast round said per forecast rule and series: crossing, steady, or why there is no forecast (too few points). */
  @Get('alert-rules/forecasts')
  forecasts() {
    return this.alerting.forecasts();
  }

  /** Replaces the whole list. */
  @Put('alert-rules')
  @Access('operator')
  setRules(@Body(new ZodPipe(setRulesDto, 'invalid alert rules')) rules: SetRulesDto, @Audit() context: AuditContext) {
    return this.alerting.setRules(rules, context);
  }

  @Get('silences')
  silences() {
    return this.alerting.silences();
  }

  @Post('silences')
  @Access('operator')
  addSilence(@Body(new ZodPipe(addSilenceDto, 'invalid silence')) silence: AddSilenceDto, @Audit() context: AuditContext) {
    return this.alerting.addSilence(silence, context);
  }

  /** Ends the silence now. */
  @Delete('silences/:id')
  @Access('operator')
  @HttpCode(204)
  async expireSilence(@Param('id') id: string, @Audit() context: AuditContext): Promise<void> {
    await this.alerting.expireSilence(id, context);
  }

  @Get('maintenance-windows')
  maintenanceWindows() {
    return this.alerting.maintenanceWindows();
  }

  /** Adds a window, or replaces the one with the same id. */
  @Post('maintenance-windows')
  @Access('operator')
  putMaintenanceWindow(@Body(new ZodPipe(maintenanceWindowDto, 'invalid maintenance window')) window: MaintenanceWindowDto, @Audit() context: AuditContext) {
    return this.alerting.putMaintenanceWindow(window, context);
  }

  @Delete('maintenance-windows/:id')
  @Access('operator')
  @HttpCode(204)
  async removeMaintenanceWindow(@Param('id') id: string, @Audit() context: AuditContext): Promise<void> {
    await this.alerting.removeMaintenanceWindow(id, context);
  }

  @Get('checks/:id/policy')
  checkPolicy(@Param('id', CheckRefPipe) id: string) {
    return this.alerting.checkPolicy(id);
  }

  /** `{failuresBeforeHard?, successesBeforeRecovery?, flap?, repeat?}`; `{}` goes back to the defaults. */
  @Put('checks/:id/policy')
  @Access('operator')
  setCheckPolicy(
    @Param('id', CheckRefPipe) id: string,
    @Body(new ZodPipe(checkPolicyDto, 'invalid check policy')) policy: CheckPolicyDto,
    @Audit() context: AuditContext,
  ) {
    return this.alerting.setCheckPolicy(id, policy, context);
  }
}
