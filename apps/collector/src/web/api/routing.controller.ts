import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { AlertingService } from '../../alerting/alerting.service.js';
import { POLICY_FILTERS, POLICY_ORDER, PoliciesService } from '../../routing/policies.service.js';
import {
  explainDto,
  listPoliciesQuery,
  policyDto,
  routingSettingsDto,
  type ExplainDto,
  type ListPoliciesQuery,
  type PolicyDto,
  type RoutingSettingsDto,
} from '../../routing/routing.dto.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { Audit } from '../audit-context.js';
import type { AuditContext } from '../../audit/audit.types.js';

/** Notification policies (by id or name), the routing settings, and where an alert's notifications go and when. */
@Controller('api/v1')
@Access('viewer')
@UseFilters(ApiErrorFilter)
export class RoutingController {
  constructor(
    private readonly policies: PoliciesService,
    private readonly alerting: AlertingService,
  ) {}

  /** In judging order by default; `?name=` filter, `?sort=position|name`, `?limit=&offset=`. */
  @Get('notification-policies')
  async list(@Query(new ZodPipe(listPoliciesQuery, 'invalid query')) query: ListPoliciesQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(await this.policies.list(), query, POLICY_ORDER, POLICY_FILTERS));
  }

  @Get('notification-policies/:ref')
  get(@Param('ref') ref: string) {
    return this.policies.get(ref);
  }

  @Post('notification-policies')
  @Access('admin')
  create(@Body(new ZodPipe(policyDto, 'invalid notification policy')) dto: PolicyDto, @Audit() context: AuditContext) {
    return this.policies.create(dto, context);
  }

  /** Which policies would take an alert with these labels and severity at `at` (default now), and whom each step would reach when. Writes nothing. */
  @Post('notification-policies/explain')
  @HttpCode(200)
  explain(@Body(new ZodPipe(explainDto, 'invalid routing question')) dto: ExplainDto) {
    return this.policies.explain(dto);
  }

  @Put('notification-policies/:ref')
  @Access('admin')
  replace(@Param('ref') ref: string, @Body(new ZodPipe(policyDto, 'invalid notification policy')) dto: PolicyDto, @Audit() context: AuditContext) {
    return this.policies.replace(ref, dto, context);
  }

  @Delete('notification-policies/:ref')
  @Access('admin')
  @HttpCode(204)
  async remove(@Param('ref') ref: string, @Audit() context: AuditContext): Promise<void> {
    await this.policies.remove(ref, context);
  }

  @Get('notification-routing')
  settings() {
    return this.policies.settings();
  }

  @Put('notification-routing')
  @Access('admin')
  setSettings(@Body(new ZodPipe(routingSettingsDto, 'invalid routing settings')) dto: RoutingSettingsDto, @Audit() context: AuditContext) {
    return this.policies.setSettings(dto, context);
  }

  /** The policies the alert's labels and severity meet, and its escalation timeline: sent, pending (with due times) and cancelled steps. */
  @Get('alerts/:fingerprint/routing')
  alertRouting(@Param('fingerprint') fingerprint: string) {
    return this.policies.explainAlert(this.alerting.alert(fingerprint));
  }
}
