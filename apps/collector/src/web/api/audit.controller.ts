import { Controller, Get, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { sendsCsv } from '../../shared/csv.js';
import { AuditService } from '../../audit/audit.service.js';
import { auditCsvQuery, auditQuery, type AuditQuery } from '../../audit/audit.dto.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { listAnswer } from './list-answer.js';

/** The audit log: every change from the API and the CLI, newest first. */
@Controller('api/v1')
@Access('admin')
@UseFilters(ApiErrorFilter)
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /**
   * `?from=&to=` (ISO time or epoch ms; `to` exclusive), `?actor=`, `?action=` (or `channel.*`), `?target=` (id or name),
   * `?sort=at|-at` (newest first by default), `?limit=` (≤ 1000) `&offset=`, or `?before=<id>` to page back; `X-Total-Count`.
   */
  @Get('audit')
  async list(@Query(new ZodPipe(auditQuery, 'invalid query')) query: AuditQuery, @Res({ passthrough: true }) res: Response) {
    return listAnswer(res, await this.audit.page(query));
  }

  /** The same filters as CSV (RFC 4180, cells that would start a spreadsheet formula prefixed with `'`); `?limit=` ≤ 100,000. */
  @Get('audit.csv')
  csv(@Query(new ZodPipe(auditCsvQuery, 'invalid query')) query: AuditQuery, @Res({ passthrough: true }) res: Response) {
    sendsCsv(res, 'rounds-audit.csv');
    return this.audit.csv(query);
  }
}
