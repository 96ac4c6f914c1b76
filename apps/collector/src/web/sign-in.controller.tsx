import { Body, Controller, Get, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { CsrfRefusedException, STAGE_PAGES } from '../auth/access.guard.js';
import type { SessionEntity, SessionStage } from '../auth/session.entity.js';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from '../auth/session-cookie.js';
import { SessionsService } from '../auth/sessions.service.js';
import { SignInService } from '../auth/sign-in.service.js';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';
import { ValidationFailedError } from '../shared/errors.js';
import { TwoFactorService } from '../users/two-factor.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { auditContextOf } from './audit-context.js';
import { PageErrorFilter } from './page-error.filter.js';
import { formText, localPath, sendPage } from './page-response.js';
import { BackupCodesPage, ChangePasswordStepPage, EnrolPage, SecondFactorPage, SignInPage } from './views/sign-in.pages.js';

const ENDED: Record<string, string> = {
  idle: 'Your session ended after 30 minutes without activity. Sign in again.',
  absolute: 'Your session ended 12 hours after you signed in. Sign in again.',
  step: 'Signing in took too long. Start again.',
};

/**
 * Signing in, step by step: password, then the second factor, a forced password change or a
 * forced two-factor enrolment when they apply. Each step is a session of its own stage; passing a
 * step replaces it with a new id. These routes are public to the access guard (a half-signed-in
 * browser must reach them) and check the step's session and its CSRF token themselves.
 */
@Controller()
@Access('public')
@UseFilters(PageErrorFilter)
export class SignInController {
  constructor(
    private readonly signIn: SignInService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly twoFactor: TwoFactorService,
  ) {}

  @Get('sign-in')
  form(@Query('next') next: unknown, @Query('ended') ended: unknown, @Res() res: Response): void {
    sendPage(res, <SignInPage next={localPath(next)} notice={typeof ended === 'string' ? ENDED[ended] : undefined} />);
  }

  @Post('sign-in')
  async submit(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const name = formText(body, 'name', 10_000).trim();
    const password = formText(body, 'password', 10_000);
    const next = localPath(formText(body, 'next'));
    const refuse = (status: number, error: string) => sendPage(res, <SignInPage next={next} name={name.slice(0, 64)} error={error} />, status);
    if (name === '' || password === '') return refuse(400, 'enter your user name and your password');
    if (name.length > 64 || password.length > 1024) return refuse(400, 'the user name (64 characters at most) or the password (1,024 at most) is too long');
    const outcome = await this.signIn.password(name, password, { ...auditContextOf(req), actor: name.slice(0, 64), source: 'ui' });
    if (!outcome.ok) {
      if (outcome.retryAfterMs) res.setHeader('Retry-After', String(Math.ceil(outcome.retryAfterMs / 1000)));
      return refuse(outcome.retryAfterMs ? 429 : 401, outcome.message);
    }
    await this.advance(req, res, outcome.user, 'password', undefined, next);
  }

  @Get('sign-in/two-factor')
  async secondFactorForm(@Req() req: Request, @Res() res: Response): Promise<void> {
    const step = await this.step(req, res, 'two-factor');
    if (step) sendPage(res, <SecondFactorPage csrf={step.session.csrfToken} />);
  }

  @Post('sign-in/two-factor')
  async secondFactor(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const step = await this.step(req, res, 'two-factor', body);
    if (!step) return;
    const context = this.context(req, step.user);
    const code = formText(body, 'code', 100);
    if ((await this.twoFactor.verify(step.user.name, code, context)) !== null) {
      await this.advance(req, res, step.user, 'second-factor', step.session);
      return;
    }
    const outcome = await this.signIn.secondFactorFailed(step.user, context);
    if (!outcome.ok && outcome.retryAfterMs) {
      // Locked: this half-finished sign-in ends; the password step is refused until the lock ends.
      await this.sessions.close(step.session, []);
      clearSessionCookie(req, res);
      res.setHeader('Retry-After', String(Math.ceil(outcome.retryAfterMs / 1000)));
      sendPage(res, <SignInPage next="/" error={outcome.message} />, 429);
      return;
    }
    sendPage(res, <SecondFactorPage csrf={step.session.csrfToken} error={outcome.ok ? undefined : outcome.message} />, 401);
  }

  @Get('sign-in/password')
  async passwordForm(@Req() req: Request, @Res() res: Response): Promise<void> {
    const step = await this.step(req, res, 'password');
    if (step) sendPage(res, <ChangePasswordStepPage csrf={step.session.csrfToken} />);
  }

  @Post('sign-in/password')
  async changePassword(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const step = await this.step(req, res, 'password', body);
    if (!step) return;
    const password = formText(body, 'password', 1024);
    if (password !== formText(body, 'confirm', 1024)) {
      sendPage(res, <ChangePasswordStepPage csrf={step.session.csrfToken} errors={{ confirm: 'the two passwords differ' }} />, 400);
      return;
    }
    try {
      // The password was checked at this step's start: the current one is not asked again.
      await this.users.changePassword(step.user.id, null, password, this.context(req, step.user));
    } catch (e) {
      if (!(e instanceof ValidationFailedError)) throw e;
      sendPage(res, <ChangePasswordStepPage csrf={step.session.csrfToken} errors={Object.fromEntries(e.errors.map((f) => [f.field, f.message]))} />, 400);
      return;
    }
    const user = await this.users.findById(step.user.id);
    if (user) await this.advance(req, res, user, 'second-factor', step.session);
  }

  @Get('sign-in/enrol')
  async enrolForm(@Req() req: Request, @Res() res: Response): Promise<void> {
    const step = await this.step(req, res, 'enrol');
    if (step) sendPage(res, await this.enrolPage(step.session, step.user, '/sign-in/enrol'));
  }

  @Post('sign-in/enrol')
  async enrol(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const step = await this.step(req, res, 'enrol', body);
    if (!step) return;
    const secret = this.twoFactor.openPending(step.session.pendingTotpSecret, step.user.name);
    try {
      if (secret === null) throw new ValidationFailedError('expired', [{ field: 'code', message: 'the key shown expired — scan the new one' }]);
      const { backupCodes } = await this.twoFactor.enable(step.user.name, secret, formText(body, 'code', 100), this.context(req, step.user));
      const user = await this.users.findById(step.user.id);
      if (!user) return;
      await this.advance(req, res, user, 'second-factor', step.session, undefined, (r) => sendPage(r, <BackupCodesPage codes={backupCodes} next="/" />));
    } catch (e) {
      if (!(e instanceof ValidationFailedError)) throw e;
      sendPage(res, await this.enrolPage(step.session, step.user, '/sign-in/enrol', e.errors[0]?.message), 400);
    }
  }

  /** Sign-out, also of a half-finished sign-in: public, checked against the session's own CSRF token. */
  @Post('sign-out')
  async signOut(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const found = await this.sessions.resolve(readSessionCookie(req));
    if (found && !('expired' in found)) {
      if (!this.sessions.csrfMatches(found.session, formText(body, '_csrf', 200) || req.headers['x-csrf-token'])) {
        throw new CsrfRefusedException('this sign-out form is out of date or came from another site — reload the page and sign out again');
      }
      const context = this.context(req, found.user);
      await this.sessions.close(found.session, [
        { context, action: 'user.sign-out', target: { kind: 'user', id: found.user.id, name: found.user.name }, before: null, after: null },
      ]);
    }
    clearSessionCookie(req, res);
    res.redirect(303, '/sign-in');
  }

  /**
   * Replaces the session (none before the password step) with one at the user's next stage and
   * sends the browser on: to the next step's page, or, signed in, to `next` (or `done`).
   */
  private async advance(
    req: Request,
    res: Response,
    user: UserEntity,
    passed: 'password' | 'second-factor',
    from: SessionEntity | undefined,
    next = '/',
    done?: (res: Response) => void,
  ): Promise<void> {
    const stage = this.signIn.nextStage(user, passed, this.twoFactor.requiredFor(user.role));
    const context = this.context(req, user);
    const audit: AuditDraft[] =
      stage === 'full' ? [{ context, action: 'user.sign-in', target: { kind: 'user', id: user.id, name: user.name }, before: null, after: null }] : [];
    const { cookie } = await this.sessions.open(user, stage, { address: context.address, userAgent: context.userAgent }, audit, from);
    setSessionCookie(req, res, cookie);
    if (stage !== 'full') res.redirect(303, STAGE_PAGES[stage]);
    else if (done) done(res);
    else res.redirect(303, next);
  }

  /** The session of an unfinished `stage`, or a redirect to where the browser belongs (and undefined). */
  private async step(
    req: Request,
    res: Response,
    stage: Exclude<SessionStage, 'full'>,
    body?: unknown,
  ): Promise<{ session: SessionEntity; user: UserEntity } | undefined> {
    const found = await this.sessions.resolve(readSessionCookie(req));
    if (found === null || 'expired' in found) {
      res.redirect(303, found ? '/sign-in?ended=step' : '/sign-in');
      return undefined;
    }
    if (found.session.stage !== stage) {
      res.redirect(303, found.session.stage === 'full' ? '/' : STAGE_PAGES[found.session.stage]);
      return undefined;
    }
    if (body !== undefined && !this.sessions.csrfMatches(found.session, formText(body, '_csrf', 200))) {
      throw new CsrfRefusedException('this form is out of date or came from another site (CSRF token missing or wrong) — reload the page and try again');
    }
    return found;
  }

  private async enrolPage(session: SessionEntity, user: UserEntity, action: string, error?: string) {
    const { secret, qrSvg, sealed } = await this.twoFactor.beginSealed(user.name, error ? session.pendingTotpSecret : null);
    await this.sessions.setPendingTotpSecret(session, sealed);
    return <EnrolPage csrf={session.csrfToken} qrSvgDataUri={svgDataUri(qrSvg)} secret={secret} action={action} required error={error} />;
  }

  private context(req: Request, user: Pick<UserEntity, 'name'>): AuditContext {
    return { ...auditContextOf(req), actor: user.name, source: 'ui' };
  }
}

export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
