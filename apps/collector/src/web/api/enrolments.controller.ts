import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { listPage } from '../../shared/dto.js';
import { listAnswer } from './list-answer.js';
import { Access } from '../../auth/access.decorator.js';
import type { AuditContext } from '../../audit/audit.types.js';
import {
  approveEnrolmentsDto,
  listEnrolmentsQuery,
  setSiteKeyDto,
  submitEnrolmentsDto,
  type ApproveEnrolmentsDto,
  type ListEnrolmentsQuery,
  type SetSiteKeyDto,
  type SubmitEnrolmentsDto,
} from '../../enrolment/enrolment.dto.js';
import { ENROLMENT_FILTERS, ENROLMENT_ORDER, EnrolmentsService } from '../../enrolment/enrolments.service.js';
import { Audit } from '../audit-context.js';
import { ZodPipe } from '../zod.pipe.js';
import { ApiErrorFilter } from './error.filter.js';

/**
 * Enrolling many agents with the site key (admins): the key, lists of `name,address[,tags]`, and
 * approving the agents that answered — each by the fingerprint of its certificate.
 */
@Controller('api/v1')
@Access('admin')
@UseFilters(ApiErrorFilter)
export class EnrolmentsController {
  constructor(private readonly enrolments: EnrolmentsService) {}

  /** Whether there is a site key, since when and by whom — never the key. */
  @Get('site-key')
  siteKey() {
    return this.enrolments.siteKeyStatus();
  }

  /** A new random site key, in place of any other: the answer is the only time it is shown. */
  @Post('site-key')
  makeSiteKey(@Audit() context: AuditContext) {
    return this.enrolments.makeSiteKey(context);
  }

  /** `{key}`: a site key made elsewhere, agents already installed with it. */
  @Put('site-key')
  setSiteKey(@Body(new ZodPipe(setSiteKeyDto, 'invalid site key')) dto: SetSiteKeyDto, @Audit() context: AuditContext) {
    return this.enrolments.setSiteKey(dto.key, context);
  }

  @Delete('site-key')
  @HttpCode(204)
  async removeSiteKey(@Audit() context: AuditContext): Promise<void> {
    await this.enrolments.removeSiteKey(context);
  }

  /** `{csv}`: the agents to enrol, `name,address[,tags]` a line; 202 — each is contacted in the background (GET /enrolments?batch= shows how far). */
  @Post('agents/enrol')
  @HttpCode(202)
  submit(@Body(new ZodPipe(submitEnrolmentsDto, 'invalid list of agents')) dto: SubmitEnrolmentsDto, @Audit() context: AuditContext) {
    return this.enrolments.submit(dto.csv, context);
  }

  /** `?batch=&state=&name=`: every line of every list, newest list first; `?sort=submitted|name|state`, `?limit=&offset=`. */
  @Get('enrolments')
  async list(@Query(new ZodPipe(listEnrolmentsQuery, 'invalid query')) query: ListEnrolmentsQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, listPage(await this.enrolments.list(query), query, ENROLMENT_ORDER, ENROLMENT_FILTERS));
  }

  @Get('enrolments/:id')
  get(@Param('id') id: string) {
    return this.enrolments.get(id);
  }

  /** `{ids}`: agents that answered and wait, approved by their fingerprints; 202 — claimed in the background. */
  @Post('enrolments/approve')
  @HttpCode(202)
  approve(@Body(new ZodPipe(approveEnrolmentsDto, 'invalid approval')) dto: ApproveEnrolmentsDto, @Audit() context: AuditContext) {
    return this.enrolments.approve(dto.ids, context);
  }

  /** Drops a line that is not being worked on. */
  @Delete('enrolments/:id')
  @HttpCode(204)
  async dismiss(@Param('id') id: string, @Audit() context: AuditContext): Promise<void> {
    await this.enrolments.dismiss(id, context);
  }
}
