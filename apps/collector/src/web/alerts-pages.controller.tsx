import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AlertingService } from '../alerting/alerting.service.js';
import { Access } from '../auth/access.decorator.js';
import { signedInOf } from '../auth/access.guard.js';
import type { AuditContext } from '../audit/audit.types.js';
import { ConflictError, ValidationFailedError } from '../shared/errors.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, pageViewer, sendPage } from './page-response.js';
import { ACK_FOR, AlertsPage, type AlertsModel } from './views/alerts.page.js';

const DONE: Record<string, string> = {
  ack: 'Acknowledged: reminders stop until it expires, resolves or changes severity.',
  unack: 'Acknowledgement withdrawn.',
};

/** Alerts in the browser: what fires, acknowledging it with a comment and a term, and what happened last. */
@Controller('alerts')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class AlertsPagesController {
  constructor(private readonly alerting: AlertingService) {}

  @Get()
  async page(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const done = DONE[formText(query, 'done', 10)];
    await this.render(req, res, { notice: done ? { kind: 'ok', text: done } : undefined });
  }

  @Post(':fingerprint/ack')
  @Access('operator')
  async acknowledge(
    @Param('fingerprint') fingerprint: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
    @Audit() context: AuditContext,
  ): Promise<void> {
    const comment = formText(body, 'comment', 1000);
    const term = ACK_FOR[formText(body, 'for', 20)] ?? ACK_FOR['resolved']!;
    try {
      await this.alerting.acknowledge(
        fingerprint,
        { comment, expiresAt: term.ms === null ? null : Date.now() + term.ms, by: signedInOf(req)!.principal.name },
        context,
      );
    } catch (e) {
      if (!(e instanceof ValidationFailedError || e instanceof ConflictError)) throw e;
      const message = e instanceof ValidationFailedError ? (e.errors[0]?.message ?? e.message) : e.message;
      return this.render(req, res, { refused: { fingerprint, comment, message }, notice: { kind: 'error', text: `Not acknowledged: ${message}` } }, 400);
    }
    res.redirect(303, '/alerts?done=ack');
  }

  @Post(':fingerprint/unack')
  @Access('operator')
  async withdraw(@Param('fingerprint') fingerprint: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.alerting.unacknowledge(fingerprint, signedInOf(req)!.principal.name, context);
    res.redirect(303, '/alerts?done=unack');
  }

  private async render(req: Request, res: Response, extra: Pick<AlertsModel, 'notice' | 'refused'>, status = 200): Promise<void> {
    const viewer = pageViewer(req);
    const alerts = this.alerting.alerts();
    const history = await this.alerting.history({ limit: 50 });
    const canAct = !!viewer && viewer.role !== 'viewer' && viewer.csrf !== '';
    sendPage(res, <AlertsPage viewer={viewer} alerts={alerts} history={history} canAct={canAct} {...extra} />, status);
  }
}
