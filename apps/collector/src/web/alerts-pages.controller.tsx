import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import { addSilenceDto, alertHistoryQuery } from '../alerting/alerting.dto.js';
import { AlertingService } from '../alerting/alerting.service.js';
import { Access } from '../auth/access.decorator.js';
import { signedInOf } from '../auth/access.guard.js';
import type { AuditContext } from '../audit/audit.types.js';
import { ConflictError, ValidationFailedError } from '../shared/errors.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { errorsByField, formText, pageViewer, sendPage } from './page-response.js';
import { ACK_FOR, AlertsPage, EMPTY_SILENCE_FORM, labelMatchers, type AlertsModel, type SilenceForm } from './views/alerts.page.js';

const DONE: Record<string, string> = {
  ack: 'Acknowledged: reminders stop until it expires, resolves or changes severity.',
  unack: 'Acknowledgement withdrawn.',
  silenced: 'Silence added: matching alerts stay quiet until it ends.',
  expired: 'Silence expired.',
};
const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

/** Alerts in the browser: what fires, acknowledging it with a comment and a term, and what happened last. */
@Controller('alerts')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class AlertsPagesController {
  constructor(private readonly alerting: AlertingService) {}

  @Get()
  async page(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const done = DONE[formText(query, 'done', 10)];
    // "Silence…" beside an alert: the form pre-filled with that alert's labels.
    const alert = this.alerting.alerts().find((a) => a.fingerprint === formText(query, 'silence', 100));
    const silenceForm = alert ? { ...EMPTY_SILENCE_FORM, matchers: labelMatchers(alert.labels) } : EMPTY_SILENCE_FORM;
    await this.render(req, res, { notice: done ? { kind: 'ok', text: done } : undefined, silenceForm });
  }

  @Post('silences')
  @Access('operator')
  async addSilence(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const form: SilenceForm = {
      matchers: formText(body, 'matchers', 5000),
      duration: formText(body, 'duration', 40).trim(),
      endsAt: formText(body, 'endsAt', 40).trim(),
      comment: formText(body, 'comment', 1000),
    };
    const matchers = form.matchers
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    // A datetime-local has no zone: the form says UTC.
    const endsAt = LOCAL.test(form.endsAt) ? `${form.endsAt}:00Z` : form.endsAt;
    const parsed = validateWith(addSilenceDto, {
      matchers,
      comment: form.comment,
      createdBy: signedInOf(req)!.principal.name,
      ...(form.duration ? { duration: form.duration } : {}),
      ...(endsAt ? { endsAt } : {}),
    });
    let errors = parsed.ok ? {} : errorsByField(parsed.errors, 'matchers');
    if (parsed.ok) {
      try {
        await this.alerting.addSilence(parsed.value, context);
        return res.redirect(303, '/alerts?done=silenced');
      } catch (e) {
        if (!(e instanceof ValidationFailedError)) throw e;
        errors = errorsByField(e.errors, 'matchers');
      }
    }
    await this.render(
      req,
      res,
      { silenceForm: form, silenceErrors: errors, notice: { kind: 'error', text: 'The silence was not added: correct the fields marked below.' } },
      400,
    );
  }

  @Post('silences/:id/expire')
  @Access('operator')
  async expireSilence(@Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.alerting.expireSilence(id, context);
    res.redirect(303, '/alerts?done=expired');
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

  private async render(
    req: Request,
    res: Response,
    extra: Pick<AlertsModel, 'notice' | 'refused'> & Partial<Pick<AlertsModel, 'silenceForm' | 'silenceErrors'>>,
    status = 200,
  ): Promise<void> {
    const viewer = pageViewer(req);
    const alerts = this.alerting.alerts();
    const { page: history } = await this.alerting.history(alertHistoryQuery.parse({ limit: 50 }));
    const canAct = !!viewer && viewer.role !== 'viewer' && viewer.csrf !== '';
    sendPage(
      res,
      <AlertsPage
        viewer={viewer}
        alerts={alerts}
        history={history}
        canAct={canAct}
        silences={this.alerting.silences()}
        silenceForm={EMPTY_SILENCE_FORM}
        silenceErrors={{}}
        {...extra}
      />,
      status,
    );
  }
}
