import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import {
  ALERT_FILTERS,
  ALERT_ORDER,
  FORECAST_FILTERS,
  FORECAST_ORDER,
  RULE_FILTERS,
  RULE_ORDER,
  SILENCE_FILTERS,
  SILENCE_ORDER,
  WINDOW_FILTERS,
  WINDOW_ORDER,
} from '../../alerting/alert-lists.js';
import { CheckRefPipe } from './check-ref.pipe.js';
import { AlertingService } from '../../alerting/alerting.service.js';
import {
  acknowledgeDto,
  addSilenceDto,
  alertHistoryQuery,
  checkPolicyDto,
  listAlertsQuery,
  listForecastsQuery,
  listRulesQuery,
  listSilencesQuery,
  listWindowsQuery,
  maintenanceWindowDto,
  setRulesDto,
  unacknowledgeQuery,
  type AcknowledgeDto,
  type AddSilenceDto,
  type AlertHistoryQuery,
  type CheckPolicyDto,
  type ListAlertsQuery,
  type ListForecastsQuery,
  type ListRulesQuery,
  type ListSilencesQuery,
  type ListWindowsQuery,
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

  /**
   * Pending and firing alerts (and resolved ones whose "resolved" is still to go out), with why each is muted;
   * `?state=&severity=&check=&agent=&name=&acknowledged=` filter, `?sort=` (newest first by default), `?limit=&offset=`.
   */
  @Get('alerts')
  alerts(@Query(new ZodPipe(listAlertsQuery, 'invalid query')) query: ListAlertsQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(this.alerting.alerts(), query, ALERT_ORDER, ALERT_FILTERS));
  }

  /**
   * Every transition and notification, newest first: `?fingerprint=&name=&check=&agent=&kind=&severity=&label=&from=&to=` filter,
   * `?sort=at|-at`, `?limit=` (default 100) `&offset=`, or `?before=<id>` to page back.
   */
  @Get('alerts/history')
  async history(@Query(new ZodPipe(alertHistoryQuery, 'invalid query')) query: AlertHistoryQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, await this.alerting.history(query));
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

  /** `?name=&metric=&severity=` filter, `?sort=` (as set by default), `?limit=&offset=`. */
  @Get('alert-rules')
  rules(@Query(new ZodPipe(listRulesQuery, 'invalid query')) query: ListRulesQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(this.alerting.rules(), query, RULE_ORDER, RULE_FILTERS));
  }

  /**
   * What the last forecast round said per forecast rule and series: crossing, steady, or why there is no forecast (too few points);
   * `?rule=&state=&check=` filter, `?sort=rule|series|crossesAt` (as the round gave them by default), `?limit=&offset=`.
   */
  @Get('alert-rules/forecasts')
  forecasts(@Query(new ZodPipe(listForecastsQuery, 'invalid query')) query: ListForecastsQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(this.alerting.forecasts(), query, FORECAST_ORDER, FORECAST_FILTERS));
  }

  /** Replaces the whole list. */
  @Put('alert-rules')
  @Access('operator')
  setRules(@Body(new ZodPipe(setRulesDto, 'invalid alert rules')) rules: SetRulesDto, @Audit() context: AuditContext) {
    return this.alerting.setRules(rules, context);
  }

  /** `?active=&createdBy=` filter, `?sort=startsAt|endsAt|createdAt` (as added by default), `?limit=&offset=`. */
  @Get('silences')
  silences(@Query(new ZodPipe(listSilencesQuery, 'invalid query')) query: ListSilencesQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(this.alerting.silences(), query, SILENCE_ORDER, SILENCE_FILTERS));
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

  /** `?name=&kind=&open=` filter, `?sort=name|next` (as added by default), `?limit=&offset=`. */
  @Get('maintenance-windows')
  maintenanceWindows(@Query(new ZodPipe(listWindowsQuery, 'invalid query')) query: ListWindowsQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(this.alerting.maintenanceWindows(), query, WINDOW_ORDER, WINDOW_FILTERS));
  }

  /** Adds a window, or replaces the one with the same id. */
  @Post('maintenance-windows')
  @Access('operator')
  putMaintenanceWindow(@Body(new ZodPipe(maintenanceWindowDto, 'invalid maintenance window')) window: MaintenanceWindowDto, @Audit() context: AuditContext) {
    return this.alerting.putMaintenanceWindow(window, context);
  }

  /** `:id` or the window's name when only it has that name. */
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
