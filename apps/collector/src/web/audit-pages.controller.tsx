import { Controller, Get, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import { auditQuery } from '../audit/audit.dto.js';
import { AuditService } from '../audit/audit.service.js';
import { AUDIT_ACTIONS } from '../audit/audit.types.js';
import { Access } from '../auth/access.decorator.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { AuditPage, type AuditForm } from './views/audit.page.js';

const PAGE = 100;

/** The audit log in the browser (admins, as the API): filters, pages back, CSV. */
@Controller('audit')
@Access('admin')
@UseFilters(PageErrorFilter)
export class AuditPagesController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  async page(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const form: AuditForm = {
      actor: formText(query, 'actor', 200),
      action: formText(query, 'action', 64),
      target: formText(query, 'target', 200),
      from: formText(query, 'from', 40),
      to: formText(query, 'to', 40),
    };
    const before = formText(query, 'before', 20);
    const filled = Object.fromEntries(Object.entries({ ...form, before }).filter(([, v]) => v !== ''));
    const parsed = validateWith(auditQuery, { ...filled, limit: String(PAGE) });
    const errors = parsed.ok ? {} : Object.fromEntries(parsed.errors.map((e) => [e.field || 'from', e.message]));
    const rows = parsed.ok ? await this.audit.list(parsed.value) : [];
    const filters = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== ''));
    const older = rows.length === PAGE ? new URLSearchParams([...filters, ['before', String(rows.at(-1)!.id)]]).toString() : null;
    sendPage(
      res,
      <AuditPage
        viewer={pageViewer(req)}
        form={form}
        errors={errors}
        rows={rows}
        older={older}
        csvHref={`/api/v1/audit.csv?${filters.toString()}`}
        actions={AUDIT_ACTIONS}
      />,
      parsed.ok ? 200 : 400,
    );
  }
}
