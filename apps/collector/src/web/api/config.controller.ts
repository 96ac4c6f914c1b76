import { Body, Controller, Get, HttpCode, Post, Query, UseFilters } from '@nestjs/common';
import { ConfigDocumentService } from '../../config-document/config-document.service.js';
import { applyConfigDto, exportConfigQuery, type ApplyConfigDto, type ExportConfigQuery } from '../../config-document/config-document.js';
import { ApiErrorFilter } from './error.filter.js';
import { Access } from '../../auth/access.decorator.js';
import { ZodPipe } from '../zod.pipe.js';
import { Audit } from '../audit-context.js';
import type { AuditContext } from '../../audit/audit.types.js';

/**
 * Configuration as code (`rounds-collector config export|apply`): admins only — the document
 * holds every agent's address, and with `?secrets=true` every password.
 */
@Controller('api/v1/config')
@Access('admin')
@UseFilters(ApiErrorFilter)
export class ConfigController {
  constructor(private readonly config: ConfigDocumentService) {}

  /** The document; `?secrets=true` puts the secrets in instead of `{env: …}` references (audited). */
  @Get()
  export(@Query(new ZodPipe(exportConfigQuery, 'invalid query')) query: ExportConfigQuery, @Audit() context: AuditContext) {
    return this.config.export(query.secrets, context);
  }

  /** `{document, prune?}` → the plan; nothing is written. */
  @Post('plan')
  @HttpCode(200)
  plan(@Body(new ZodPipe(applyConfigDto, 'invalid config document')) dto: ApplyConfigDto) {
    return this.config.plan(dto);
  }

  /** `{document, prune?}` → `{plan, applied}`: every change in one transaction, or none. */
  @Post('apply')
  @HttpCode(200)
  apply(@Body(new ZodPipe(applyConfigDto, 'invalid config document')) dto: ApplyConfigDto, @Audit() context: AuditContext) {
    return this.config.apply(dto, context);
  }
}
