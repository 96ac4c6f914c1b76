import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { validateWith } from '#rounds/plugins';
import type { AuditContext } from '../audit/audit.types.js';
import { Access } from '../auth/access.decorator.js';
import { overrideDto } from '../on-call/on-call.dto.js';
import { OnCallService, SCHEDULE_ORDER } from '../on-call/on-call.service.js';
import { ValidationFailedError } from '../shared/errors.js';
import { UsersService } from '../users/users.service.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { localInstant } from './page-range.js';
import { errorsByField, formText, pageViewer, sendPage } from './page-response.js';
import type { FieldErrors } from './views/layout.js';
import { EMPTY_OVERRIDE_FORM, OnCallPage, type OnCallModel, type OverrideForm, type ScheduleSection } from './views/on-call.page.js';

const DONE: Record<string, string> = { 'override-added': 'Override added.', 'override-removed': 'Override removed.' };
const WEEK_MS = 7 * 86_400_000;

/** On-call schedules in the browser: who is on call, for everyone; overrides added and removed by admins (as in the API). */
@Controller('on-call')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class OnCallPagesController {
  constructor(
    private readonly onCall: OnCallService,
    private readonly users: UsersService,
  ) {}

  @Get()
  async page(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const done = DONE[formText(query, 'done', 20)];
    await this.render(req, res, { form: EMPTY_OVERRIDE_FORM, errors: {}, notice: done ? { kind: 'ok', text: done } : undefined });
  }

  @Post(':schedule/overrides')
  @Access('admin')
  async addOverride(
    @Param('schedule') id: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
    @Audit() context: AuditContext,
  ): Promise<void> {
    const schedule = await this.onCall.get(id);
    const form: OverrideForm = {
      schedule: schedule.id,
      user: formText(body, 'user', 200),
      start: formText(body, 'start', 40),
      end: formText(body, 'end', 40),
      comment: formText(body, 'comment', 1000),
    };
    // The form's times are wall-clock times where the team is, as its handoffs are.
    const instants = { start: localInstant(form.start, schedule.timeZone), end: localInstant(form.end, schedule.timeZone) };
    const parsed = validateWith(overrideDto, { user: form.user, ...instants, ...(form.comment.trim() ? { comment: form.comment } : {}) });
    const errors: FieldErrors = parsed.ok ? {} : errorsByField(parsed.errors, 'user');
    // The DTO's words are the API's (a time is ISO with a zone or epoch ms): a form says what to choose or type.
    if (form.user.trim() === '') errors['user'] = 'choose who is on call instead';
    for (const field of ['start', 'end'] as const) {
      const value = instants[field];
      if (typeof value !== 'number') errors[field] = value === undefined ? 'is required' : 'must be a date and time, like 2026-12-24T08:00';
    }
    if (parsed.ok) {
      try {
        await this.onCall.addOverride(schedule.id, parsed.value, context);
        return res.redirect(303, '/on-call?done=override-added');
      } catch (e) {
        // An unknown user: who exists is the service's to say.
        if (!(e instanceof ValidationFailedError)) throw e;
        Object.assign(errors, errorsByField(e.errors, 'user'));
      }
    }
    await this.render(req, res, { form, errors, notice: { kind: 'error', text: 'The override was not added: correct the fields marked below.' } }, 400);
  }

  @Post(':schedule/overrides/:id/delete')
  @Access('admin')
  async removeOverride(@Param('schedule') schedule: string, @Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.onCall.removeOverride(schedule, id, context);
    res.redirect(303, '/on-call?done=override-removed');
  }

  private async render(req: Request, res: Response, extra: Pick<OnCallModel, 'form' | 'errors' | 'notice'>, status = 200): Promise<void> {
    const viewer = pageViewer(req);
    // As the API: only admins change on-call schedules, overrides included.
    const canAct = !!viewer && viewer.role === 'admin' && viewer.csrf !== '';
    const schedules = (await this.onCall.list()).sort(SCHEDULE_ORDER.name);
    const sections = await Promise.all(
      schedules.map(async ({ id, name, timeZone, rotations, overrides }): Promise<ScheduleSection> => {
        const now = await this.onCall.now(id);
        // From the same instant as "now", so the first shift is the one under way.
        const { shifts } = await this.onCall.timeline(id, now.at, now.at + WEEK_MS);
        return {
          schedule: { id, name, timeZone },
          now,
          shifts,
          overrides: overrides.filter((o) => o.end > now.at).sort((a, b) => a.start - b.start),
          members: [...new Set(rotations.flatMap((r) => r.users))].sort(),
        };
      }),
    );
    const users = canAct
      ? (await this.users.list())
          .filter((u) => !u.disabled)
          .map((u) => u.name)
          .sort()
      : [];
    sendPage(res, <OnCallPage viewer={viewer} schedules={sections} users={users} canAct={canAct} {...extra} />, status);
  }
}
