import { Body, Controller, Get, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { signedInOf } from '../auth/access.guard.js';
import type { AuditContext } from '../audit/audit.types.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { USER_ROLES } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, sendPage, viewerOf } from './page-response.js';
import { UsersPage, type UsersModel } from './views/users.page.js';

type Extra = Omit<UsersModel, 'viewer' | 'roles' | 'users'>;

/** Admins manage users in the browser, as `rounds-collector user …` does on the machine. */
@Controller('users')
@Access('admin')
@UseFilters(PageErrorFilter)
export class UsersPagesController {
  constructor(private readonly users: UsersService) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.render(req, res, {});
  }

  @Post()
  async add(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const form = { name: formText(body, 'name', 200), role: formText(body, 'role', 50) };
    const done = await this.attempt(req, res, form, () => this.users.add(form, context));
    if (done)
      await this.render(req, res, {
        password: { name: done.user.name, password: done.password! },
        notice: { kind: 'ok', text: `Added ${done.user.name} (${done.user.role}).` },
      });
  }

  @Post(':name/role')
  async setRole(@Param('name') name: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const done = await this.attempt(req, res, {}, () => this.users.setRole(name, formText(body, 'role', 50), context));
    if (done) await this.render(req, res, { notice: { kind: 'ok', text: `${done.name} is now ${done.role}.` } });
  }

  @Post(':name/disable')
  async disable(@Param('name') name: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const done = await this.attempt(req, res, {}, () => this.users.setDisabled(name, true, context));
    if (done)
      await this.render(req, res, { notice: { kind: 'ok', text: `${done.name} is disabled and signed out everywhere; their API tokens stop working.` } });
  }

  @Post(':name/enable')
  async enable(@Param('name') name: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const done = await this.attempt(req, res, {}, () => this.users.setDisabled(name, false, context));
    if (done) await this.render(req, res, { notice: { kind: 'ok', text: `${done.name} is enabled.` } });
  }

  @Post(':name/reset-password')
  async resetPassword(@Param('name') name: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const done = await this.attempt(req, res, {}, () => this.users.resetPassword(name, context));
    if (done) await this.render(req, res, { password: { name: done.user.name, password: done.password } });
  }

  @Post(':name/reset-2fa')
  async resetTwoFactor(@Param('name') name: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const done = await this.attempt(req, res, {}, () => this.users.resetTwoFactor(name, context));
    if (done)
      await this.render(req, res, {
        notice: { kind: 'ok', text: `Two-factor sign-in of ${done.name} is off; they sign in with the password and may set it up again.` },
      });
  }

  /** Runs a change; a refusal re-renders the page with the field errors (400) or the conflict (409) and gives undefined. */
  private async attempt<T>(req: Request, res: Response, form: { name?: string; role?: string }, change: () => Promise<T>): Promise<T | undefined> {
    try {
      return await change();
    } catch (e) {
      if (e instanceof ValidationFailedError) {
        await this.render(
          req,
          res,
          { form, errors: Object.fromEntries(e.errors.map((f) => [f.field, f.message])), notice: { kind: 'error', text: e.message } },
          400,
        );
      } else if (e instanceof ConflictError) {
        await this.render(req, res, { form, errors: e.field ? { [e.field]: e.message } : {}, notice: { kind: 'error', text: e.message } }, 409);
      } else throw e;
      return undefined;
    }
  }

  private async render(req: Request, res: Response, extra: Extra, status = 200): Promise<void> {
    const me = signedInOf(req);
    if (!me) throw new NotFoundError('the users page is for a signed-in browser; with an API token use /api/v1/users');
    sendPage(res, <UsersPage viewer={viewerOf(me)} roles={USER_ROLES} users={await this.users.list()} {...extra} />, status);
  }
}
