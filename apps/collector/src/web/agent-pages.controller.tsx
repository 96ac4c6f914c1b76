import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { validateWith } from '#rounds/plugins';
import type { AuditContext } from '../audit/audit.types.js';
import { enrolAgentDto } from '../inventory/agents.dto.js';
import { ConflictError, ValidationFailedError } from '../shared/errors.js';
import { CurrentState } from '../state/current-state.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { isSealed, secretBoxOf } from '../storage/secret-box.js';
import { Audit } from './audit-context.js';
import { tagsFrom } from './form-tags.js';
import { AgentsPage, EnrolConfirmPage, type AgentsModel, type EnrolForm } from './views/agents.page.js';
import { ConfirmPage } from './views/confirm.page.js';
import type { FieldErrors, NoticeKind } from './views/layout.js';
import type { Request, Response } from 'express';
import { Access } from '../auth/access.decorator.js';
import { HistoryService } from '../history/history.service.js';
import { AgentsService } from '../inventory/agents.service.js';
import { ChecksService } from '../inventory/checks.service.js';
import { PageErrorFilter } from './page-error.filter.js';
import { errorsByField, formText, pageViewer, sendPage } from './page-response.js';
import { AgentPage, hostChartSeries } from './views/agent.page.js';
import { pageRange } from './page-range.js';

const DONE: Record<string, { kind: NoticeKind; text: string }> = {
  enrolled: { kind: 'ok', text: 'Agent enrolled: it answered, and is polled from now on. Add its checks below.' },
  unreachable: {
    kind: 'info',
    text: 'Agent enrolled, but it did not answer yet: it is polled from now on and shown DOWN until it answers (its last error says why).',
  },
  rotated: { kind: 'ok', text: 'Token rotated: the agent took the new token and no longer accepts the old one.' },
  rotating: {
    kind: 'info',
    text: 'Token rotated: the agent wrote the new token, but did not answer the first call with it — it accepts the old and the new token until the next poll.',
  },
};

/** The agents pages: every agent, enrolment (paste, compare the fingerprint, enrol), deletion, and an agent's own page (state, checks, host metrics). */
@Controller('agents')
@Access('viewer')
@UseFilters(PageErrorFilter)
export class AgentPagesController {
  constructor(
    private readonly agents: AgentsService,
    private readonly checks: ChecksService,
    private readonly history: HistoryService,
    private readonly state: CurrentState,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  @Get()
  async list(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const done = formText(query, 'done', 10) === 'deleted' ? 'Agent deleted, with its checks and their history.' : undefined;
    await this.renderList(req, res, { form: { name: '', enrol: '', tags: '' }, errors: {}, notice: done ? { kind: 'ok', text: done } : undefined });
  }

  /** Enrolment, step one: the pasted string read and its fingerprint shown to compare; nothing saved yet. */
  @Post('enrol')
  @Access('operator')
  async enrolCheck(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const form: EnrolForm = { name: formText(body, 'name', 100).trim(), enrol: formText(body, 'enrol', 2000).trim(), tags: formText(body, 'tags', 5000) };
    const tags = tagsFrom(form.tags);
    const parsed = validateWith(enrolAgentDto, { name: form.name, enrol: form.enrol, tags: tags.tags });
    const errors: FieldErrors = parsed.ok ? {} : errorsByField(parsed.errors, 'enrol');
    if (tags.error) errors['tags'] = tags.error;
    if (!parsed.ok || tags.error) {
      return this.renderList(req, res, { form, errors, notice: { kind: 'error', text: 'Not enrolled: correct the fields marked below.' } }, 400);
    }
    const { host, port, fingerprint } = parsed.value.enrol;
    // The string holds the agent's token: it goes back to the browser sealed, not in clear.
    const sealed = secretBoxOf(this.dataSource).seal(form.enrol);
    sendPage(
      res,
      <EnrolConfirmPage viewer={pageViewer(req)} name={form.name} host={host} port={port} fingerprint={fingerprint} sealed={sealed} tags={form.tags} />,
    );
  }

  /** Enrolment, step two: the fingerprint was confirmed — the agent is contacted and registered. */
  @Post()
  @Access('operator')
  async enrol(@Body() body: unknown, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    const form: EnrolForm = { name: formText(body, 'name', 100), enrol: '', tags: formText(body, 'tags', 5000) };
    const sealed = formText(body, 'sealed', 4000);
    let enrol = '';
    try {
      if (!isSealed(sealed)) throw new Error('not sealed');
      enrol = secretBoxOf(this.dataSource).open(sealed, 'the enrolment string');
    } catch {
      return this.renderList(req, res, { form, errors: { enrol: 'paste the enrolment string again (the one from the first step could not be read)' } }, 400);
    }
    const parsed = validateWith(enrolAgentDto, { name: form.name, enrol, tags: tagsFrom(form.tags).tags });
    if (!parsed.ok)
      return this.renderList(req, res, { form: { ...form, enrol }, errors: { enrol: parsed.errors[0]?.message ?? 'not an enrolment string' } }, 400);
    try {
      const agent = await this.agents.enrol(parsed.value, context);
      res.redirect(303, `/agents/${agent.id}?done=${agent.warning ? 'unreachable' : 'enrolled'}`);
    } catch (e) {
      if (!(e instanceof ValidationFailedError) && !(e instanceof ConflictError)) throw e;
      const field = e instanceof ConflictError ? (e.field ?? 'name') : (e.errors[0]?.field ?? 'enrol');
      const message = e instanceof ConflictError ? e.message : (e.errors[0]?.message ?? e.message);
      return this.renderList(
        req,
        res,
        { form: { ...form, enrol }, errors: { [field]: message }, notice: { kind: 'error', text: 'Not enrolled: see the field marked below.' } },
        400,
      );
    }
  }

  /** Asks first: deleting an agent deletes its checks and their history. */
  @Get(':id/delete')
  @Access('operator')
  async confirmDelete(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const agent = await this.agents.getView(id);
    const checks = (await this.checks.listViews(agent.id)).length;
    sendPage(
      res,
      <ConfirmPage
        viewer={pageViewer(req)}
        title={`Delete ${agent.name}?`}
        text={`Rounds stops polling ${agent.name} (${agent.host}:${agent.port}), and its ${checks} check${checks === 1 ? '' : 's'} are deleted with their results and history. The agent itself keeps running until it is uninstalled. This cannot be undone.`}
        action={`/agents/${agent.id}/delete`}
        button="Delete the agent"
        cancel={`/agents/${agent.id}`}
      />,
    );
  }

  @Post(':id/delete')
  @Access('operator')
  async remove(@Param('id') id: string, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    await this.agents.remove(id, context);
    res.redirect(303, '/agents?done=deleted');
  }

  /** A new token for the agent; when the agent cannot take it, its page says why and that nothing changed. */
  @Post(':id/rotate-token')
  @Access('operator')
  async rotateToken(@Param('id') id: string, @Req() req: Request, @Res() res: Response, @Audit() context: AuditContext): Promise<void> {
    try {
      const agent = await this.agents.rotateToken(id, context);
      res.redirect(303, `/agents/${agent.id}?done=${agent.warning ? 'rotating' : 'rotated'}`);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      await this.renderPage(id, {}, req, res, { kind: 'error', text: `Token not rotated: ${e.message}` }, 409);
    }
  }

  @Get(':id')
  async page(@Param('id') id: string, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.renderPage(id, query, req, res, DONE[formText(query, 'done', 12)]);
  }

  private async renderPage(id: string, query: unknown, req: Request, res: Response, notice: { kind: NoticeKind; text: string } | undefined, status = 200) {
    const agent = await this.agents.getView(id);
    const range = pageRange(query, Date.now());
    const [checks, series] = await Promise.all([this.checks.listViews(agent.id), this.history.agentSeries(agent.id)]);
    sendPage(res, <AgentPage viewer={pageViewer(req)} agent={agent} checks={checks} series={hostChartSeries(series)} range={range} notice={notice} />, status);
  }

  private async renderList(req: Request, res: Response, m: Pick<AgentsModel, 'form' | 'errors' | 'notice'>, status = 200): Promise<void> {
    const viewer = pageViewer(req);
    const agents = (await this.agents.listViews()).map((a) => ({ ...a, checks: this.state.checkCount(a.id) }));
    sendPage(res, <AgentsPage viewer={viewer} agents={agents} canEnrol={!!viewer && viewer.role !== 'viewer' && viewer.csrf !== ''} {...m} />, status);
  }
}
