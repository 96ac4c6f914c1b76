import { Body, Controller, Get, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { signedInOf, type SignedIn } from '../auth/access.guard.js';
import { ApiTokensService } from '../auth/api-tokens.service.js';
import { SessionsService } from '../auth/sessions.service.js';
import type { AuditContext } from '../audit/audit.types.js';
import { parseDuration } from '../cli/parse-duration.js';
import { NotFoundError, ValidationFailedError, ConflictError } from '../shared/errors.js';
import { TwoFactorService } from '../users/two-factor.service.js';
import { UsersService } from '../users/users.service.js';
import { Audit } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, sendPage, viewerOf } from './page-response.js';
import { svgDataUri } from './sign-in.controller.js';
import { AccountPage, type AccountModel } from './views/account.page.js';
import { BackupCodesPage, EnrolPage } from './views/sign-in.pages.js';

type Extra = Omit<AccountModel, 'viewer' | 'twoFactor' | 'backupCodesLeft' | 'sessions' | 'tokens'>;

function fieldErrors(e: ValidationFailedError | ConflictError): Record<string, string> {
  return e instanceof ValidationFailedError ? Object.fromEntries(e.errors.map((f) => [f.field, f.message])) : { [e.field ?? 'name']: e.message };
}

/** The signed-in user's own account: every user may change their password, two-factor, sessions and tokens. */
@Controller('account')
@Access('self')
@UseFilters(PageErrorFilter)
export class AccountController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly tokens: ApiTokensService,
    private readonly twoFactor: TwoFactorService,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.render(req, res, {});
  }

  @Post('password')
  async changePassword(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const me = this.me(req);
    const password = formText(body, 'password', 1024);
    if (password !== formText(body, 'confirm', 1024)) return this.render(req, res, { passwordErrors: { confirm: 'the two passwords differ' } }, 400);
    try {
      await this.users.changePassword(me.principal.userId, formText(body, 'current', 1024), password, context);
    } catch (e) {
      if (e instanceof ValidationFailedError) return this.render(req, res, { passwordErrors: fieldErrors(e) }, 400);
      throw e;
    }
    // Whoever else held a session of this user (perhaps why the password changed) is signed out.
    const ended = await this.sessions.endAll({ id: me.principal.userId, name: me.principal.name }, context, me.session.id);
    await this.render(req, res, { notice: { kind: 'ok', text: `Password changed${ended > 0 ? `; ${ended} other session(s) signed out` : ''}.` } });
  }

  @Post('two-factor')
  async beginTwoFactor(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.enrolPage(req, res);
  }

  @Post('two-factor/confirm')
  async confirmTwoFactor(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const me = this.me(req);
    const secret = this.twoFactor.openPending(me.session.pendingTotpSecret, me.principal.name);
    if (secret === null) return this.enrolPage(req, res, 'the key shown expired — scan the new one');
    try {
      const { backupCodes } = await this.twoFactor.enable(me.principal.name, secret, formText(body, 'code', 100), context);
      await this.sessions.setPendingTotpSecret(me.session, null);
      sendPage(res, <BackupCodesPage codes={backupCodes} next="/account" signedIn={viewerOf(me)} />);
    } catch (e) {
      if (e instanceof ValidationFailedError) return this.enrolPage(req, res, e.errors[0]?.message ?? e.message);
      throw e;
    }
  }

  @Post('backup-codes')
  async backupCodes(@Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const me = this.me(req);
    const { backupCodes } = await this.twoFactor.regenerateBackupCodes(me.principal.name, context);
    sendPage(res, <BackupCodesPage codes={backupCodes} next="/account" signedIn={viewerOf(me)} />);
  }

  @Post('sessions/end-others')
  async endOthers(@Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const me = this.me(req);
    const ended = await this.sessions.endAll({ id: me.principal.userId, name: me.principal.name }, context, me.session.id);
    await this.render(req, res, { notice: { kind: 'ok', text: `Signed out ${ended} other session(s).` } });
  }

  @Post('sessions/:id/end')
  async endSession(@Param('id') id: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const me = this.me(req);
    await this.sessions.end({ id: me.principal.userId, name: me.principal.name }, id, context);
    await this.render(req, res, { notice: { kind: 'ok', text: 'That session is signed out.' } });
  }

  @Post('tokens')
  async createToken(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const me = this.me(req);
    const name = formText(body, 'name', 200).trim();
    const expiresIn = formText(body, 'expiresIn', 50).trim();
    let expiresInMs: number | undefined;
    if (expiresIn !== '') {
      try {
        expiresInMs = parseDuration(expiresIn, 'expires after');
      } catch (e) {
        return this.render(req, res, { tokenName: name, tokenErrors: { expiresIn: (e as Error).message } }, 400);
      }
    }
    try {
      const { token } = await this.tokens.create(me.principal.name, { name, ...(expiresInMs === undefined ? {} : { expiresInMs }) }, context);
      await this.render(req, res, { newToken: { name, token } });
    } catch (e) {
      if (e instanceof ValidationFailedError || e instanceof ConflictError) return this.render(req, res, { tokenName: name, tokenErrors: fieldErrors(e) }, 400);
      throw e;
    }
  }

  @Post('tokens/:id/revoke')
  async revokeToken(@Param('id') id: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const me = this.me(req);
    // Only one's own, also for an admin here: another user's token id is "not found" (ids are not confirmed to exist).
    await this.tokens.revoke(id, context, { owner: me.principal.name });
    await this.render(req, res, { notice: { kind: 'ok', text: 'Token revoked: it stops working at once.' } });
  }

  private me(req: Request): SignedIn {
    const me = signedInOf(req);
    // Routes here are `self`: the access guard has signed a browser in or refused it. An API token has no session to manage.
    if (!me) throw new NotFoundError('the account pages are for a signed-in browser; with an API token use /api/v1/me, /api/v1/tokens and /api/v1/sessions');
    return me;
  }

  private async enrolPage(req: Request, res: Response, error?: string): Promise<void> {
    const me = this.me(req);
    const { secret, qrSvg, sealed } = await this.twoFactor.beginSealed(me.principal.name, error ? me.session.pendingTotpSecret : null);
    await this.sessions.setPendingTotpSecret(me.session, sealed);
    sendPage(
      res,
      <EnrolPage
        csrf={me.session.csrfToken}
        qrSvgDataUri={svgDataUri(qrSvg)}
        secret={secret}
        action="/account/two-factor/confirm"
        required={false}
        error={error}
        signedIn={viewerOf(me)}
      />,
      error ? 400 : 200,
    );
  }

  private async render(req: Request, res: Response, extra: Extra, status = 200): Promise<void> {
    const me = this.me(req);
    const user = await this.users.findById(me.principal.userId);
    if (!user) throw new NotFoundError('this user no longer exists');
    const [sessions, tokens, backupCodesLeft] = await Promise.all([
      this.sessions.list(user.id, me.session.id),
      this.tokens.list(user.name),
      this.twoFactor.remainingBackupCodes(user.name),
    ]);
    sendPage(
      res,
      <AccountPage
        viewer={viewerOf(me)}
        twoFactor={user.totpSecret !== null}
        backupCodesLeft={backupCodesLeft}
        sessions={sessions}
        tokens={tokens}
        {...extra}
      />,
      status,
    );
  }
}
