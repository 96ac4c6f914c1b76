import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import { Access } from '../auth/access.decorator.js';
import type { AuditContext } from '../audit/audit.types.js';
import { submitEnrolmentsDto } from '../enrolment/enrolment.dto.js';
import { EnrolmentsService } from '../enrolment/enrolments.service.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { EnrolManyPage, type EnrolManyModel } from './views/enrol-many.page.js';
import type { NoticeKind } from './views/layout.js';

/** The longest list the form takes: the API's body limit is what really bounds it. */
const CSV_MAX = 256 * 1024;

const DONE: Record<string, { kind: NoticeKind; text: string }> = {
  submitted: { kind: 'ok', text: 'List saved: each agent is being contacted. Those that answer wait below for your approval.' },
  approved: { kind: 'ok', text: 'Approved: the agents are being claimed with the site key, and polled once enrolled.' },
  dismissed: { kind: 'ok', text: 'Line dismissed.' },
};

/**
 * Enrolling many agents with a site key (admins): the key, a list pasted or read from a file,
 * and each line's progress with the fingerprints to approve. Registered before the agent pages,
 * so that /agents/enrol-many is not taken for the page of an agent of that name.
 */
@Controller('agents')
@Access('admin')
@UseFilters(PageErrorFilter)
export class EnrolmentPagesController {
  constructor(private readonly enrolments: EnrolmentsService) {}

  @Get('enrol-many')
  async page(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.render(req, res, { notice: DONE[formText(query, 'done', 12)] });
  }

  /** The list: refused whole with the lines at fault named, or saved and contacted in the background. */
  @Post('enrol-many')
  async submit(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const csv = formText(body, 'csv', CSV_MAX);
    const parsed = validateWith(submitEnrolmentsDto, { csv });
    if (!parsed.ok) {
      const csvError = parsed.errors.map((e) => e.message).join('\n');
      return this.render(req, res, { csv, csvError, notice: { kind: 'error', text: 'Nothing saved: correct the list as said below it.' } }, 400);
    }
    try {
      await this.enrolments.submit(parsed.value.csv, context);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      return this.render(req, res, { csv, notice: { kind: 'error', text: e.message } }, 409);
    }
    res.redirect(303, '/agents/enrol-many?done=submitted');
  }

  /** The lines the page showed as waiting (one field, comma-separated), approved together or not at all. */
  @Post('enrol-many/approve')
  async approve(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const ids = formText(body, 'ids', 200_000)
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
    try {
      if (ids.length === 0) throw new ConflictError('nothing to approve: no agent was waiting when the page was drawn');
      await this.enrolments.approve(ids, context);
    } catch (e) {
      if (!(e instanceof ConflictError) && !(e instanceof NotFoundError)) throw e;
      return this.render(req, res, { notice: { kind: 'error', text: `${e.message}. Reload the page to see where each line is now.` } }, 409);
    }
    res.redirect(303, '/agents/enrol-many?done=approved');
  }

  @Post('enrol-many/:id/dismiss')
  async dismiss(@Param('id') id: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    try {
      await this.enrolments.dismiss(id, context);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      return this.render(req, res, { notice: { kind: 'error', text: e.message } }, 409);
    }
    res.redirect(303, '/agents/enrol-many?done=dismissed');
  }

  /** A new site key, shown on the page this once (never in an address, where history and logs would keep it). */
  @Post('site-key')
  async makeSiteKey(@Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const made = await this.enrolments.makeSiteKey(context);
    await this.render(req, res, { newKey: made.key, notice: { kind: 'ok', text: 'New site key made: copy it now, it is not shown again.' } });
  }

  private async render(req: Request, res: Response, m: Partial<EnrolManyModel>, status = 200): Promise<void> {
    const [siteKey, enrolments] = await Promise.all([this.enrolments.siteKeyStatus(), this.enrolments.list()]);
    sendPage(res, <EnrolManyPage viewer={pageViewer(req)} siteKey={siteKey} enrolments={enrolments} csv="" {...m} />, status);
  }
}
