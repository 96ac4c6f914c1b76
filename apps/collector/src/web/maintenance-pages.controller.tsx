import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import { maintenanceWindowDto } from '../alerting/alerting.dto.js';
import { AlertingService } from '../alerting/alerting.service.js';
import { isTimeZone } from '#rounds/common';
import { localInstant } from './page-range.js';
import { Access } from '../auth/access.decorator.js';
import type { AuditContext } from '../audit/audit.types.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { errorsByField, formText, pageViewer, sendPage } from './page-response.js';
import { EMPTY_MAINTENANCE_FORM, MaintenancePage, type MaintenanceForm, type MaintenanceModel } from './views/maintenance.page.js';

const DONE: Record<string, string> = { added: 'Window added.', deleted: 'Window deleted.' };
/** Maintenance windows in the browser: listed for everyone, added and deleted by operators. */
@Controller('maintenance')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class MaintenancePagesController {
  constructor(private readonly alerting: AlertingService) {}

  @Get()
  page(@Query() query: unknown, @Req() req: Request, @Res() res: Response): void {
    const done = DONE[formText(query, 'done', 10)];
    this.render(req, res, { form: EMPTY_MAINTENANCE_FORM, errors: {}, notice: done ? { kind: 'ok', text: done } : undefined });
  }

  @Post()
  @Access('operator')
  async add(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const rawDays = body && typeof body === 'object' ? (body as Record<string, unknown>)['days'] : undefined;
    const form: MaintenanceForm = {
      name: formText(body, 'name', 200),
      kind: formText(body, 'kind', 10),
      timeZone: formText(body, 'timeZone', 100).trim() || 'UTC',
      startsAt: formText(body, 'startsAt', 40),
      endsAt: formText(body, 'endsAt', 40),
      start: formText(body, 'start', 10),
      end: formText(body, 'end', 10),
      days: (Array.isArray(rawDays) ? rawDays : rawDays === undefined ? [] : [rawDays]).filter((d): d is string => typeof d === 'string'),
      matchers: formText(body, 'matchers', 5000),
      comment: formText(body, 'comment', 1000),
    };
    const matchers = form.matchers
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const common = { name: form.name, matchers, ...(form.comment ? { comment: form.comment } : {}) };
    const dto =
      form.kind === 'once'
        ? { ...common, kind: 'once', startsAt: localInstant(form.startsAt, form.timeZone), endsAt: localInstant(form.endsAt, form.timeZone) }
        : { ...common, kind: form.kind, timeZone: form.timeZone, start: form.start, end: form.end, ...(form.kind === 'weekly' ? { days: form.days } : {}) };
    const parsed = validateWith(maintenanceWindowDto, dto);
    if (!parsed.ok) {
      const errors = errorsByField(parsed.errors, 'name');
      if (form.kind === 'once' && !isTimeZone(form.timeZone))
        errors['timeZone'] ??= `${JSON.stringify(form.timeZone)} is not an IANA time zone name: write one like Europe/Berlin or UTC`;
      return this.render(req, res, { form, errors, notice: { kind: 'error', text: 'The window was not added: correct the fields marked below.' } }, 400);
    }
    await this.alerting.putMaintenanceWindow(parsed.value, context);
    res.redirect(303, '/maintenance?done=added');
  }

  @Post(':id/delete')
  @Access('operator')
  async remove(@Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.alerting.removeMaintenanceWindow(id, context);
    res.redirect(303, '/maintenance?done=deleted');
  }

  private render(req: Request, res: Response, extra: Pick<MaintenanceModel, 'form' | 'errors' | 'notice'>, status = 200): void {
    const viewer = pageViewer(req);
    const canAct = !!viewer && viewer.role !== 'viewer' && viewer.csrf !== '';
    sendPage(res, <MaintenancePage viewer={viewer} windows={this.alerting.maintenanceWindows()} canAct={canAct} {...extra} />, status);
  }
}
