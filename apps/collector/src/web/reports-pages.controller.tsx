import { Controller, Get, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import { Access } from '../auth/access.decorator.js';
import { slaQuery } from '../history/history.dto.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { SlaReportService } from './sla-report.service.js';
import { SlaPage, type SlaForm } from './views/sla.page.js';

/** The last calendar month (UTC) as `YYYY-MM`: what the form shows first. */
function lastMonth(now: number): string {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

/** Reports for people: the monthly SLA report as a page to read and print. */
@Controller('reports')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class ReportsPagesController {
  constructor(private readonly sla: SlaReportService) {}

  @Get('sla')
  async slaPage(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const now = Date.now();
    const form: SlaForm = {
      month: formText(query, 'month', 20) || lastMonth(now),
      by: formText(query, 'by', 20) || 'check',
      key: formText(query, 'key', 60),
      tag: formText(query, 'tag', 300),
      maintenance: formText(query, 'maintenance', 20) || 'exclude',
    };
    // Empty fields are absent, as the API reads them.
    const parsed = validateWith(slaQuery, Object.fromEntries(Object.entries(form).filter(([, v]) => v !== '')));
    const errors = parsed.ok ? {} : Object.fromEntries(parsed.errors.map((e) => [e.field || 'month', e.message]));
    const report = parsed.ok ? await this.sla.report(parsed.value) : null;
    const csv = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== ''));
    sendPage(
      res,
      <SlaPage viewer={pageViewer(req)} form={form} errors={errors} report={report} csvHref={`/api/v1/reports/sla.csv?${csv.toString()}`} generatedAt={now} />,
      parsed.ok ? 200 : 400,
    );
  }
}
